"""The public API the notebooks use: load, panel, latest, aggregate, catalogue, sources, countries.

Everything reads the store built by ``python -m analysis build`` (``data/processed/``); every
function takes ``processed_dir`` so tests can point it at a small synthetic store (or set
``ANALYSIS_PROJECT_ROOT``).

Countries may be given as ``None`` (all economies), a group name (``"FOCUS"``, ``"ASEAN"``,
``"ASEAN10"``, ``"PLUS_THREE"``, ``"ASEAN+3"``, ``"region:East Asia & Pacific"``,
``"income:High income"``), one ISO3 code, or a list mixing codes and group names.
Years may be ``None``, one year, a ``(start, end)`` tuple (inclusive; either end may be None) or a
list of years.

Missing data is shown, never filled: :func:`latest` keeps a row (value NaN, year <NA>) for a
country without a value in the window, :func:`panel` keeps requested countries and indicators
without data as NaN, and :func:`aggregate` reports a group value only when enough members report.

The rules (latest value in a window, group aggregates, bands, membership on a date) are pure
functions in :mod:`analysis.rules`; the build uses them to write ``latest.parquet`` and
``aggregates.parquet``, and the API calls the same functions with the same declared parameters
(windows from the catalogue, ``as_of`` and coverage from :mod:`analysis.core.settings`), so stored
and on-the-fly results agree. Where the question is the build's own (its windows, coverage and
composition, current series, economies it covered) :func:`latest` and :func:`aggregate` read those
stored tables instead of computing again, provided the manifest vouches that they were computed from
the indicators and countries tables beside them; otherwise they compute. Presentation (charts,
report, notebooks) asks this module only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.config import tables
from analysis.config.catalogue import Catalogue, NoSuchSeriesError, load_catalogue
from analysis.config.references import AFFECTS, ALL_COUNTRIES, areas_for, load_events, load_instruments, load_meetings
from analysis.config.registry import Registry, load_registry
from analysis.core import paths, settings
from analysis.core.errors import AnalysisError, StoreError
from analysis.core.fingerprint import bytes_sha256 as fingerprint_bytes
from analysis.rules import aggregates as agg_rules
from analysis.rules import membership
from analysis.rules.bands import band, band_symbol, judge
from analysis.rules.latest import compute_latest, nearest_year
from analysis.rules.messages import year_phrase  # noqa: F401 - public: the one wording of the years behind values
from analysis.store import reader as store
from analysis.store.reader import as_list

Countries = str | Iterable[str] | None
Years = int | tuple[int | None, int | None] | Iterable[int] | None


__all__ = [
    "load", "panel", "latest", "aggregate", "aggregate_members", "catalogue", "catalogue_gaps", "sources",
    "countries", "members", "display_order", "country_names", "population_weights", "as_of",
    "band", "band_symbol", "judge", "nearest_year", "compute_latest", "latest_window", "headline_indicators",
    "profile_indicators", "window_of", "tolerance_of", "direction_of", "min_difference_of", "events", "areas_of",
    "current_series", "series_of", "concept_of", "sex_gap",
]


# --------------------------------------------------------------------------------------------
# The reference date and the groups


def as_of(processed_dir: Path | str | None = None) -> date:
    """The membership date the store was built with (its manifest), else the pinned setting."""
    manifest = store.store_dir(processed_dir) / store.MANIFEST
    try:
        st = manifest.stat()
    except FileNotFoundError:
        return settings.AS_OF
    recorded = _recorded_as_of(str(manifest), st.st_mtime_ns, st.st_size)
    return recorded or settings.AS_OF


@lru_cache(maxsize=8)
def _recorded_as_of(path: str, mtime_ns: int, size: int) -> date | None:
    """The manifest's ``as_of`` per file version (every group resolution asks for it); None if absent."""
    recorded = store.read_manifest(Path(path).parent).get("as_of")
    return date.fromisoformat(recorded) if recorded else None


def members(group: str, *, on: str | date | None = None, processed_dir: Path | str | None = None) -> list[str]:
    """Sorted ISO3 codes of ``group`` as of ``on`` (default: the store's ``as_of``); see
    :mod:`analysis.rules.membership` for the group names."""
    return list(_group_members(group, on or as_of(processed_dir), store.file_version("countries", processed_dir)))


@lru_cache(maxsize=256)
def _group_members(group: str, on: str | date, countries_version: tuple[str, int, int]) -> tuple[str, ...]:
    """A group's members per version of the countries table: charts resolve the same groups hundreds of times."""
    table = store.read_table("countries", Path(countries_version[0]).parent)
    return tuple(membership.members(group, on=on, countries=table))


def display_order(processed_dir: Path | str | None = None) -> list[str]:
    """The fixed chart order of the focus countries: ASEAN members by name, then Plus Three by name."""
    return membership.display_order(store.read_table("countries", processed_dir))


# --------------------------------------------------------------------------------------------
# Argument resolution


def resolve_countries(countries: Countries, *, on: str | date | None = None,
                      processed_dir: Path | str | None = None) -> list[str] | None:
    """ISO3 codes for a ``countries`` argument (None stays None: all economies).

    Group names are expanded with :func:`analysis.rules.membership.members` against the store's countries
    table; an ISO3 code not in that table raises ValueError (a typo must not read as a gap).
    """
    items = as_list(countries)
    if items is None:
        return None
    version = store.file_version("countries", processed_dir)
    known = _known_iso3(version)
    out: list[str] = []
    unknown: list[str] = []
    for item in items:
        if membership.is_group(item):
            out += _group_members(item, on or as_of(processed_dir), version)
        elif item.strip().upper() in known:
            out.append(item.strip().upper())
        else:
            unknown.append(item)
    if unknown:
        raise ValueError(f"unknown country code(s) or group(s): {', '.join(unknown)}; groups are "
                         f"{', '.join(membership.GROUP_NAMES)}, region:<WB region>, income:<WB income group>")
    return list(dict.fromkeys(out))  # unique, first-mention order


@lru_cache(maxsize=8)
def _known_iso3(countries_version: tuple[str, int, int]) -> frozenset[str]:
    return frozenset(store.read_table("countries", Path(countries_version[0]).parent)["iso3"].astype(str))


def _check_indicators(indicators: str | Iterable[str] | None, processed_dir, source: str | None = None,
                      vintage: str | None = None) -> list[str] | None:
    """The store ids of the asked ones: an alias (earlier id) becomes its id, and with ``source`` or
    ``vintage`` each id becomes the member of its concept from that source / of that vintage."""
    wanted = as_list(indicators)
    pick = source is not None or vintage not in (None, store.ALL_VINTAGES)
    if wanted is None:
        if pick:
            raise AnalysisError(f"source={source!r} / vintage={vintage!r} pick a series of each named indicator's "
                                "concept: name the indicators")
        return None
    known = store.indicator_ids(processed_dir)
    cat = _catalogue()
    wanted = [cat.resolve(i).id if i not in known and i in cat else i for i in wanted]
    if pick:
        wanted = [cat.pick(i, source, None if vintage == store.ALL_VINTAGES else vintage) for i in wanted]
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise ValueError(f"indicator id(s) not in the store: {', '.join(unknown)} "
                         "(see analysis.catalogue() for the ids; rebuild the store if the catalogue changed)")
    return list(dict.fromkeys(wanted))


def _year_mask(year: pd.Series, years: Years) -> np.ndarray:
    if years is None:
        return np.ones(len(year), dtype=bool)
    if isinstance(years, (int, np.integer)):
        return (year == years).to_numpy(dtype=bool)
    if isinstance(years, tuple) and len(years) == 2:
        start, end = years
        mask = np.ones(len(year), dtype=bool)
        if start is not None:
            mask &= (year >= start).to_numpy(dtype=bool)
        if end is not None:
            mask &= (year <= end).to_numpy(dtype=bool)
        return mask
    return year.isin([int(y) for y in years]).to_numpy(dtype=bool)


def _with_names(frame: pd.DataFrame, processed_dir) -> pd.DataFrame:
    names = store.read_table("countries", processed_dir).loc[:, ["iso3", "name"]]
    out = frame.merge(names, on="iso3", how="left")
    cols = list(frame.columns)
    cols.insert(cols.index("iso3") + 1, "name")
    return out.loc[:, cols]


# --------------------------------------------------------------------------------------------
# Loading


def load(indicators: str | Iterable[str] | None = None, countries: Countries = None, years: Years = None, *,
         include_projections: bool = True, names: bool = True, source: str | None = None, vintage: str | None = None,
         detail: bool = False, processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Indicator values in long form.

    Columns: iso3, name (unless ``names=False``), year, indicator_id, value, unit, source_id,
    vintage, projection. Only observed values are rows; use :func:`panel` or :func:`latest` to
    see gaps. ``include_projections=False`` drops WPP projection rows. An earlier id (catalogue
    ``aliases``) reads its indicator. ``source=`` / ``vintage=`` read, instead of each named
    indicator, the member of its concept from that source / of that vintage (rows keep that
    member's id; NoSuchSeriesError naming the concept's series when none matches); without them
    each named indicator's own rows are read (``indicators=None``: the current series of every
    concept). ``vintage="all"`` returns every stored vintage of the named series. ``detail=True`` adds the
    table's detail columns (uncertainty bounds ``lower``/``upper``, ``current``, the suspect ``flag`` and
    its reason, ``observation_status``, ``nature``).

    >>> load(["pop_65plus_share"], countries="FOCUS", years=(2000, 2020))  # doctest: +SKIP
    >>> load("sp_cov_disability", source="sdg2023")  # the SDG database's series  # doctest: +SKIP
    """
    ind = _check_indicators(indicators, processed_dir, source, vintage)
    iso = resolve_countries(countries, processed_dir=processed_dir)
    frame = store.read_indicators(ind, iso, years, processed_dir=processed_dir,
                                  vintage=store.ALL_VINTAGES if vintage == store.ALL_VINTAGES else None,
                                  columns=tables.table("indicators").names(detail=detail))
    if not include_projections:
        frame = frame.loc[~frame["projection"].to_numpy(dtype=bool)].reset_index(drop=True)
    return _with_names(frame, processed_dir) if names else frame


def panel(indicators: str | Iterable[str], countries: Countries = "FOCUS", years: Years = None, *,
          include_projections: bool = True, source: str | None = None, vintage: str | None = None,
          processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Wide table: index (iso3, year), one column per indicator (in the order asked).

    Every requested country appears for every year that has any value among the requested
    indicators, and every requested indicator is a column, so gaps show as NaN. ``source`` /
    ``vintage`` pick another member of each indicator's concept, as in :func:`load` (the column
    is named by the member read).
    """
    ind = _check_indicators(indicators, processed_dir, source, vintage)
    iso = resolve_countries(countries, processed_dir=processed_dir)
    long = store.read_indicators(ind, iso, years, processed_dir=processed_dir,
                                 columns=["iso3", "year", "indicator_id", "value", "projection"])
    if not include_projections:
        long = long.loc[~long["projection"].to_numpy(dtype=bool)]
    wide = long.pivot(index=["iso3", "year"], columns="indicator_id", values="value")
    all_iso = iso if iso is not None else sorted(long["iso3"].astype(str).unique())
    year_values = np.sort(long["year"].unique())
    index = pd.MultiIndex.from_product([pd.Index(all_iso, dtype="string"), pd.Index(year_values, dtype="int16")],
                                       names=["iso3", "year"])
    wide = wide.reindex(index=index, columns=ind if ind is not None else sorted(wide.columns))
    wide.columns.name = None
    return wide


# --------------------------------------------------------------------------------------------
# Latest value in a window

#: The store's flag of values kept for the record but unfit for latest values and group statistics
#: (set by the build's rules, e.g. more persons with than without a disability).
SUSPECT_FLAG = settings.SUSPECT_FLAG


def _without_suspect(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows whose flag is not ``suspect`` (the build leaves them out of latest and aggregates too)."""
    if "flag" not in frame.columns:
        return frame
    return frame.loc[(frame["flag"] != SUSPECT_FLAG).fillna(True).to_numpy(dtype=bool)].reset_index(drop=True)


def latest(indicators: str | Iterable[str] | None = None, countries: Countries = "FOCUS", *,
           window: int | None = None, ref_year: int | None = None, include_projections: bool = False,
           source: str | None = None, vintage: str | None = None,
           processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Latest value per country x indicator within the last ``window`` years up to ``ref_year``.

    ``window`` defaults to each indicator's catalogue window (:func:`window_of`). ``ref_year``
    defaults, per indicator, to the latest year with any non-projection value in the store (over
    all economies, so the answer for one country does not depend on the others). Countries without
    a value in the window are kept with value NaN and year <NA>. A ``name`` column is added. See
    :func:`analysis.rules.latest.compute_latest` for the columns. ``source`` / ``vintage`` pick
    another member of each indicator's concept, as in :func:`load`.
    """
    ind = _check_indicators(indicators, processed_dir, source, vintage)
    iso = resolve_countries(countries, processed_dir=processed_dir)
    if ind is None:  # every indicator: the windows depend on the rows read, and nobody asks twice
        return _latest_frame(None, iso, window, ref_year, include_projections, processed_dir)
    windows = tuple((i, window if window is not None else window_of(i)) for i in ind)
    versions = (store.file_version(store.INDICATORS, processed_dir), store.file_version("countries", processed_dir))
    # A shallow copy: under copy-on-write the caller may modify it without touching the cache.
    # The frame is sorted by indicator and country whatever order the countries are named in: one entry for
    # every order (a profile names its country first, then the group's members).
    return _latest_cached(tuple(ind), None if iso is None else tuple(sorted(iso)), windows, ref_year,
                          include_projections, processed_dir, versions).copy(deep=False)


@lru_cache(maxsize=128)
def _latest_cached(ind: tuple[str, ...], iso: tuple[str, ...] | None, windows: tuple[tuple[str, int], ...],
                   ref_year: int | None, include_projections: bool, processed_dir: Path | str | None,
                   versions: tuple) -> pd.DataFrame:
    """:func:`latest` per store version (``versions``: the indicators and countries files read) and
    resolved arguments (the catalogue windows included): charts and notebooks ask for the same
    latest values many times, and each computation reads and reduces every economy's rows."""
    return _latest_frame(list(ind), None if iso is None else list(iso), dict(windows), ref_year,
                         include_projections, processed_dir)


def _latest_frame(ind: list[str] | None, iso: list[str] | None, window: int | dict[str, int] | None,
                  ref_year: int | None, include_projections: bool, processed_dir) -> pd.DataFrame:
    if ref_year is None and not include_projections:  # the build's own question, for its windows
        stored = _stored_latest(ind, iso, window, processed_dir)
        if stored is not None:
            return stored
    data = _without_suspect(store.read_indicators(ind, None, None, processed_dir=processed_dir))
    if not isinstance(window, dict):
        ids = ind if ind is not None else sorted(data["indicator_id"].astype(str).unique())
        window = {i: window if window is not None else window_of(i) for i in ids}
    out = compute_latest(data, window=window, ref_year=ref_year, include_projections=include_projections, iso3=iso)
    out = out.sort_values(["indicator_id", "iso3"], kind="stable").reset_index(drop=True)
    return _with_names(out, processed_dir)


class _StoredLatest(NamedTuple):
    """``latest.parquet`` with the country names, and where each indicator's rows are."""

    frame: pd.DataFrame  # sorted by indicator_id, iso3, as the build writes it; the API's columns and dtypes
    spans: dict[str, tuple[int, int]]  # indicator_id -> (first row, rows)
    windows: dict[str, int]  # indicator_id -> the window the build used
    economies: tuple[str, ...]  # every economy the build covered (each indicator has a row for each), sorted


def _stored_latest(ind: list[str] | None, iso: list[str] | None, window: int | dict[str, int] | None,
                   processed_dir) -> pd.DataFrame | None:
    """The latest values as the build stored them (:func:`compute_latest` over every economy with the catalogue
    windows), where they answer the question asked: every indicator named is a current series (the build reads
    current rows only), each window is the one the build used, and every country asked is one the build covered.
    None otherwise (or without a stored table the store vouches for): the caller computes."""
    version = store.rule_table_version("latest", processed_dir)
    if version is None:
        return None
    stored = _latest_index(version)
    if stored is None or (ind is not None and not set(ind) <= store.current_indicator_ids(processed_dir)):
        return None
    # A current indicator missing from the table has no usable row: computing would give it no row either.
    ids = sorted(stored.spans if ind is None else {i for i in ind if i in stored.spans})
    if not ids or not _same_windows(ids, window, stored.windows):
        return None
    if iso is None:  # every economy with a usable row of the indicators read, as compute_latest takes them
        iso = stored.economies if ind is None else _reporting(ind, processed_dir)
    elif not set(iso) <= set(stored.economies):
        return None
    rows = np.concatenate([np.arange(start, start + n) for start, n in (stored.spans[i] for i in ids)])
    rows = rows[stored.frame["iso3"].take(rows).isin(iso).to_numpy(dtype=bool)]
    return stored.frame.take(rows).reset_index(drop=True) if len(rows) else None


def _same_windows(ids: list[str], window: int | dict[str, int] | None, used: dict[str, int]) -> bool:
    """Whether the windows asked (one for all, one per indicator, or None: the catalogue's) are the build's."""
    if isinstance(window, dict):
        return all(window[i] == used[i] for i in ids)
    return all((window if window is not None else window_of(i)) == used[i] for i in ids)


def _reporting(ind: list[str], processed_dir) -> list[str]:
    """The economies with a usable row of any of ``ind``: those :func:`compute_latest` gives rows by default."""
    rows = _without_suspect(store.read_indicators(ind, processed_dir=processed_dir, columns=["iso3", "flag"]))
    return sorted(rows["iso3"].astype(str).unique())


@lru_cache(maxsize=4)
def _latest_index(version: tuple) -> _StoredLatest | None:
    """``latest.parquet`` named and indexed once per version of it and of the files it was computed from;
    None for a table not kept sorted by indicator (the reader's spans say so)."""
    processed_dir = Path(version[0][0]).parent
    spans = store.indicator_spans("latest", processed_dir)
    if spans is None:
        return None
    frame = _with_names(store.read_table("latest", processed_dir), processed_dir)
    windows = frame["window"].to_numpy()
    return _StoredLatest(frame, spans, {i: int(windows[a]) for i, (a, _) in spans.items()},
                         tuple(sorted(frame["iso3"].astype(str).unique())))


def latest_window(latest_frame: pd.DataFrame) -> tuple[int, int] | None:
    """The window a :func:`latest` frame covers, as chart footers state it: the widest catalogue
    window ending at the newest reference year, as (first, last) year; None without any value."""
    refs = latest_frame.dropna(subset=["ref_year"])
    if refs.empty:
        return None
    last = int(refs["ref_year"].max())
    widest = int(refs.loc[refs["ref_year"] == last, "window"].max())
    return (last - widest + 1, last)


# --------------------------------------------------------------------------------------------
# Group aggregates


def population_weights(iso3: Sequence[str], processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Total population (the aggregation weight) of the given economies, as iso3, year, weight."""
    pop = load(settings.WEIGHT_INDICATOR, countries=list(iso3), processed_dir=processed_dir)
    return pop.loc[:, ["iso3", "year", "value"]].rename(columns={"value": "weight"})


def aggregate(indicators: str | Iterable[str], group: str = "ASEAN", *, years: Years = None,
              stat: str = "median", min_coverage: float = settings.MIN_COVERAGE, on: str | date | None = None,
              processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Group value per indicator x year: one row per statistic (``stat``: median, weighted_mean, both).

    Columns: group, indicator_id, year, stat, value, n, N, coverage ("n of N"), coverage_ok, unit,
    composition, projection. ``value`` is NaN when fewer than ``min_coverage`` of the N members
    report (or, for the weighted mean, report and have a population). The group's composition
    is its membership as of ``on`` (default: the store's ``as_of``) applied to every year; see
    :func:`analysis.rules.aggregates.compute_aggregates`, which the build uses for
    ``aggregates.parquet`` with the same rules.
    """
    ind = _check_indicators(indicators, processed_dir)
    # A list of years becomes a frozenset (hashable, and read by _year_mask as the same years); a tuple stays
    # a (start, end) range.
    years_key = years if years is None or isinstance(years, (int, np.integer, tuple)) else frozenset(years)
    versions = (store.file_version(store.INDICATORS, processed_dir), store.file_version("countries", processed_dir))
    # A shallow copy: under copy-on-write the caller may modify it without touching the cache.
    return _aggregate_cached(tuple(ind), group, years_key, stat, min_coverage, on or as_of(processed_dir),
                             processed_dir, versions).copy(deep=False)


@lru_cache(maxsize=128)
def _aggregate_cached(ind: tuple[str, ...], group: str, years: Years, stat: str, min_coverage: float,
                      on: str | date, processed_dir: Path | str | None, versions: tuple) -> pd.DataFrame:
    """:func:`aggregate` per store version (``versions``: the indicators and countries files read) and
    resolved arguments: notebooks ask for the same group series again, and each computation reads every
    economy's rows of the indicators and of the population."""
    stored = _stored_aggregates(ind, group, years, stat, min_coverage, on, processed_dir)
    if stored is not None:
        return stored
    weight = settings.WEIGHT_INDICATOR
    wanted = list(ind) + ([weight] if weight not in ind else [])
    known = store.indicator_ids(processed_dir)
    data = _without_suspect(store.read_indicators([i for i in wanted if i in known], None, None,
                                                  processed_dir=processed_dir))
    table = store.read_table("countries", processed_dir)
    wide = agg_rules.compute_aggregates(data, table, min_coverage=min_coverage, groups=(group,),
                                        on=on, weight_indicator=weight)
    wide = wide.loc[wide["indicator_id"].isin(ind).to_numpy(dtype=bool)]
    wide = wide.loc[_year_mask(wide["year"], years)]
    return agg_rules.aggregates_long(wide, stat)


def _stored_aggregates(ind: tuple[str, ...], group: str, years: Years, stat: str, min_coverage: float,
                       on: str | date, processed_dir) -> pd.DataFrame | None:
    """The group statistics as the build stored them, where they answer the question asked: the coverage the
    build used (the setting), current series only (the build reads current rows only), and the group stored
    with the composition ``on`` gives. None otherwise (or without a stored table the store vouches for)."""
    if min_coverage != settings.MIN_COVERAGE or not set(ind) <= store.current_indicator_ids(processed_dir):
        return None
    version = store.rule_table_version("aggregates", processed_dir)
    if version is None:
        return None
    wide = _stored_group(version, group)
    composition = ",".join(_group_members(group, on, store.file_version("countries", processed_dir)))
    if wide.empty or (wide["composition"] != composition).any():
        return None
    # A current indicator missing from the table has no usable value: computing would give it no row either.
    wide = wide.loc[wide["indicator_id"].isin(ind).to_numpy(dtype=bool)]
    wide = wide.loc[_year_mask(wide["year"], years)]
    return agg_rules.aggregates_long(wide, stat)


@lru_cache(maxsize=16)
def _stored_group(version: tuple, group: str) -> pd.DataFrame:
    """One group's rows of ``aggregates.parquet`` (read once per version of it and of its inputs)."""
    table = store.read_table("aggregates", Path(version[0][0]).parent)
    return table.loc[(table["group"] == group).to_numpy(dtype=bool)]


def aggregate_members(df: pd.DataFrame, members: Sequence[str], *, label: str = "group",
                      min_coverage: float = settings.MIN_COVERAGE,
                      weights: pd.DataFrame | None = None) -> pd.DataFrame:
    """The project's aggregation rule over an explicit member list (for charts that hold a frame)."""
    return agg_rules.aggregate_members(df, members, label=label, min_coverage=min_coverage, weights=weights)


# --------------------------------------------------------------------------------------------
# Reference tables


_CATALOGUE_CACHE: dict[tuple, Catalogue] = {}


def _catalogue() -> Catalogue:
    """The catalogue, parsed once per version of its files: ``window_of`` and friends run in loops
    (``latest`` asks once per indicator), and parsing and validating the file each time cost seconds."""
    key = tuple(_file_version(p) for p in (paths.catalogue_file().resolve(), paths.sources_file().resolve()))
    if key not in _CATALOGUE_CACHE:
        loaded = load_catalogue()
        _CATALOGUE_CACHE.clear()
        _CATALOGUE_CACHE[key] = loaded
    return _CATALOGUE_CACHE[key]


def catalogue_model() -> Catalogue:
    """The typed catalogue (``data/indicators.toml``), for code that needs more than the table."""
    return _catalogue()


_REGISTRY_CACHE: dict[tuple[str, int], Registry] = {}


def registry() -> Registry:
    """The typed source registry (``data/sources.toml``): datasets, pinned files, licences.

    Cached per file and modification time: charts ask for it once per footer."""
    path = paths.sources_file().resolve()
    key = (str(path), path.stat().st_mtime_ns if path.exists() else 0)
    if key not in _REGISTRY_CACHE:
        _REGISTRY_CACHE[key] = load_registry(path)
    return _REGISTRY_CACHE[key]


_CATALOGUE_FRAMES: dict[int, tuple[Catalogue, pd.DataFrame]] = {}


def catalogue() -> pd.DataFrame:
    """The indicator catalogue (``data/indicators.toml``): id, title, unit, group, domain, source, ..."""
    model = _catalogue()
    cached = _CATALOGUE_FRAMES.get(id(model))
    if cached is None or cached[0] is not model:  # built once per parsed catalogue: charts ask per footer
        _CATALOGUE_FRAMES.clear()
        cached = _CATALOGUE_FRAMES[id(model)] = (model, model.to_frame())
    # A shallow copy: under copy-on-write the caller may modify it without touching the cache.
    return cached[1].copy(deep=False)


def catalogue_gaps() -> pd.DataFrame:
    """The recorded gaps: population group x domain cells no pinned source can fill, and why."""
    gaps = _catalogue().gaps
    return pd.DataFrame({"group": [g.group for g in gaps], "domain": [g.domain for g in gaps],
                         "reason": [g.reason for g in gaps]}).astype("string")


def headline_indicators() -> list[str]:
    """The headline indicators (catalogue ``headline = true``), in catalogue order."""
    return [ind.id for ind in _catalogue() if ind.headline]


def profile_indicators() -> list[str]:
    """The indicators of a country profile (catalogue ``profile = true``), in catalogue order."""
    return [ind.id for ind in _catalogue() if ind.profile]


def window_of(indicator_id: str) -> int:
    """The latest-value window of an indicator (catalogue ``window``, else the project default)."""
    return _catalogue()[indicator_id].window or settings.DEFAULT_WINDOW


def tolerance_of(indicator_id: str) -> int:
    """How far from a wanted year a value may sit (catalogue ``tolerance``, else the default)."""
    tol = _catalogue()[indicator_id].tolerance
    return settings.DEFAULT_TOLERANCE if tol is None else tol


def direction_of(indicator_id: str) -> str:
    """``higher``, ``lower`` or ``neutral``: which way is better, from the catalogue."""
    return _catalogue()[indicator_id].better


def min_difference_of(indicator_id: str) -> float:
    """The smallest difference worth a band colour, in the indicator's unit (catalogue)."""
    return _catalogue()[indicator_id].min_difference


# --------------------------------------------------------------------------------------------
# Concepts: which series stands for each, and gaps between the sexes


def concept_of(indicator_id: str) -> str:
    """The concept an indicator (or an earlier id of one) measures."""
    return _catalogue().concept_of(indicator_id)


def current_series(concept: str) -> str:
    """The indicator id that stands for a concept now, by the concept's stated rule (``[[concept]]`` in
    ``data/indicators.toml``: preferred source first, then the newest vintage); an indicator id is
    taken for its concept."""
    return _catalogue().current_series(concept)


def series_of(concept: str) -> pd.DataFrame:
    """Every series of a concept (or of an indicator's concept): indicator_id, source_id, vintage and
    current, the current one first, then in the order of the concept's rule."""
    cat = _catalogue()
    ids = cat.series_of(concept)
    return pd.DataFrame({"indicator_id": ids, "source_id": [cat.series[i][0] for i in ids],
                         "vintage": [cat.series[i][1] for i in ids],
                         "current": [cat.is_current(i) for i in ids]}).astype(
        {"indicator_id": "string", "source_id": "string", "vintage": "string"})


SEX_IDS = ("_female", "_male")


def _sex_pair(indicator_id: str) -> tuple[str, str, str]:
    """(plain id, female id, male id) of an indicator split by sex; both must share source and vintage."""
    cat = _catalogue()
    # The plain id need not exist (a source may publish the sexes only).
    name = cat.resolve(indicator_id).id if indicator_id in cat else indicator_id
    base = name.removesuffix(SEX_IDS[0]).removesuffix(SEX_IDS[1])
    female, male = (base + suffix for suffix in SEX_IDS)
    shown = paths.relative_to_root(cat.source_path)
    missing = [i for i in (female, male) if i not in cat.by_id]
    if missing:
        raise NoSuchSeriesError(shown, f"no sex gap for {indicator_id!r}: the catalogue has no {missing[0]!r}")
    if cat.series[female] != cat.series[male]:
        (fs, fv), (ms, mv) = cat.series[female], cat.series[male]
        raise NoSuchSeriesError(shown, f"no sex gap for {indicator_id!r}: {female} comes from {fs} ({fv}) but "
                                f"{male} from {ms} ({mv}); a gap is computed within one source and vintage only")
    return base, female, male


def sex_gap(indicator_id: str, countries: Countries = "FOCUS", years: Years = None, *,
            include_projections: bool = False, processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Female minus male, per country and year where both are published, within one source and vintage.

    ``indicator_id`` is the plain id or either sex's id. Columns: iso3, name, year, indicator_id
    (``<id>_sex_gap``), female, male, value (female - male), unit ("percentage points" for an
    indicator in %, else the indicator's unit), source_id, vintage, projection. Rows flagged suspect
    are left out, as from latest values and aggregates. NoSuchSeriesError when the catalogue has no
    female and male ids sharing source and vintage.
    """
    base, female, male = _sex_pair(indicator_id)
    iso = resolve_countries(countries, processed_dir=processed_dir)
    rows = _without_suspect(store.read_indicators([female, male], iso, years, processed_dir=processed_dir))
    if not include_projections:
        rows = rows.loc[~rows["projection"].to_numpy(dtype=bool)]
    keys, kept = ["iso3", "year"], ["source_id", "vintage", "projection"]
    both = rows.loc[rows["indicator_id"] == female, [*keys, "value", *kept]].merge(
        rows.loc[rows["indicator_id"] == male, [*keys, "value", *kept]], on=keys, suffixes=("_f", "_m"))
    apart = (both["source_id_f"] != both["source_id_m"]) | (both["vintage_f"] != both["vintage_m"])
    if apart.any():
        raise StoreError(f"{female} and {male} hold rows of different sources or vintages in the store "
                         f"(e.g. {both.loc[apart, 'iso3'].iloc[0]}); rebuild the store")
    unit = _catalogue()[female].unit
    out = pd.DataFrame({
        "iso3": both["iso3"], "year": both["year"], "indicator_id": f"{base}_sex_gap",
        "female": both["value_f"], "male": both["value_m"], "value": both["value_f"] - both["value_m"],
        "unit": "percentage points" if unit.startswith("%") else unit, "source_id": both["source_id_f"],
        "vintage": both["vintage_f"], "projection": both["projection_f"] | both["projection_m"],
    }).astype({"indicator_id": "string", "unit": "string"})
    return _with_names(out.sort_values(keys, kind="stable").reset_index(drop=True), processed_dir)


def sources() -> pd.DataFrame:
    """The source datasets of ``data/sources.toml``: id, publisher, title, licence, vintage, files, ..."""
    reg = load_registry()
    rows = [{"id": d.id, "publisher": d.publisher, "title": d.title, "vintage": d.vintage, "licence": d.licence,
             "landing_page": d.landing_page, "distributor": d.distributor, "files": len(reg.files_of(d.id)),
             "citation": d.citation(), "notes": d.notes} for d in reg.datasets.values()]
    return pd.DataFrame(rows).astype({c: "string" for c in rows[0] if c != "files"}) if rows else pd.DataFrame()


def countries(group: str | None = None, *, on: str | date | None = None,
              processed_dir: Path | str | None = None) -> pd.DataFrame:
    """The countries table of the store (iso3, name, m49, wb_region, wb_income_group, asean_joined,
    plus_three, focus, ...), optionally only the members of ``group`` (as of ``on``)."""
    table = store.read_table("countries", processed_dir)
    if group is None:
        return table
    iso = membership.members(group, on=on or as_of(processed_dir), countries=table)
    return table.loc[table["iso3"].isin(iso).to_numpy(dtype=bool)].reset_index(drop=True)


def country_names(iso3: Iterable[str] | None = None, *, processed_dir: Path | str | None = None) -> dict[str, str]:
    """ISO3 -> display name from the store's countries table (all economies, or those asked)."""
    table = store.read_table("countries", processed_dir)
    return membership.country_names(table, list(iso3) if iso3 is not None else None)


def age_structure(countries: Countries = "FOCUS", years: Years = None, *,
                  processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Population by 5-year age group (WPP 2019, thousands; projections flagged) from the store:
    iso3, year, indicator_id (``pop_age_<group>``), value, unit, source_id, vintage, projection."""
    iso = resolve_countries(countries, processed_dir=processed_dir)
    table = store.read_table("age_structure", processed_dir)
    if iso is not None:
        table = table.loc[table["iso3"].isin(iso).to_numpy(dtype=bool)]
    table = table.loc[_year_mask(table["year"], years)]
    return table.reset_index(drop=True)


def meetings() -> pd.DataFrame:
    """The ASEAN-Japan High Level Officials Meetings on Caring Societies (validated references table)."""
    return load_meetings()


def instruments() -> pd.DataFrame:
    """Related ASEAN instruments (validated references table)."""
    return load_instruments()


def events(countries: Countries = None, areas: str | Iterable[str] | None = None, *,
           processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Dated, cited crises, reforms and milestones (``data/raw/references/events.csv``, validated, with
    every code checked against the store's economies), in date order.

    ``countries`` (as elsewhere: codes or group names; None: every event) keeps the events naming any
    of them, and the ``WLD`` events, which concern everyone. ``areas`` (words of the ``affects``
    vocabulary, see :func:`areas_of`; None: any) keeps the events affecting any of them. See
    :func:`analysis.config.references.load_events` for the columns.
    """
    table = _events_table(processed_dir)
    iso = resolve_countries(countries, processed_dir=processed_dir)
    wanted = as_list(areas)
    unknown = [a for a in wanted or () if a not in AFFECTS]
    if unknown:
        raise ValueError(f"unknown event area(s) {', '.join(unknown)}; known: {', '.join(AFFECTS)}")
    keep = np.ones(len(table), dtype=bool)
    if iso is not None:
        keep &= table["iso3"].map(lambda codes: ALL_COUNTRIES in codes or bool(set(codes) & set(iso))).to_numpy(bool)
    if wanted is not None:
        keep &= table["affects"].map(lambda hit: bool(set(hit) & set(wanted))).to_numpy(dtype=bool)
    return table.loc[keep].reset_index(drop=True)


def _events_table(processed_dir: Path | str | None) -> pd.DataFrame:
    """``events.csv`` read and validated against the store's economies, once per store version (which
    covers the file): a profile's trend charts ask for the events one chart at a time."""
    version = store_version(processed_dir)
    if version is None:
        return _read_events(processed_dir)
    # A shallow copy: under copy-on-write the caller may modify it without touching the cache.
    return _kept_events(version, processed_dir).copy(deep=False)


@lru_cache(maxsize=4)
def _kept_events(version: tuple, processed_dir: Path | str | None) -> pd.DataFrame:
    return _read_events(processed_dir)


def _read_events(processed_dir: Path | str | None) -> pd.DataFrame:
    known = store.read_table("countries", processed_dir)["iso3"].astype(str)
    return load_events(known_iso3=known)


def areas_of(indicator_id: str) -> tuple[str, ...]:
    """The event areas (``affects`` words) an indicator speaks to, from its catalogue group, domain and
    concept by the one rule table :data:`analysis.config.references.AREA_RULES`; () for none."""
    ind = _catalogue()[indicator_id]
    return areas_for(ind.group, ind.domain, ind.concept or ind.id)


def indicator_ids(processed_dir: Path | str | None = None) -> frozenset[str]:
    """The indicator ids present in the store."""
    return store.indicator_ids(processed_dir)


def store_version(processed_dir: Path | str | None = None) -> tuple | None:
    """A key for results kept per version of what they are made from: the store (its manifest records the
    sha256 of every stored table, so a rebuild that changes any is a new key) and the catalogue, registry and
    references read beside it (by file version: an edit is seen before the next build). None for a store
    without a manifest: nothing to tell its versions apart by, so nothing is kept."""
    try:
        fingerprint = store_fingerprint(processed_dir)
    except StoreError:
        return None
    files = [paths.catalogue_file(), paths.sources_file(), *sorted(paths.references_dir().glob("*.csv"))]
    return (fingerprint, *(_file_version(p) for p in files))


def _file_version(path: Path) -> tuple[str, int, int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return str(path), 0, 0
    return str(path), st.st_mtime_ns, st.st_size


def store_fingerprint(processed_dir: Path | str | None = None) -> str:
    """A hash of the store's manifest (inputs, catalogue, registry, references, code, as_of): what
    later steps compare to decide whether their outputs are still current."""
    path = store.store_dir(processed_dir) / store.MANIFEST
    try:
        return fingerprint_bytes(path.read_bytes())
    except FileNotFoundError:
        raise StoreError(f"{paths.relative_to_root(path)} not found: the store has not been built; "
                         f"{store.HINT}") from None
