"""Where a country stands: its rank "k of N" among the countries with data, its ten-year trend and the
facts of a profile's context line (population, share aged 65+, income group, ASEAN membership).

Directions (``better``), tolerances and smallest meaningful differences come from the catalogue through
the API. Neutral indicators are ranked by value ("2nd highest of 14") and their trends are arrows
without a judgement: they never get better/worse wording. A trend is "flat" when the change over the
span is smaller than the indicator's smallest meaningful difference, the same threshold that keeps
band colours from flipping on trivial differences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analysis.core import settings
from analysis.store import api
from analysis.store.ageing import SHARE_65_ESTIMATE

#: Years a profile trend looks back from the country's latest value.
TREND_YEARS = 10
#: The total population of the context line: the same series the aggregates are weighted with.
POPULATION = settings.WEIGHT_INDICATOR
SHARE_65 = SHARE_65_ESTIMATE
ARROWS = {"up": "↑", "down": "↓", "flat": "→", "none": "–"}

__all__ = ["ARROWS", "POPULATION", "SHARE_65", "TREND_YEARS", "CountryContext", "Rank", "Trend", "country_context",
           "last_meeting_labels", "last_meetings", "ordinal", "rank_in", "trend_for", "trend_of"]


def ordinal(k: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


# --------------------------------------------------------------------------------------------- rank
@dataclass(frozen=True)
class Rank:
    """A country's place among the countries with a value: ``k`` (None without a value) of ``n``.

    Directional indicators count from the best end (1 = best); neutral ones count from whichever end
    is nearer, and say so ("highest" / "lowest"). Ties share the better place (competition ranking).
    """

    k: int | None
    n: int
    better: str
    end: str = ""  # neutral only: "highest" or "lowest"

    @property
    def text(self) -> str:
        if self.k is None:
            return "no data"
        if self.better == "neutral":
            place = self.end if self.k == 1 else f"{ordinal(self.k)} {self.end}"
            return f"{place} of {self.n}"
        return f"{self.k} of {self.n}"


def rank_in(values: pd.Series, iso3: str, better: str) -> Rank:
    """The rank of ``iso3`` among ``values`` (one per country, indexed by ISO3; NaN = no data)."""
    vals = values.astype("float64").dropna()
    n = len(vals)
    if iso3 not in vals.index:
        return Rank(k=None, n=n, better=better)
    # competition ranking ("min"): one plus the countries strictly ahead, counted from either end
    own, others = float(vals[iso3]), vals.to_numpy()
    from_top = 1 + int((others > own).sum())
    from_bottom = 1 + int((others < own).sum())
    if better == "higher":
        return Rank(k=from_top, n=n, better=better)
    if better == "lower":
        return Rank(k=from_bottom, n=n, better=better)
    if from_bottom < from_top:
        return Rank(k=from_bottom, n=n, better=better, end="lowest")
    return Rank(k=from_top, n=n, better=better, end="highest")


# --------------------------------------------------------------------------------------------- trend
@dataclass(frozen=True)
class Trend:
    """The change from the value about ``TREND_YEARS`` before the latest one to the latest one.

    ``direction`` is up, down, flat (|change| below the smallest meaningful difference) or none (no
    earlier value within the tolerance). ``judged`` is better / worse / flat for directional indicators,
    neutral for neutral ones, no data without a trend.
    """

    direction: str
    judged: str
    change: float = math.nan
    start_year: int | None = None
    end_year: int | None = None

    @property
    def arrow(self) -> str:
        return ARROWS[self.direction]

    def text(self, digits: int = 1) -> str:
        if self.direction == "none":
            return "–"
        if self.direction == "flat":
            return f"→ flat since {self.start_year}"
        return f"{self.arrow} {self.change:+.{digits}f} since {self.start_year}"


def _judge(direction: str, better: str) -> str:
    if direction in ("none", "flat"):
        return {"none": "no data", "flat": "flat"}[direction]
    if better == "neutral":
        return "neutral"
    improving = (direction == "up") == (better == "higher")
    return "better" if improving else "worse"


def trend_of(series: pd.DataFrame, end_year: int | None, *, better: str, min_difference: float, tolerance: int,
             span: int = TREND_YEARS) -> Trend:
    """The trend of one country's series (columns ``year``, ``value``) ending at ``end_year``.

    The start is the value nearest to ``end_year - span`` within ``tolerance`` years (ties to the
    earlier year, the project's nearest-year rule), and before ``end_year``.
    """
    none = Trend(direction="none", judged="no data")
    if end_year is None:
        return none
    if tolerance < 0:
        raise ValueError(f"tolerance must be zero or more years, got {tolerance}")
    # numpy on one short series: a report asks for a trend per country and profile row, and the pandas
    # version of these few lookups cost more than everything else in a profile's table
    observed = series["value"].notna().to_numpy(dtype=bool)
    year = series["year"].to_numpy()[observed].astype("int64")
    value = series["value"].to_numpy(dtype="float64", na_value=np.nan)[observed]
    at_end = np.flatnonzero(year == end_year)
    start = _nearest_before(year, end_year, end_year - span, tolerance)
    if not len(at_end) or start is None:
        return none
    start_year, start_value = int(year[start]), float(value[start])
    change = float(value[at_end[0]]) - start_value
    direction = "flat" if abs(change) < min_difference or change == 0 else "up" if change > 0 else "down"
    return Trend(direction=direction, judged=_judge(direction, better), change=change, start_year=start_year,
                 end_year=int(end_year))


def _nearest_before(year: np.ndarray, end_year: int, target: int, tolerance: int) -> int | None:
    """Position of the year before ``end_year`` nearest to ``target`` within ``tolerance``: the project's
    nearest-year rule (:func:`api.nearest_year`: ties to the earlier year, then the first row), or None."""
    distance = np.abs(year - target)
    candidates = np.flatnonzero((year < end_year) & (distance <= tolerance))
    if not len(candidates):
        return None
    order = np.lexsort((candidates, year[candidates], distance[candidates]))
    return int(candidates[order[0]])


def trend_for(indicator_id: str, series: pd.DataFrame, end_year: int | None, span: int = TREND_YEARS) -> Trend:
    """:func:`trend_of` with the indicator's direction, smallest difference and tolerance from the catalogue."""
    return trend_of(series, end_year, better=api.direction_of(indicator_id),
                    min_difference=api.min_difference_of(indicator_id), tolerance=api.tolerance_of(indicator_id),
                    span=span)


# --------------------------------------------------------------------------------------------- context
@dataclass(frozen=True)
class CountryContext:
    """The facts of a profile's context line, each with the year (or date) it refers to."""

    iso3: str
    name: str
    population: float
    population_year: int | None
    share_65: float
    share_65_year: int | None
    share_65_unit: str
    income_group: str | None
    plus_three: bool
    asean_joined: date | None
    as_of: date

    @property
    def asean_member(self) -> bool:
        """Member on the store's as-of date (the membership rule), not merely listed with a date."""
        return self.asean_joined is not None and self.asean_joined <= self.as_of

    def membership_text(self) -> str:
        if self.plus_three:
            return "Plus Three comparator (not an ASEAN member)"
        if self.asean_member:
            return f"ASEAN member since {_long_date(self.asean_joined)}"
        if self.asean_joined is not None:
            return (f"joins ASEAN on {_long_date(self.asean_joined)}, after the as-of date "
                    f"{self.as_of.isoformat()}: not yet counted in ASEAN figures")
        return "neither an ASEAN member nor a Plus Three country"

    def line(self) -> str:
        """"Population 17.8 million (2025) · aged 65+: 6.2 % of population (2025) · ..."."""
        parts = [f"Population {_people(self.population)} ({self.population_year})" if self.population_year
                 else "Population: no data",
                 f"aged 65 and over: {self.share_65:.1f} {self.share_65_unit} ({self.share_65_year})"
                 if self.share_65_year else "aged 65 and over: no data",
                 f"World Bank income group: {self.income_group}" if self.income_group
                 else "World Bank income group: not classified",
                 self.membership_text()]
        return " · ".join(parts)


def _long_date(day: date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


def _people(value: float) -> str:
    if value >= 1e9:
        return f"{value / 1e9:.2f} billion"
    if value >= 1e6:
        return f"{value / 1e6:.1f} million"
    return f"{value:,.0f}"


def _latest_of(latest: pd.DataFrame, indicator_id: str, iso3: str) -> tuple[float, int | None]:
    hit = latest.loc[(latest["indicator_id"] == indicator_id) & (latest["iso3"] == iso3)]
    if hit.empty or pd.isna(hit["value"].iloc[0]):
        return math.nan, None
    return float(hit["value"].iloc[0]), int(hit["year"].iloc[0])


def country_context(iso3: str, processed_dir=None, latest: pd.DataFrame | None = None) -> CountryContext:
    """Population and share aged 65+ (latest values in their windows), World Bank income group and ASEAN
    membership (accession date against the store's as-of date) of one country, from the store.

    ``latest``: a frame of :func:`api.latest` already holding both indicators (a report asks once for all
    countries instead of once per country)."""
    table = api.countries(processed_dir=processed_dir)
    hit = table.loc[table["iso3"] == iso3]
    if hit.empty:
        raise ValueError(f"unknown country code {iso3!r}: not in the store's countries table")
    rec = hit.iloc[0]
    if latest is None:
        ids = [i for i in (POPULATION, SHARE_65) if i in api.indicator_ids(processed_dir)]
        latest = api.latest(ids, [iso3], processed_dir=processed_dir) if ids else pd.DataFrame(
            columns=["iso3", "indicator_id", "value", "year"])
    pop, pop_year = _latest_of(latest, POPULATION, iso3)
    share, share_year = _latest_of(latest, SHARE_65, iso3)
    unit = str(api.catalogue().set_index("indicator_id").loc[SHARE_65, "unit"])
    joined = rec["asean_joined"]
    return CountryContext(
        iso3=iso3, name=str(rec["name"]), population=pop, population_year=pop_year, share_65=share,
        share_65_year=share_year, share_65_unit=unit,
        income_group=None if pd.isna(rec["wb_income_group"]) else str(rec["wb_income_group"]),
        plus_three=bool(rec["plus_three"]), asean_joined=None if pd.isna(joined) else date.fromisoformat(str(joined)),
        as_of=api.as_of(processed_dir))


# --------------------------------------------------------------------------------------------- meetings
def last_meetings(meetings: pd.DataFrame, groups: list[str] | tuple[str, ...]) -> dict[str, pd.Series]:
    """Per focus group, the latest meeting whose focus groups include it.

    Where two meetings share that year, the one whose year is stated wins over one whose year was
    inferred (then the later meeting number). Groups without a meeting are left out.
    """
    basis_order = {"stated": 0, "inferred": 1}
    out: dict[str, pd.Series] = {}
    for group in groups:
        on = meetings.loc[meetings["focus_groups"].map(lambda fg, g=group: g in fg).astype(bool)]
        if on.empty:
            continue
        ordered = on.assign(_basis=on["year_basis"].map(lambda b: basis_order.get(str(b), len(basis_order))),
                            _year=on["year"].astype(int), _no=on["meeting_no"].astype(int))
        ordered = ordered.sort_values(["_year", "_basis", "_no"], ascending=[False, True, False], kind="stable")
        out[group] = ordered.drop(columns=["_basis", "_year", "_no"]).iloc[0]
    return out


def last_meeting_labels(meetings: pd.DataFrame, groups: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Per focus group, its last meeting as "23rd meeting, 2025 (year inferred)" (see :func:`last_meetings`)."""
    out = {}
    for group, rec in last_meetings(meetings, groups).items():
        inferred = " (year inferred)" if str(rec["year_basis"]) == "inferred" else ""
        out[group] = f"{ordinal(int(rec['meeting_no']))} meeting, {int(rec['year'])}{inferred}"
    return out
