"""Country profiles ``reports/profiles/<ISO3>.pdf``: a country note of one or two A4 pages per focus country.

Each opens with the country's key messages (:func:`analysis.store.messages.country_messages`) and a context
line (population, share aged 65+, income group, ASEAN membership), then, per population group, each profile
indicator (catalogue ``profile = true``) with the country's latest value and year, its rank among the focus
countries with data, its ten-year trend, the ASEAN median (n of N) and, for a Plus Three country, the three
Plus Three values; then the notes that rules attach where a value needs one. Ranks, trends and the context
come from :mod:`analysis.store.standing`; directions, windows and smallest differences from the catalogue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from analysis.presentation.charts import palette
from analysis.presentation.charts.layout import fmt
from analysis.presentation.report.context import ReportContext, make_context, window_text
from analysis.presentation.report.specs import profile_groups
from analysis.store import api, standing
from analysis.store.messages import country_messages

#: The SDG 1.3.1 total ("at least one benefit") and the prefix its parts (pensions, children, ...) share.
COVERAGE_TOTAL, COVERAGE_PREFIX = "sp_cov_total", "sp_cov_"
#: A negative value of this gap needs a word on who is in the labour force.
DISABILITY_GAP = "unemployment_disability_gap"


@dataclass
class ProfileRow:
    group: str
    indicator_id: str
    title: str
    unit: str
    better: str
    value: float
    year: int | None
    median: float
    n: int
    big_n: int
    band: str
    judged: str
    lower: float
    upper: float
    others: np.ndarray
    source_id: str | None
    vintage: str | None
    year_text: str = "–"  # "2015–2020" for a value of a five-year period
    rank: int | None = None
    rank_n: int = 0
    rank_text: str = "no data"  # "3 of 14" (1 = best) or, neutral, "2nd highest of 14"
    ranked_years: str = ""  # the years of the ranked values when they differ: "2014–2024"
    trend_text: str = "–"  # "↓ -3.1 since 2014", "→ flat since 2014"
    trend_direction: str = "none"  # up, down, flat, none
    trend_judged: str = "no data"  # better, worse, flat, neutral, no data
    trend_change: float = math.nan
    trend_since: int | None = None
    plus_three: dict[str, tuple[float, int | None]] = field(default_factory=dict)  # iso3 -> (value, year)


def _text_or_none(rec: pd.Series | None, column: str) -> str | None:
    return None if rec is None or pd.isna(rec.get(column)) else str(rec[column])


def _year_text(year: int | None, period: int) -> str:
    if year is None:
        return "–"
    return f"{year}–{year + period}" if period > 1 else str(year)


def _ranked_years(part: pd.DataFrame, focus: list[str]) -> str:
    years = part.reindex(focus).dropna(subset=["value"])["year"].dropna().astype(int)
    return "" if years.empty or years.min() == years.max() else f"{years.min()}–{years.max()}"


def _plus_three_values(part: pd.DataFrame, iso3: str, plus_three: list[str]) -> dict[str, tuple[float, int | None]]:
    """The Plus Three values beside a Plus Three country's own (none for an ASEAN country)."""
    if iso3 not in plus_three:
        return {}
    out = {}
    for code in plus_three:
        rec = part.loc[code] if code in part.index else None
        has = rec is not None and pd.notna(rec["value"])
        out[code] = (float(rec["value"]), int(rec["year"])) if has else (math.nan, None)
    return out


@dataclass(frozen=True)
class _Shared:
    """What every country's row of one indicator shares: the focus countries' latest values, the ASEAN band
    and its judgement, and the years of the ranked values."""

    part: pd.DataFrame  # the indicator's latest values, indexed by iso3
    focus_values: pd.Series  # part's values over the focus countries (what ranks are taken among)
    others: np.ndarray  # the focus countries' values, gaps left out (the profile's dot strip)
    band: pd.DataFrame
    judged: pd.Series
    ranked_years: str


@dataclass(frozen=True)
class ProfileBasis:
    """The per-report work behind every country's profile table, done once: the groups' members, the profile
    indicators' series and, per indicator, what its rows share (see :func:`profile_basis`)."""

    ids: tuple[str, ...]  # the profile indicators, in the table's order
    groups: dict[str, list[str]]
    series: pd.DataFrame
    shared: dict[str, _Shared]
    own_series: dict[tuple[str, str], pd.DataFrame]  # (iso3, indicator) -> that country's rows of ``series``

    def series_of(self, iso3: str, indicator_id: str) -> pd.DataFrame:
        """One country's observed series of one indicator (no rows: none in the store)."""
        found = self.own_series.get((iso3, indicator_id))
        return found if found is not None else self.series.iloc[0:0]


def _shared(part: pd.DataFrame, ind: str, better: str, groups: dict[str, list[str]]) -> _Shared:
    focus, members = groups["FOCUS"], groups["ASEAN"]
    vals = part["value"].astype("float64") if not part.empty else pd.Series(dtype="float64")
    b = api.band(vals.reindex(focus), reference=vals.reindex(members), min_difference=api.min_difference_of(ind))
    return _Shared(part=part, focus_values=part["value"].reindex(focus) if not part.empty else vals,
                   others=vals.reindex(focus).dropna().to_numpy(), band=b, judged=api.judge(b["band"], better),
                   ranked_years=_ranked_years(part, focus) if not part.empty else "")


def profile_basis(latest: pd.DataFrame, ctx: ReportContext) -> ProfileBasis:
    """What the profile tables of every country share, computed once per report (``latest``: the latest
    values of the profile indicators, as :func:`profile_latest` gives them)."""
    groups = {g: ctx.members(g) for g in ("FOCUS", "ASEAN", "PLUS_THREE")}
    ids = [ind for ids in profile_groups().values() for ind in ids]
    series = ctx.series([i for i in ids if i in ctx.store_ids])
    # one pass over the latest values instead of one filter per indicator and country
    parts = {str(ind): frame.set_index("iso3") for ind, frame in latest.groupby("indicator_id", sort=False)}
    empty = latest.iloc[0:0].set_index("iso3")
    shared = {ind: _shared(parts.get(ind, empty), ind, ctx.meta(ind).better, groups) for ind in ids}
    # split once: each profile row would otherwise scan the whole series for its country and indicator
    own = {(str(iso3), str(ind)): part for (iso3, ind), part in series.groupby(["iso3", "indicator_id"], sort=False)}
    return ProfileBasis(ids=tuple(ids), groups=groups, series=series, shared=shared, own_series=own)


def _add_standing(row: ProfileRow, iso3: str, shared: _Shared, own: pd.DataFrame) -> None:
    """The row's rank among the focus countries with data and its ten-year trend (``own``: the country's
    observed series of the row's indicator)."""
    rank = standing.rank_in(shared.focus_values, iso3, row.better)
    trend = standing.trend_for(row.indicator_id, own, row.year)
    row.rank, row.rank_n, row.rank_text = rank.k, rank.n, rank.text
    row.ranked_years = shared.ranked_years
    row.trend_text, row.trend_direction, row.trend_judged = trend.text(), trend.direction, trend.judged
    row.trend_change, row.trend_since = trend.change, trend.start_year


def _profile_row(shared: _Shared, ctx: ReportContext, ind: str, iso3: str, basis: ProfileBasis) -> ProfileRow:
    meta = ctx.meta(ind)
    part, b, groups = shared.part, shared.band, basis.groups
    rec = part.loc[iso3] if iso3 in part.index else None
    value = float(rec["value"]) if rec is not None and pd.notna(rec["value"]) else np.nan
    year = int(rec["year"]) if rec is not None and pd.notna(rec["year"]) else None
    row = ProfileRow(
        group=meta.group, indicator_id=ind, title=meta.title, unit=meta.unit, better=meta.better, value=value,
        year=year, median=float(b["center"].iloc[0]), n=int(b["n"].iloc[0]), big_n=len(groups["ASEAN"]),
        band=str(b.loc[iso3, "band"]), judged=str(shared.judged.loc[iso3]), lower=float(b["lower"].iloc[0]),
        upper=float(b["upper"].iloc[0]), others=shared.others,
        source_id=_text_or_none(rec, "source_id"), vintage=_text_or_none(rec, "vintage"),
        year_text=_year_text(year, ctx.period(ind)), plus_three=_plus_three_values(part, iso3, groups["PLUS_THREE"]))
    _add_standing(row, iso3, shared, basis.series_of(iso3, ind))
    return row


def profile_table(latest: pd.DataFrame, ctx: ReportContext, iso3: str,
                  basis: ProfileBasis | None = None) -> list[ProfileRow]:
    """Per profile indicator: the country's latest value and year, its rank among the focus countries with
    data, its ten-year trend, the ASEAN median and band and, for a Plus Three country, the Plus Three values.
    ``basis``: :func:`profile_basis` of ``latest``, when the tables of several countries are made."""
    basis = basis if basis is not None else profile_basis(latest, ctx)
    return [_profile_row(basis.shared[ind], ctx, ind, iso3, basis) for ind in basis.ids]


# ----------------------------------------------------------------------------- notes: rules, not prose per country
def _value_text(r: ProfileRow) -> str:
    return f"{fmt(r.value)} {r.unit} ({r.year_text})"


def _coverage_notes(rows: dict[str, ProfileRow]) -> list[str]:
    """SDG 1.3.1 parts above the total: the total counts people of every age, the parts one group each."""
    total = rows.get(COVERAGE_TOTAL)
    if total is None or np.isnan(total.value):
        return []
    min_diff = api.min_difference_of(COVERAGE_TOTAL)
    above = [r for i, r in rows.items() if i.startswith(COVERAGE_PREFIX) and i != COVERAGE_TOTAL
             and not np.isnan(r.value) and r.value > total.value + min_diff]
    if not above:
        return []
    parts = "; ".join(f"{r.title}: {_value_text(r)}" for r in above)
    return [f"Coverage of a group above the total: {parts}; {total.title}: {_value_text(total)}. The total "
            "counts every person of every age who receives at least one benefit, so wide coverage of one group "
            "(such as pensions above retirement age) can sit beside a lower total when children and people of "
            "working age are less often covered."]


def _gap_notes(rows: dict[str, ProfileRow]) -> list[str]:
    gap = rows.get(DISABILITY_GAP)
    if gap is None or np.isnan(gap.value) or gap.value >= 0:
        return []
    return [f"{gap.title}: {_value_text(gap)} is below zero: persons with disabilities who are in the labour "
            "force are less often unemployed than others, which can come with fewer of them being in the labour "
            "force at all (unemployment counts only those looking for work)."]


def _period_notes(rows: list[ProfileRow], ctx: ReportContext) -> list[str]:
    out = []
    for r in rows:
        period = ctx.period(r.indicator_id)
        if period > 1 and r.year is not None:
            out.append(f"{r.title}: the value is an average over the {period}-year period {r.year_text} "
                       f"(the source publishes {period}-year periods), not one calendar year.")
    return out


def _catalogue_notes(rows: list[ProfileRow], ctx: ReportContext) -> list[str]:
    return [f"{r.title}: {ctx.note(r.indicator_id)}" for r in rows if ctx.note(r.indicator_id)]


def _gaps_note(rows: list[ProfileRow], name: str) -> list[str]:
    missing = [r.title for r in rows if np.isnan(r.value)]
    if not missing:
        return []
    return [f"No value for {name} in the window for {len(missing)} of {len(rows)} indicators "
            f"({'; '.join(missing)}): gaps, not zeros; they are left out of ranks and medians."]


def profile_notes(rows: list[ProfileRow], ctx: ReportContext, name: str) -> list[str]:
    """The notes the rules attach to a profile: SDG 1.3.1 parts above the total, a negative disability
    unemployment gap, values of multi-year periods, the catalogue's notes on the indicators shown, gaps."""
    by_id = {r.indicator_id: r for r in rows}
    return (_coverage_notes(by_id) + _gap_notes(by_id) + _period_notes(rows, ctx) + _catalogue_notes(rows, ctx)
            + _gaps_note(rows, name))


# ----------------------------------------------------------------------------- one country's note
@dataclass
class CountryNote:
    """Everything a profile shows, in the order it shows it (the PDF, the notebook and the workbook)."""

    iso3: str
    name: str
    context: str
    messages: list[str]
    rows: list[ProfileRow]
    notes: list[str]
    last_meetings: dict[str, str]  # population group -> "23rd meeting, 2025 (year inferred)"
    window_note: str

    def table(self) -> pd.DataFrame:
        """The rows as a table (what notebook 07 shows)."""
        out = pd.DataFrame({
            "indicator": [r.title for r in self.rows], "unit": [r.unit for r in self.rows],
            "value": [r.value for r in self.rows], "year": [r.year_text for r in self.rows],
            "rank": [r.rank_text for r in self.rows], "years ranked": [r.ranked_years for r in self.rows],
            "10-year trend": [r.trend_text for r in self.rows],
            "ASEAN median": [r.median for r in self.rows],
            "members reporting": [f"{r.n} of {r.big_n}" for r in self.rows]})
        names = api.country_names()
        for code in self.rows[0].plus_three if self.rows else {}:
            out[names.get(code, code)] = [r.plus_three[code][0] for r in self.rows]
        return out


def country_note(iso3: str, ctx: ReportContext | None = None, latest: pd.DataFrame | None = None,
                 window_note: str | None = None, basis: ProfileBasis | None = None,
                 message_texts: list[str] | None = None) -> CountryNote:
    """One country's profile content: messages, context line, indicator rows, notes, last meetings.
    ``basis``: :func:`profile_basis` of ``latest``, shared by the notes of several countries;
    ``message_texts``: the country's messages when already made for several countries at once."""
    if ctx is None and latest is None and basis is None:
        kept = _store_note_basis()
        if kept is not None:
            ctx, latest, window_note, basis = kept.ctx, kept.latest, kept.window_note, kept.basis
    ctx = ctx or make_context(None)
    if latest is None:
        latest, window_note = profile_latest(ctx)
    rows = profile_table(latest, ctx, iso3, basis)
    context = standing.country_context(iso3, processed_dir=ctx.processed_dir, latest=latest)
    messages = message_texts if message_texts is not None else \
        [m.text for m in country_messages(iso3, processed_dir=ctx.processed_dir)]
    return CountryNote(iso3=iso3, name=context.name, context=context.line(), messages=messages, rows=rows,
                       notes=profile_notes(rows, ctx, context.name), window_note=window_note or "",
                       last_meetings=ctx.last_meeting_labels(tuple(profile_groups())))


@dataclass(frozen=True)
class _NoteBasis:
    """What :func:`country_note` without a context shares with every other such call on one version of the
    store: a notebook kernel runs notebook 07 once per country, and the all-country basis is the same each time."""

    ctx: ReportContext
    latest: pd.DataFrame
    window_note: str
    basis: ProfileBasis


def _store_note_basis() -> _NoteBasis | None:
    """The default store's :class:`_NoteBasis`, kept per :func:`~analysis.store.api.store_version`; None
    for a store without a manifest (nothing to tell its versions apart by: made afresh at each call, as before)."""
    version = api.store_version(None)
    return None if version is None else _note_basis_of(version)


@lru_cache(maxsize=2)
def _note_basis_of(version: tuple) -> _NoteBasis:
    # ``version`` is the key only: the store it names is the one make_context(None) reads now.
    ctx = make_context(None)
    latest, window_note = profile_latest(ctx)
    return _NoteBasis(ctx=ctx, latest=latest, window_note=window_note, basis=profile_basis(latest, ctx))


# ----------------------------------------------------------------------------- writing the profiles
def _latest_of_profile(ctx: ReportContext, wanted: list[str]) -> tuple[pd.DataFrame, tuple[int, int] | None]:
    """Latest values of the profile indicators; one absent from the store is a gap for every country."""
    ids = [i for i in wanted if i in ctx.store_ids]
    latest, window = ctx.latest(ids) if ids else (pd.DataFrame(columns=["iso3", "indicator_id"]), None)
    for ind in wanted:
        if ind not in ctx.store_ids:
            latest = pd.concat([latest, pd.DataFrame({"iso3": palette.focus_iso3(), "indicator_id": ind,
                                                      "value": np.nan, "year": pd.NA})], ignore_index=True)
    return latest, window


def profile_latest(ctx: ReportContext) -> tuple[pd.DataFrame, str]:
    """The latest values of every profile indicator and the sentence stating their windows."""
    wanted = [i for ids in profile_groups().values() for i in ids]
    context_ids = [i for i in (standing.POPULATION, standing.SHARE_65) if i not in wanted]
    latest, window = _latest_of_profile(ctx, wanted + context_ids)
    note = (window_text(wanted) + " up to each indicator's latest year in the store "
            f"(here {window[0]}–{window[1]} at the widest)." if window else "")
    return latest, note
