"""The refresh diff as deliverables: ``reports/data-changes.csv`` (every change) and ``data-changes.md``.

The diff comes from :mod:`analysis.store.changes`; this module adds what a reader needs around it:
country names, each concept's title and unit, the headline charts (:data:`HEADLINE_CHARTS`) and
profile rows (:func:`analysis.store.api.profile_indicators`) that show the concept, and which of the
concept's series those show. Same inputs, same bytes: rows sorted, numbers in one fixed format, no
dates or machine paths.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.core import atomic, paths
from analysis.presentation.report.specs import HEADLINE_CHARTS, PROFILE
from analysis.store import api
from analysis.store import changes as store_changes
from analysis.store.changes import Changes, Pair

CSV_NAME = paths.DATA_CHANGES_CSV
MD_NAME = paths.DATA_CHANGES_MD
CSV_COLUMNS = ["concept", "title", "unit", "iso3", "country", "change", "old_year", "old_value", "new_year",
               "new_value", "difference", "old_series", "new_series", "charts", "profile_row"]
_CHANGE_WORDS = {store_changes.LATEST_CHANGED: "latest value changed", store_changes.REVISED: "revised",
                 store_changes.ADDED: "added", store_changes.DROPPED: "dropped"}


@dataclass(frozen=True)
class ConceptInfo:
    title: str
    unit: str
    current: str | None  # the id the charts and profiles show for the concept
    charts: tuple[str, ...]
    profile: bool


@dataclass
class ChangesReport:
    csv: Path
    md: Path
    concepts: int
    counts: dict[str, int]

    def line(self) -> str:
        c = self.counts
        return (f"{paths.relative_to_root(self.md)}: {self.concepts} concepts compared; latest value changed for "
                f"{c[store_changes.LATEST_CHANGED]} concept-countries; {c[store_changes.REVISED]} values revised, "
                f"{c[store_changes.ADDED]} added, {c[store_changes.DROPPED]} dropped")


# ------------------------------------------------------------------------------------ context


def concept_info() -> dict[str, ConceptInfo]:
    """Per concept: title and unit (of its current series), the charts and whether a profile row show it."""
    catalogue = api.catalogue()
    concept_of = dict(zip(catalogue["indicator_id"].astype(str), catalogue["concept"].astype(str), strict=True))
    charts: dict[str, list[str]] = {}
    for spec in HEADLINE_CHARTS:
        ids = api.profile_indicators() if spec["indicators"] == PROFILE else spec["indicators"]
        for concept in dict.fromkeys(concept_of.get(i, i) for i in ids):
            charts.setdefault(concept, []).append(spec["name"])
    profile = {concept_of.get(i, i) for i in api.profile_indicators()}
    out = {}
    for concept, ids in store_changes.concept_members().items():
        current = store_changes.current_series(concept, ids)
        row = catalogue.loc[catalogue["indicator_id"] == current].iloc[0]
        out[concept] = ConceptInfo(str(row["title"]), str(row["unit"]), current, tuple(charts.get(concept, ())),
                                   concept in profile)
    return out


def _info(infos: dict[str, ConceptInfo], concept: str) -> ConceptInfo:
    return infos.get(concept) or ConceptInfo(concept, "", None, (), False)


# ------------------------------------------------------------------------------------ numbers


def fixed(value: float) -> str:
    """The CSV's one number format: up to 6 decimals, no trailing zeros, empty when missing."""
    if pd.isna(value):
        return ""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def shown(value: float, signed: bool = False) -> str:
    """A number as the Markdown shows it (4 significant digits, thousands separated above 1,000)."""
    if pd.isna(value):
        return "–"
    sign = "+" if signed else ""
    if abs(value) >= 1000:
        return f"{value:{sign},.0f}"
    text = f"{value:{sign}.4g}"
    return "0" if text in ("+0", "-0") else text


def _year(value) -> str:
    return "" if pd.isna(value) else str(int(value))


def _at(value: float, year) -> str:
    return "–" if pd.isna(value) else f"{shown(value)} ({_year(year)})"


# ------------------------------------------------------------------------------------ CSV


def _series_labels(changes: Changes) -> dict[str, tuple[str, str]]:
    return {p.concept: (p.old.label() if p.old else "", p.new.label() if p.new else "") for p in changes.pairs}


def csv_text(changes: Changes, infos: dict[str, ConceptInfo]) -> str:
    """Every change (latest value changed, revised, added, dropped), one row each."""
    rows = changes.changes_only()
    labels = _series_labels(changes)
    out = pd.DataFrame({
        "concept": rows["concept"].astype(str),
        "title": [_info(infos, c).title for c in rows["concept"]],
        "unit": [_info(infos, c).unit for c in rows["concept"]],
        "iso3": rows["iso3"].astype(str),
        "country": [changes.names.get(i, i) for i in rows["iso3"]],
        "change": rows["change"].astype(str),
        "old_year": rows["old_year"].map(_year), "old_value": rows["old_value"].map(fixed),
        "new_year": rows["new_year"].map(_year), "new_value": rows["new_value"].map(fixed),
        "difference": rows["difference"].map(fixed),
        "old_series": [labels[c][0] for c in rows["concept"]],
        "new_series": [labels[c][1] for c in rows["concept"]],
        "charts": ["; ".join(_info(infos, c).charts) for c in rows["concept"]],
        "profile_row": ["yes" if _info(infos, c).profile else "no" for c in rows["concept"]],
    }, columns=CSV_COLUMNS)
    # within a concept and country the diff's order (latest, then by kind and year) is kept
    out = out.sort_values(["concept", "country", "iso3"], kind="stable")
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


# ------------------------------------------------------------------------------------ Markdown


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]


def _years(rows: pd.DataFrame, column: str) -> str:
    """Years as compact ranges: 2000-2003, 2010."""
    years = sorted(int(y) for y in rows[column].dropna())
    spans: list[list[int]] = []
    for year in years:
        if spans and year == spans[-1][1] + 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans) or "–"


def _intro(changes: Changes) -> list[str]:
    return [
        "# Data changes", "",
        f"{changes.compared} Countries: {changes.scope}.", "",
        "Only estimates are compared: projections and values flagged as suspect are left out. A value is "
        "*revised* when both series have the year and the values differ, *added* when only the newer series has "
        "the year, *dropped* when only the older one has it. The *latest value* is each country's most recent "
        "year in each series: a refresh often replaces a value by a newer year rather than revising it. "
        "Differences are newer minus older, in the concept's unit. The largest changes are ranked by the "
        f"difference relative to the larger of the two values. `{CSV_NAME}` holds every change.", "",
    ]


def _summary(changes: Changes, infos: dict[str, ConceptInfo]) -> list[str]:
    c = changes.counts()
    latest = changes.diff.loc[changes.diff["change"] == store_changes.LATEST_CHANGED]
    newer_year = int((latest["new_year"] > latest["old_year"]).fillna(False).sum())
    lines = ["## Summary", "",
             f"{len(changes.pairs)} concepts compared. Latest value changed for {c[store_changes.LATEST_CHANGED]} "
             f"concept-countries ({newer_year} of them to a newer year) and unchanged for "
             f"{c[store_changes.LATEST_SAME]}; {c[store_changes.REVISED]} values revised, "
             f"{c[store_changes.UNCHANGED]} unchanged, {c[store_changes.ADDED]} added, "
             f"{c[store_changes.DROPPED]} dropped.", ""]
    lines += [f"Note: {note}" for note in changes.notes] + ([""] if changes.notes else [])
    quiet = [p.concept for p in changes.pairs if p.concept not in _changed_concepts(changes)]
    if quiet:
        lines += [f"Without any change ({len(quiet)} concepts): {', '.join(f'`{c}`' for c in quiet)}.", ""]
    rows = []
    for pair in _changed_pairs(changes):
        mine = changes.diff.loc[changes.diff["concept"] == pair.concept]
        count = mine["change"].value_counts()
        rows.append([f"`{pair.concept}`", pair.old.label() if pair.old else "–", pair.new.label() if pair.new else "–",
                     str(mine["iso3"].nunique())] + [str(int(count.get(k, 0))) for k in _CHANGE_WORDS]
                    + [_shown_in(_info(infos, pair.concept))])
    if not rows:
        return lines
    header = ["concept", "older series", "newer series", "countries", *_CHANGE_WORDS.values(), "shown in"]
    return [*lines, *_table(header, rows), ""]


def _changed_concepts(changes: Changes) -> set[str]:
    return set(changes.changes_only()["concept"].astype(str))


def _changed_pairs(changes: Changes) -> list[Pair]:
    """The pairs with at least one change, in the order compared (the others are only listed)."""
    changed = _changed_concepts(changes)
    return [p for p in changes.pairs if p.concept in changed]


def _shown_in(info: ConceptInfo) -> str:
    places = [f"chart {name}" for name in info.charts] + (["country profiles"] if info.profile else [])
    return ", ".join(places) or "no headline chart or profile"


def _largest(changes: Changes, infos: dict[str, ConceptInfo]) -> list[str]:
    latest = changes.largest_latest()
    lines = ["## Largest changes", "", "### Latest value", ""]
    if latest.empty:
        lines += ["No latest value changed.", ""]
    else:
        rows = [[f"`{r.concept}`", changes.names.get(r.iso3, r.iso3), _at(r.old_value, r.old_year),
                 _at(r.new_value, r.new_year), shown(r.difference, signed=True), _info(infos, r.concept).unit]
                for r in latest.itertuples()]
        lines += [*_table(["concept", "country", "before", "after", "difference", "unit"], rows), ""]
    revised = changes.largest_revisions()
    lines += ["### Values revised for the same year", ""]
    if revised.empty:
        return [*lines, "No value was revised.", ""]
    rows = [[f"`{r.concept}`", changes.names.get(r.iso3, r.iso3), _year(r.old_year), shown(r.old_value),
             shown(r.new_value), shown(r.difference, signed=True), _info(infos, r.concept).unit]
            for r in revised.itertuples()]
    return [*lines, *_table(["concept", "country", "year", "before", "after", "difference", "unit"], rows), ""]


def _which_series(pair: Pair, info: ConceptInfo) -> str:
    if info.current is None:
        return ""
    if pair.old and pair.new and pair.old.indicator_id == pair.new.indicator_id == info.current:
        return f" They show the current series, `{info.current}`, the one compared here."
    if pair.new and info.current == pair.new.indicator_id:
        return f" They show the current series, `{info.current}`, the newer one compared here."
    if pair.old and info.current == pair.old.indicator_id:
        return f" They show the current series, `{info.current}`, the older one compared here."
    return f" They show the current series, `{info.current}`, neither of the two compared here."


def _concept_section(changes: Changes, pair: Pair, info: ConceptInfo) -> list[str]:
    mine = changes.diff.loc[changes.diff["concept"] == pair.concept]
    lines = [f"### {info.title} (`{pair.concept}`)", "",
             f"Older: {pair.old.label() if pair.old else 'none'}; newer: {pair.new.label() if pair.new else 'none'}. "
             f"Unit: {info.unit or '–'}. Shown in: {_shown_in(info)}."
             + (_which_series(pair, info) if info.charts or info.profile else ""), ""]
    rows = []
    for iso3 in sorted(mine["iso3"].astype(str).unique(), key=lambda code: (changes.names.get(code, code), code)):
        country = mine.loc[mine["iso3"] == iso3]
        latest = country.loc[country["change"].isin([store_changes.LATEST_CHANGED, store_changes.LATEST_SAME])].iloc[0]
        revised = country.loc[country["change"] == store_changes.REVISED]
        same = "" if latest["change"] == store_changes.LATEST_CHANGED else " (same)"
        rows.append([changes.names.get(iso3, iso3), _at(latest["old_value"], latest["old_year"]),
                     _at(latest["new_value"], latest["new_year"]) + same,
                     f"{len(revised)} ({_years(revised, 'new_year')})" if len(revised) else "0",
                     _years(country.loc[country["change"] == store_changes.ADDED], "new_year"),
                     _years(country.loc[country["change"] == store_changes.DROPPED], "old_year")])
    if not rows:
        return [*lines, "No values for these countries in either series.", ""]
    header = ["country", "latest before", "latest after", "revised (years)", "added years", "dropped years"]
    return [*lines, *_table(header, rows), ""]


def markdown_text(changes: Changes, infos: dict[str, ConceptInfo]) -> str:
    lines = _intro(changes) + _summary(changes, infos)
    if _changed_pairs(changes):
        lines += _largest(changes, infos) + ["## Per concept and country", ""]
        for pair in _changed_pairs(changes):
            lines += _concept_section(changes, pair, _info(infos, pair.concept))
    return "\n".join(lines).rstrip("\n") + "\n"


def write_changes(changes: Changes, reports_dir: Path | str | None = None) -> ChangesReport:
    """Write ``data-changes.csv`` and ``data-changes.md`` into the reports folder (atomically)."""
    folder = Path(reports_dir) if reports_dir is not None else paths.reports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    infos = concept_info()
    csv_path, md_path = folder / CSV_NAME, folder / MD_NAME
    atomic.write_text(csv_path, csv_text(changes, infos))
    atomic.write_text(md_path, markdown_text(changes, infos))
    return ChangesReport(csv_path, md_path, len(changes.pairs), changes.counts())
