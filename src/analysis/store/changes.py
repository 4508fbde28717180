"""The refresh diff: which series of a concept to compare, read from the store, diffed per country.

Two ways to pair series (each pair is two series of one catalogue ``concept``):

- :func:`compare_vintages`, within one store: the series of one source against the series of another
  (``--from sdg2020 --to sdg2023``). By default, every older vintage of a source family against the
  newest one present in the catalogue for that concept (a family is a source id without its trailing
  year: ``sdg2020`` and ``sdg2023`` are vintages of ``sdg``; see
  :func:`analysis.rules.vintage_diff.vintage_pairs`).
- :func:`compare_stores`, the previously published store against a new build (what the main job
  runs when a source vintage changed): each concept's current series in each store.

Only estimates enter the diff: projections and values flagged suspect (kept out of charts and medians)
are left out. Countries default to the focus countries. The rule itself (revised, added, dropped,
latest before and after) is :func:`analysis.rules.vintage_diff.diff_series`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core import paths, settings
from analysis.core.errors import AnalysisError, StoreError
from analysis.rules import vintage_diff
from analysis.store import api
from analysis.store import reader as store

__all__ = ["ADDED", "CHANGE_KINDS", "DROPPED", "KINDS", "LATEST_CHANGED", "LATEST_SAME", "REVISED", "UNCHANGED",
           "Changes", "Pair", "Series", "compare_stores", "compare_vintages", "store_vintages", "vintage_changes"]

# The kinds of rows of a diff, for presentation (which asks the store, not the rules).
ADDED, DROPPED, REVISED = vintage_diff.ADDED, vintage_diff.DROPPED, vintage_diff.REVISED
UNCHANGED = vintage_diff.UNCHANGED
LATEST_CHANGED, LATEST_SAME = vintage_diff.LATEST_CHANGED, vintage_diff.LATEST_SAME
KINDS, CHANGE_KINDS = vintage_diff.KINDS, vintage_diff.CHANGE_KINDS

_COLUMNS = ["iso3", "year", "indicator_id", "value", "source_id", "vintage", "current", "projection", "flag"]
#: how many rows each "largest changes" table holds
LARGEST = 15


@dataclass(frozen=True)
class Series:
    """One side of a pair: an indicator id and the source(s) and vintage(s) of its rows."""

    indicator_id: str
    source_id: str
    vintage: str

    def label(self) -> str:
        return f"{self.indicator_id} ({self.source_id} {self.vintage})".replace(" ()", "")


@dataclass(frozen=True)
class Pair:
    """Two series of one concept; ``old`` or ``new`` is None where that side has no series."""

    concept: str
    old: Series | None
    new: Series | None


@dataclass
class Changes:
    """What was compared and what changed (see the module docstring)."""

    mode: str  # "vintages" (one store, two sources) or "stores" (published store against a new build)
    compared: str  # one sentence: what was compared with what
    countries: list[str] | None  # None: every economy
    pairs: list[Pair]
    diff: pd.DataFrame  # concept + analysis.rules.vintage_diff.COLUMNS
    names: dict[str, str]  # iso3 -> country name
    scope: str = "every economy in the store"  # the countries, in words
    notes: list[str] = field(default_factory=list)

    def changes_only(self) -> pd.DataFrame:
        return self.diff.loc[self.diff["change"].isin(vintage_diff.CHANGE_KINDS).to_numpy(dtype=bool)]

    def counts(self) -> dict[str, int]:
        """Rows of each kind (:data:`analysis.rules.vintage_diff.KINDS`)."""
        found = self.diff["change"].value_counts()
        return {kind: int(found.get(kind, 0)) for kind in vintage_diff.KINDS}

    def largest_latest(self, n: int = LARGEST) -> pd.DataFrame:
        return vintage_diff.largest(self.diff, [vintage_diff.LATEST_CHANGED], n, ("concept", "iso3"))

    def largest_revisions(self, n: int = LARGEST) -> pd.DataFrame:
        return vintage_diff.largest(self.diff, [vintage_diff.REVISED], n, ("concept", "iso3"))


# ------------------------------------------------------------------------------------ the catalogue


def _catalogue() -> pd.DataFrame:
    frame = api.catalogue().loc[:, ["indicator_id", "concept", "source", "title", "unit"]]
    frame = frame.astype({"indicator_id": "string", "concept": "string", "source": "string"})
    return frame.fillna({"source": ""})


def concept_members() -> dict[str, list[str]]:
    """Concept -> its indicator ids, in catalogue order."""
    out: dict[str, list[str]] = {}
    for row in _catalogue().itertuples():
        out.setdefault(str(row.concept), []).append(str(row.indicator_id))
    return out


def current_series(concept: str, ids: Iterable[str]) -> str | None:
    """The concept's current series among ``ids`` (those a store holds): the catalogue's rule
    (:func:`analysis.store.api.current_series`), else the id spelled like the concept, else the first."""
    ids = list(ids)
    try:
        chosen = api.current_series(concept)
    except AnalysisError:  # a concept the catalogue no longer knows
        chosen = None
    if chosen in ids:
        return chosen
    if concept in ids:
        return concept
    return ids[0] if ids else None


# ------------------------------------------------------------------------------------ reading


def _rows(ids: list[str], iso3: list[str] | None, processed_dir: Path | str | None) -> pd.DataFrame:
    """Every vintage's estimates of ``ids`` (projections and suspect values left out)."""
    rows = store.read_indicators(ids, iso3, None, processed_dir=processed_dir, columns=_COLUMNS, vintage="all")
    keep = ~rows["projection"].to_numpy(dtype=bool) & (rows["flag"] != settings.SUSPECT_FLAG).fillna(True).to_numpy(
        dtype=bool)
    return rows.loc[keep].reset_index(drop=True)


def _series(rows: pd.DataFrame, indicator_id: str | None) -> Series | None:
    if indicator_id is None:
        return None
    mine = rows.loc[rows["indicator_id"] == indicator_id]
    if mine.empty:
        return None
    return Series(indicator_id, "+".join(sorted(mine["source_id"].astype(str).unique())),
                  "; ".join(sorted(mine["vintage"].astype(str).unique())))


def _countries(countries: str | Iterable[str] | None, processed_dir) -> list[str] | None:
    try:
        return api.resolve_countries(countries, processed_dir=processed_dir)
    except ValueError as exc:
        raise AnalysisError(f"changes: {exc}") from None


def _scope(countries: str | Iterable[str] | None, iso3: list[str] | None) -> str:
    if iso3 is None:
        return "every economy in the store"
    asked = store.as_list(countries) or []
    if asked == ["FOCUS"]:
        return f"the {len(iso3)} focus countries (ASEAN and the Plus Three)"
    return f"{', '.join(asked)} ({len(iso3)} economies)" if asked != iso3 else ", ".join(iso3)


def _one(rows: pd.DataFrame, series: Series | None) -> pd.DataFrame:
    """The rows of one series, one per country and year: where a series holds several vintages of a
    year, the current one, else the newest."""
    if series is None:
        return rows.iloc[:0]
    mine = rows.loc[rows["indicator_id"] == series.indicator_id]
    ordered = mine.sort_values(["current", "vintage"], kind="stable")
    return ordered.drop_duplicates(["iso3", "year"], keep="last")


def _diff(pairs: list[Pair], old_rows: pd.DataFrame, new_rows: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for pair in pairs:
        part = vintage_diff.diff_series(_one(old_rows, pair.old), _one(new_rows, pair.new))
        part.insert(0, "concept", pair.concept)
        parts.append(part)
    if not parts:
        empty = vintage_diff.diff_series(old_rows.iloc[:0], new_rows.iloc[:0])
        empty.insert(0, "concept", pd.Series(dtype="string"))
        return empty
    return pd.concat(parts, ignore_index=True).astype({"concept": "string"})


def _names(iso3: Iterable[str], *dirs: Path | str | None) -> dict[str, str]:
    names: dict[str, str] = {}
    for processed_dir in reversed(dirs):  # the newer store's names win
        try:
            names.update(api.country_names(processed_dir=processed_dir))
        except StoreError:
            continue
    return {code: names.get(code, code) for code in sorted(set(iso3))}


def _changes(mode: str, compared: str, countries: tuple, pairs: list[Pair], old_rows: pd.DataFrame,
             new_rows: pd.DataFrame, dirs: tuple, notes: list[str]) -> Changes:
    """``countries``: (as asked, as resolved)."""
    diff = _diff(pairs, old_rows, new_rows)
    return Changes(mode, compared, countries[1], pairs, diff, _names(diff["iso3"].astype(str), *dirs),
                   _scope(*countries), notes)


# ------------------------------------------------------------------------------------ (a) two vintages


def known_sources() -> list[str]:
    return sorted(api.registry().datasets)


def _check_source(option: str, source: str | None) -> None:
    known = known_sources()
    if source is not None and source not in known:
        raise AnalysisError(f"changes {option}: unknown source {source!r}; the sources of "
                            f"{paths.relative_to_root(paths.sources_file())} are {', '.join(known)}")


def _source_pairs(from_source: str | None, to_source: str | None, catalogue: pd.DataFrame,
                  rows: pd.DataFrame) -> list[tuple[str, str]]:
    """The (older, newer) source ids to compare: the ones asked, else every family's vintages."""
    if from_source is not None:
        return [(from_source, to_source)]
    vintages = rows.groupby("source_id", observed=True)["vintage"].max().astype(str).to_dict()
    in_catalogue = set(catalogue["source"].dropna().astype(str))
    return vintage_diff.vintage_pairs({s: v for s, v in vintages.items() if s in in_catalogue})


def _vintage_pairs(source_pairs: list[tuple[str, str]], catalogue: pd.DataFrame, rows: pd.DataFrame,
                   notes: list[str]) -> list[Pair]:
    present = set(rows["indicator_id"].astype(str))
    pairs = []
    for concept, ids in catalogue.groupby("concept", sort=True, observed=True):
        for old_source, new_source in source_pairs:
            old_ids = [i for i, s in zip(ids["indicator_id"], ids["source"], strict=True) if s == old_source]
            new_ids = [i for i, s in zip(ids["indicator_id"], ids["source"], strict=True) if s == new_source]
            old_ids, new_ids = [i for i in old_ids if i in present], [i for i in new_ids if i in present]
            if not (old_ids and new_ids):
                continue
            if len(old_ids) > 1 or len(new_ids) > 1:
                notes.append(f"concept {concept}: several series of one source ({', '.join(old_ids + new_ids)}); "
                             f"compared {old_ids[0]} with {new_ids[0]}")
            pairs.append(Pair(str(concept), _series(rows, old_ids[0]), _series(rows, new_ids[0])))
    return pairs


def compare_vintages(from_source: str | None = None, to_source: str | None = None, *,
                     countries: str | Iterable[str] | None = "FOCUS",
                     processed_dir: Path | str | None = None) -> Changes:
    """Within one store: per concept, the series of ``from_source`` against that of ``to_source``
    (both None: every older vintage of a source family against its newest; see the module docstring)."""
    if (from_source is None) != (to_source is None):
        raise AnalysisError("changes: give both --from and --to (source ids), or neither for every source "
                            "family's older vintages against its newest")
    _check_source("--from", from_source)
    _check_source("--to", to_source)
    if from_source is not None and from_source == to_source:
        raise AnalysisError(f"changes: --from and --to are both {from_source!r}; name two different sources")
    iso3 = _countries(countries, processed_dir)
    catalogue = _catalogue()
    shared = [c for c, ids in concept_members().items() if len(ids) > 1]
    catalogue = catalogue.loc[catalogue["concept"].isin(shared).to_numpy(dtype=bool)]
    rows = _rows(list(catalogue["indicator_id"].astype(str)), iso3, processed_dir)
    source_pairs = _source_pairs(from_source, to_source, catalogue, rows)
    notes: list[str] = []
    pairs = _vintage_pairs(source_pairs, catalogue, rows, notes)
    shown = ", ".join(f"{a} -> {b}" for a, b in source_pairs) or "none (no source with two vintages)"
    compared = (f"Within the store ({paths.relative_to_root(store.store_dir(processed_dir))}), each concept's "
                f"series of one source vintage against another: {shown}.")
    return _changes("vintages", compared, (countries, iso3), pairs, rows, rows, (processed_dir,), notes)


# ------------------------------------------------------------------------------------ (b) two stores


def _current_ids(rows: pd.DataFrame, members: dict[str, list[str]]) -> dict[str, str | None]:
    """Concept -> the id of its current series in one store's rows (None where it has none)."""
    present = set(rows.loc[rows["current"].to_numpy(dtype=bool), "indicator_id"].astype(str))
    return {concept: current_series(concept, [i for i in ids if i in present]) for concept, ids in members.items()}


def compare_stores(previous_dir: Path | str, processed_dir: Path | str | None = None, *,
                   countries: str | Iterable[str] | None = "FOCUS") -> Changes:
    """The previously published store (``previous_dir``) against ``processed_dir`` (default: the
    store): per concept of the catalogue, the current series of each."""
    if not store.table_path(store.INDICATORS, previous_dir).is_file():
        shown = paths.relative_to_root(Path(previous_dir)) if Path(previous_dir).is_absolute() else previous_dir
        raise AnalysisError(f"changes --previous-store: {shown} holds no "
                            f"{store.INDICATORS}.parquet (not a built store)")
    iso3 = _countries(countries, processed_dir)
    members = concept_members()
    ids = [i for group in members.values() for i in group]
    old_rows, new_rows = _rows(ids, iso3, previous_dir), _rows(ids, iso3, processed_dir)
    old_ids, new_ids = _current_ids(old_rows, members), _current_ids(new_rows, members)
    pairs = [Pair(c, _series(old_rows, old_ids[c]), _series(new_rows, new_ids[c])) for c in sorted(members)
             if old_ids[c] is not None or new_ids[c] is not None]
    old_current = old_rows.loc[old_rows["current"].to_numpy(dtype=bool)]
    new_current = new_rows.loc[new_rows["current"].to_numpy(dtype=bool)]
    compared = ("The store published before this refresh against the new build: each concept's current "
                "series in each.")
    return _changes("stores", compared, (countries, iso3), pairs, old_current, new_current,
                    (previous_dir, processed_dir), [])


# ------------------------------------------------------------------------------------ vintages of a store


def store_vintages(processed_dir: Path | str | None = None) -> dict[str, list[str]] | None:
    """Source id -> the vintages a store holds (derived values, whose source ids are joined by '+', are
    left out); the manifest's ``vintages`` when the build recorded them, else read from the indicators
    table. None when there is no readable store."""
    try:
        manifest = store.read_manifest(processed_dir)
        if isinstance(manifest.get("vintages"), dict):
            return {str(k): sorted(str(v) for v in (vs if isinstance(vs, list) else [vs]))
                    for k, vs in sorted(manifest["vintages"].items())}
        rows = store.read_indicators(None, None, None, processed_dir=processed_dir,
                                     columns=["source_id", "vintage"], vintage="all")
    except StoreError:
        return None
    pairs = rows.drop_duplicates().astype(str)
    pairs = pairs.loc[~pairs["source_id"].str.contains("+", regex=False)]
    return {s: sorted(group["vintage"]) for s, group in pairs.groupby("source_id", sort=True)}


def vintage_changes(previous_dir: Path | str, processed_dir: Path | str | None = None) -> list[str] | None:
    """How the source vintages of two stores differ, one line per source ([] when they do not); None
    when either store cannot be read (no previous store: there is nothing to compare)."""
    before, after = store_vintages(previous_dir), store_vintages(processed_dir)
    if before is None or after is None:
        return None
    lines = []
    for source in sorted(set(before) | set(after)):
        old, new = before.get(source), after.get(source)
        if old != new:
            lines.append(f"{source}: {', '.join(old) if old else 'none'} -> {', '.join(new) if new else 'none'}")
    return lines
