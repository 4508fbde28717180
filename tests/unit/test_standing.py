"""Where a country stands (analysis.store.standing): rank "k of N", ten-year trend, context line and the last
meeting per group, on small SYNTHETIC frames (fictitious codes AAA..EEE, invented numbers).

The context line is read through the API; here the API functions it calls are replaced by ones serving a
synthetic countries table and latest values, so the test checks that every fact of the line follows them.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis.store import api, standing


def _values(**kw: float) -> pd.Series:
    return pd.Series(kw, dtype="float64")


# ------------------------------------------------------------------------------------------- rank
def test_rank_counts_from_the_better_end():
    vals = _values(AAA=10.0, BBB=30.0, CCC=20.0, DDD=math.nan)
    assert standing.rank_in(vals, "BBB", "higher").text == "1 of 3"
    assert standing.rank_in(vals, "BBB", "lower").text == "3 of 3"
    assert standing.rank_in(vals, "AAA", "lower").k == 1


def test_rank_without_a_value_is_no_data_and_n_counts_only_countries_with_data():
    rank = standing.rank_in(_values(AAA=1.0, BBB=math.nan, CCC=2.0), "BBB", "higher")
    assert (rank.k, rank.n, rank.text) == (None, 2, "no data")


def test_ties_share_the_better_place():
    vals = _values(AAA=5.0, BBB=5.0, CCC=1.0)
    assert standing.rank_in(vals, "AAA", "higher").k == 1
    assert standing.rank_in(vals, "BBB", "higher").k == 1
    assert standing.rank_in(vals, "CCC", "higher").k == 3


def test_neutral_ranks_say_highest_or_lowest_never_better_or_worse():
    vals = _values(AAA=1.0, BBB=2.0, CCC=3.0, DDD=4.0, EEE=5.0)
    texts = {iso: standing.rank_in(vals, iso, "neutral").text for iso in vals.index}
    assert texts == {"EEE": "highest of 5", "DDD": "2nd highest of 5", "CCC": "3rd highest of 5",
                     "BBB": "2nd lowest of 5", "AAA": "lowest of 5"}
    for text in texts.values():
        assert not any(word in text for word in ("best", "worst", "better", "worse"))


def test_ordinals():
    assert [standing.ordinal(k) for k in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]


# ------------------------------------------------------------------------------------------- trend
def _series(points: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame({"year": list(points), "value": list(points.values())})


def test_trend_compares_with_the_value_ten_years_earlier():
    trend = standing.trend_of(_series({2012: 40.0, 2014: 50.0, 2024: 30.0}), 2024, better="lower",
                              min_difference=1.0, tolerance=2)
    assert (trend.direction, trend.judged, trend.start_year, trend.change) == ("down", "better", 2014, -20.0)
    assert trend.text() == "↓ -20.0 since 2014"


def test_trend_start_is_the_nearest_year_within_the_tolerance_ties_to_the_earlier_year():
    series = _series({2013: 10.0, 2015: 20.0, 2024: 25.0})
    trend = standing.trend_of(series, 2024, better="higher", min_difference=0.0, tolerance=1)
    assert trend.start_year == 2013 and trend.change == 15.0 and trend.judged == "better"
    assert standing.trend_of(series, 2024, better="higher", min_difference=0.0, tolerance=0).direction == "none"


def test_trend_is_flat_below_the_smallest_meaningful_difference():
    series = _series({2014: 99.6, 2024: 99.8})
    flat = standing.trend_of(series, 2024, better="higher", min_difference=1.0, tolerance=2)
    assert (flat.direction, flat.judged, flat.arrow) == ("flat", "flat", "→")
    assert flat.text() == "→ flat since 2014"
    moved = standing.trend_of(series, 2024, better="higher", min_difference=0.1, tolerance=2)
    assert (moved.direction, moved.arrow) == ("up", "↑")


def test_neutral_trends_get_an_arrow_but_no_judgement():
    trend = standing.trend_of(_series({2014: 5.0, 2024: 9.0}), 2024, better="neutral", min_difference=1.0,
                              tolerance=2)
    assert (trend.direction, trend.judged) == ("up", "neutral")


def test_trend_never_starts_at_or_after_the_latest_year_and_needs_the_latest_value():
    series = _series({2023: 1.0, 2024: 2.0})
    assert standing.trend_of(series, 2024, better="higher", min_difference=0, tolerance=20).start_year == 2023
    assert standing.trend_of(series, 2025, better="higher", min_difference=0, tolerance=20).direction == "none"
    assert standing.trend_of(series, None, better="higher", min_difference=0, tolerance=20).text() == "–"


def test_trend_start_is_the_row_the_projects_nearest_year_rule_picks():
    # synthetic series with gaps, repeated years and missing values: the start is api.nearest_year's first row
    rng = np.random.default_rng(12)
    for _ in range(300):
        years = rng.integers(2005, 2025, size=int(rng.integers(1, 12)))
        series = pd.DataFrame({"year": years, "value": np.where(rng.random(len(years)) < 0.2, np.nan,
                                                                rng.normal(size=len(years)))})
        end, tolerance = int(years.max()), int(rng.integers(0, 4))
        trend = standing.trend_of(series, end, better="higher", min_difference=0.0, tolerance=tolerance)
        observed = series.loc[series["value"].notna()]
        ended = observed["year"].eq(end).any()
        start = api.nearest_year(observed.loc[observed["year"] < end], end - standing.TREND_YEARS, tolerance)
        if not ended or start.empty:
            assert trend.direction == "none"
            continue
        assert trend.start_year == int(start["year"].iloc[0])
        expected = float(observed.loc[observed["year"] == end, "value"].iloc[0]) - float(start["value"].iloc[0])
        assert trend.change == expected


def test_trend_for_reads_direction_tolerance_and_smallest_difference_from_the_catalogue(monkeypatch):
    monkeypatch.setattr(api, "direction_of", lambda ind: "lower")
    monkeypatch.setattr(api, "min_difference_of", lambda ind: 5.0)
    monkeypatch.setattr(api, "tolerance_of", lambda ind: 0)
    series = _series({2012: 10.0, 2013: 14.0, 2024: 10.0})
    assert standing.trend_for("synthetic_indicator", series, 2024).direction == "none"  # tolerance 0: no 2014
    monkeypatch.setattr(api, "tolerance_of", lambda ind: 1)
    assert standing.trend_for("synthetic_indicator", series, 2024).direction == "flat"  # 2013: |-4| < 5
    monkeypatch.setattr(api, "min_difference_of", lambda ind: 2.0)
    assert standing.trend_for("synthetic_indicator", series, 2024).judged == "better"


# ------------------------------------------------------------------------------------------- context line
SYNTHETIC_COUNTRIES = pd.DataFrame({
    "iso3": ["AAA", "BBB", "JJJ"], "name": ["Aland", "Bland", "Jland"],
    "wb_income_group": ["Lower middle income", pd.NA, "High income"],
    "asean_joined": ["1967-08-08", "2030-01-01", pd.NA], "plus_three": [False, False, True]})


@pytest.fixture
def synthetic_api(monkeypatch):
    """The API functions country_context calls, serving synthetic tables (as of 2026-07-01)."""
    latest = pd.DataFrame({"iso3": ["AAA", "AAA", "JJJ"],
                           "indicator_id": [standing.POPULATION, standing.SHARE_65, standing.POPULATION],
                           "value": [12_345_678.0, 6.25, 456_789.0],
                           "year": pd.array([2024, 2023, 2022], dtype="Int16")})
    catalogue = pd.DataFrame({"indicator_id": [standing.SHARE_65], "unit": ["% of population"]})
    monkeypatch.setattr(api, "countries", lambda *a, **k: SYNTHETIC_COUNTRIES)
    monkeypatch.setattr(api, "indicator_ids", lambda *a, **k: frozenset({standing.POPULATION, standing.SHARE_65}))
    monkeypatch.setattr(api, "latest", lambda ids, iso, **k: latest[latest["iso3"].isin(iso)])
    monkeypatch.setattr(api, "catalogue", lambda: catalogue)
    monkeypatch.setattr(api, "as_of", lambda *a, **k: date(2026, 7, 1))
    return latest


def test_context_line_states_each_fact_with_its_year(synthetic_api):
    line = standing.country_context("AAA").line()
    assert line == ("Population 12.3 million (2024) · aged 65 and over: 6.2 % of population (2023) · "
                    "World Bank income group: Lower middle income · ASEAN member since 8 August 1967")


def test_context_line_follows_the_data(synthetic_api):
    synthetic_api.loc[0, "value"] = 2_500_000_000.0
    synthetic_api.loc[0, "year"] = 2020
    assert standing.country_context("AAA").line().startswith("Population 2.50 billion (2020) · ")


def test_context_line_says_what_is_missing_and_who_is_not_yet_a_member(synthetic_api):
    ctx = standing.country_context("BBB")
    assert not ctx.asean_member
    assert ctx.line() == ("Population: no data · aged 65 and over: no data · World Bank income group: not "
                          "classified · joins ASEAN on 1 January 2030, after the as-of date 2026-07-01: not yet "
                          "counted in ASEAN figures")


def test_plus_three_context_and_small_populations(synthetic_api):
    line = standing.country_context("JJJ").line()
    assert line.startswith("Population 456,789 (2022) · aged 65 and over: no data")
    assert line.endswith("Plus Three comparator (not an ASEAN member)")


def test_unknown_country_is_an_error_naming_it(synthetic_api):
    with pytest.raises(ValueError, match="ZZZ"):
        standing.country_context("ZZZ")


# ------------------------------------------------------------------------------------------- last meetings
def test_last_meeting_prefers_the_stated_year_when_two_share_it():
    meetings = pd.DataFrame({
        "meeting_no": [1, 2, 3, 4], "year": [2019, 2023, 2023, 2021],
        "year_basis": ["stated", "inferred", "stated", "inferred"],
        "focus_groups": [("older_persons",), ("older_persons",), ("older_persons", "children"), ("children",)]})
    last = standing.last_meetings(meetings, ["older_persons", "children", "mothers"])
    assert int(last["older_persons"]["meeting_no"]) == 3
    assert int(last["children"]["meeting_no"]) == 3
    assert "mothers" not in last
    stated_first = meetings.assign(year_basis=["stated", "stated", "inferred", "inferred"])
    assert int(standing.last_meetings(stated_first, ["older_persons"])["older_persons"]["meeting_no"]) == 2
    assert standing.last_meeting_labels(meetings, ["older_persons", "children"]) == {
        "older_persons": "3rd meeting, 2023", "children": "3rd meeting, 2023"}
    assert standing.last_meeting_labels(stated_first, ["older_persons"]) == {
        "older_persons": "2nd meeting, 2023"}
    inferred = meetings.assign(year_basis=["stated", "inferred", "inferred", "stated"])
    assert standing.last_meeting_labels(inferred, ["older_persons"]) == {
        "older_persons": "3rd meeting, 2023 (year inferred)"}
