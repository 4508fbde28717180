"""Ageing speed (7 -> 14 -> 21 % aged 65+): the pure rules of analysis.rules.crossings on synthetic series."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.pipeline.build import build_store
from analysis.rules.crossings import (
    BEFORE_SERIES,
    ESTIMATE,
    NOT_REACHED,
    PROJECTION,
    SHARE_65_ESTIMATE,
    ageing_paths,
    combine_estimates_and_projections,
    format_speed_table,
    speed_table_from_series,
    threshold_crossings,
    years_to_transition,
)
from analysis.store import api
from analysis.store.ageing import ageing_speed_table, load_share_65


def synthetic_linear_share(start_year: int, end_year: int, start: float, per_year: float,
                           projection_from: int | None = None, source: str = "synthetic") -> pd.DataFrame:
    """A share rising by ``per_year`` points a year; rows from ``projection_from`` are projections."""
    years = list(range(start_year, end_year + 1))
    return pd.DataFrame({
        "year": years,
        "value": [start + per_year * (y - start_year) for y in years],
        "projection": [projection_from is not None and y >= projection_from for y in years],
        "source_id": source,
    })


def test_crossing_years_are_interpolated_between_observations():
    # 5 % in 1960 rising 0.5 a year: 7 % at 1964, 14 % at 1978, 21 % at 1992.
    series = synthetic_linear_share(1960, 2000, 5.0, 0.5)
    table = years_to_transition(series)
    assert list(table["from_pct"]) == [7.0, 14.0]
    assert list(table["to_pct"]) == [14.0, 21.0]
    assert table["year_from"].tolist() == pytest.approx([1964.0, 1978.0])
    assert table["year_to"].tolist() == pytest.approx([1978.0, 1992.0])
    assert table["years"].tolist() == pytest.approx([14.0, 14.0])
    assert set(table["status_from"]) | set(table["status_to"]) == {ESTIMATE}
    assert not table["projected"].any()


def test_fractional_crossing_between_two_years():
    series = pd.Series({2000: 6.0, 2001: 8.0, 2002: 15.0})
    crossings = threshold_crossings(series, thresholds=(7, 14))
    assert crossings["year"].tolist() == pytest.approx([2000.5, 2001 + 6 / 7])


def test_first_crossing_counts_even_if_share_dips_again():
    series = pd.Series({2000: 6.0, 2001: 7.5, 2002: 6.5, 2003: 8.0})
    crossing = threshold_crossings(series, thresholds=(7,)).iloc[0]
    assert crossing["year"] == pytest.approx(2000 + 1 / 1.5)


def test_projected_crossing_is_marked_and_sourced():
    est = synthetic_linear_share(1960, 2020, 3.0, 0.2, source="wdi")  # 7 % in 1980, 14 % in 2015
    proj = synthetic_linear_share(2021, 2100, 15.2, 0.2, projection_from=2021, source="wpp")  # 21 % in 2050
    series = combine_estimates_and_projections(est, proj)
    crossings = threshold_crossings(series).set_index("threshold")
    assert crossings.loc[14.0, "status"] == ESTIMATE
    assert crossings.loc[14.0, "source"] == "wdi"
    assert crossings.loc[21.0, "status"] == PROJECTION
    assert crossings.loc[21.0, "source"] == "wpp"
    assert crossings.loc[21.0, "year"] == pytest.approx(2050.0)
    assert "projected" in crossings.loc[21.0, "flag"]
    table = years_to_transition(series)
    assert table["projected"].tolist() == [False, True]


def test_crossing_that_bridges_estimate_and_projection_is_projected():
    est = pd.DataFrame({"year": [2019, 2020], "value": [12.0, 13.0], "source_id": "wdi"})
    proj = pd.DataFrame({"year": [2021], "value": [15.0], "projection": [True], "source_id": "wpp"})
    crossing = threshold_crossings(combine_estimates_and_projections(est, proj), (14,)).iloc[0]
    assert crossing["status"] == PROJECTION
    assert crossing["source"] == "wdi+wpp"
    assert crossing["year"] == pytest.approx(2020.5)


def test_not_reached_by_end_of_projection_is_nan_and_flagged():
    series = synthetic_linear_share(1960, 2100, 3.0, 0.1, projection_from=2021)  # ends at 17 %
    crossings = threshold_crossings(series).set_index("threshold")
    assert crossings.loc[21.0, "status"] == NOT_REACHED
    assert math.isnan(crossings.loc[21.0, "year"])
    assert "not reached by 2100" in crossings.loc[21.0, "flag"]
    table = years_to_transition(series)
    assert math.isnan(table.loc[1, "years"])
    assert not math.isnan(table.loc[0, "years"])


def test_already_above_at_series_start_is_flagged_not_dated():
    series = synthetic_linear_share(1950, 2000, 8.0, 0.2)
    crossings = threshold_crossings(series).set_index("threshold")
    assert crossings.loc[7.0, "status"] == BEFORE_SERIES
    assert math.isnan(crossings.loc[7.0, "year"])
    assert "before 1950" in crossings.loc[7.0, "flag"]
    assert crossings.loc[14.0, "status"] == ESTIMATE
    assert math.isnan(years_to_transition(series).loc[0, "years"])


def test_gap_in_series_is_flagged_when_interpolated_across():
    series = pd.Series({2000: 6.0, 2005: 8.0})
    crossing = threshold_crossings(series, (7,)).iloc[0]
    assert crossing["year"] == pytest.approx(2002.5)
    assert "gap 2000-2005" in crossing["flag"]


def test_combine_uses_projection_source_only_outside_estimate_span():
    est = pd.DataFrame({"iso3": "AAA", "year": [1960, 1961, 1963], "value": [1.0, 2.0, 4.0], "source_id": "wdi"})
    proj = pd.DataFrame({"iso3": "AAA", "year": [1958, 1959, 1960, 1962, 1963, 1964],
                         "value": [10.0, 11.0, 12.0, 13.0, 14.0, 15.0],
                         "projection": [False, False, False, False, False, True], "source_id": "wpp"})
    out = combine_estimates_and_projections(est, proj, splice=None)
    assert out["year"].tolist() == [1958, 1959, 1960, 1961, 1963, 1964]  # 1962 gap stays a gap
    assert out["source_id"].tolist() == ["wpp", "wpp", "wdi", "wdi", "wdi", "wpp"]
    assert out["value"].tolist() == [10.0, 11.0, 1.0, 2.0, 4.0, 15.0]
    assert out["projection"].tolist() == [False] * 5 + [True]


def test_ratio_splice_meets_estimates_at_both_junctions_and_is_flagged():
    est = pd.DataFrame({"iso3": "AAA", "year": [2000, 2001, 2002], "value": [10.0, 11.0, 12.0], "source_id": "wdi"})
    proj = pd.DataFrame({"iso3": "AAA", "year": [1999, 2000, 2002, 2003, 2004],
                         "value": [4.0, 5.0, 16.0, 18.0, 32.0],
                         "projection": [False, False, False, True, True], "source_id": "wpp"})
    out = combine_estimates_and_projections(est, proj).set_index("year")
    # before the estimates: x 10/5; after: x 12/16, so projected growth is kept, level is the estimate's
    assert out.loc[1999, "value"] == pytest.approx(8.0)
    assert out.loc[2003, "value"] == pytest.approx(13.5)
    assert out.loc[2004, "value"] == pytest.approx(24.0)
    assert out.loc[2003, "splice_factor"] == pytest.approx(0.75)
    assert out.loc[2001, "splice_factor"] == 1.0
    crossing = threshold_crossings(out.reset_index(), (21,)).iloc[0]
    assert crossing["year"] == pytest.approx(2003 + 7.5 / 10.5)
    assert "level-adjusted x0.75" in crossing["flag"]
    with pytest.raises(ValueError, match="splice"):
        combine_estimates_and_projections(est, proj, splice="mean")


def test_combine_keeps_projection_series_for_country_without_estimates():
    est = pd.DataFrame({"iso3": "AAA", "year": [2000], "value": [1.0], "source_id": "wdi"})
    proj = pd.DataFrame({"iso3": ["BBB", "BBB"], "year": [2000, 2030], "value": [2.0, 3.0],
                         "projection": [False, True], "source_id": "wpp"})
    out = combine_estimates_and_projections(est, proj)
    assert out.loc[out["iso3"] == "BBB", "year"].tolist() == [2000, 2030]


def test_duplicate_years_are_rejected():
    frame = pd.DataFrame({"year": [2000, 2000], "value": [1.0, 2.0]})
    with pytest.raises(ValueError, match="year 2000 appears more than once"):
        threshold_crossings(frame)


def test_thresholds_must_increase():
    with pytest.raises(ValueError, match="must increase"):
        years_to_transition(pd.Series({2000: 1.0, 2001: 2.0}), thresholds=(14, 7))


def _two_country_series() -> pd.DataFrame:
    ref = synthetic_linear_share(1960, 2000, 5.0, 0.5).assign(iso3="REF")      # 7 % 1964, 14 years a step
    fast = synthetic_linear_share(1960, 2050, 3.0, 1.0).assign(iso3="FST")     # 7 % 1964, 7 years a step
    return pd.concat([ref, fast], ignore_index=True)


def test_speed_table_relative_to_reference():
    table = speed_table_from_series(_two_country_series(), reference="REF").set_index("iso3")
    assert table.loc["FST", "years_7_14"] == pytest.approx(7.0)
    assert table.loc["REF", "years_7_14"] == pytest.approx(14.0)
    assert table.loc["FST", "faster_7_14"] == pytest.approx(7.0)
    assert table.loc["REF", "faster_7_14"] == pytest.approx(0.0)
    assert table.loc["FST", "lag_7"] == pytest.approx(0.0)
    assert table.loc["FST", "status_21"] == ESTIMATE


def test_speed_table_without_reference_leaves_relative_columns_missing():
    table = speed_table_from_series(_two_country_series(), reference="ZZZ")
    assert table["faster_7_14"].isna().all()
    assert table["years_7_14"].notna().all()


def test_ageing_paths_align_on_threshold_year():
    paths = ageing_paths(_two_country_series())
    at_zero = paths.loc[paths["years_since"].abs() < 1e-9]
    assert sorted(at_zero["year"]) == [1964, 1964]  # both reach 7 % exactly in 1964
    fst = paths.loc[(paths["iso3"] == "FST") & (paths["year"] == 1970)]
    assert fst["years_since"].iloc[0] == pytest.approx(6.0)


def test_rules_raise_value_error_on_missing_columns():
    with pytest.raises(ValueError, match="missing column 'iso3'"):
        speed_table_from_series(synthetic_linear_share(1960, 2000, 5.0, 0.5))
    with pytest.raises(ValueError, match="projections: missing column 'value'"):
        combine_estimates_and_projections(synthetic_linear_share(1960, 2000, 5.0, 0.5),
                                          pd.DataFrame({"year": [2001]}))


def test_format_speed_table_words_for_gaps_and_projected_years():
    est = synthetic_linear_share(1950, 2020, 8.0, 0.1, source="wdi").assign(iso3="QAA")  # 7 % before 1950
    # projections from 15.1 % in 2021, 0.05 a year: 16 % in 2039, 19.05 % by 2100
    proj = synthetic_linear_share(2021, 2100, 15.1, 0.05, projection_from=2021, source="wpp").assign(iso3="QAA")
    thresholds = (7.0, 14.0, 16.0, 21.0)
    table = speed_table_from_series(combine_estimates_and_projections(est, proj), thresholds, reference="QAA")
    out = format_speed_table(table, thresholds).iloc[0]
    assert out["reaches 7%"] == "before 1950"
    assert out["reaches 14%"] == "2010"
    assert out["reaches 16%"] == "2039 p"
    assert out["reaches 21%"] == "not by 2100"
    assert out["14->16 (years)"] == 29 and pd.isna(out["16->21 (years)"])


# ---------------------------------------------------------------- from the store (synthetic project)


def test_share_65_from_the_store_keeps_estimates_and_adds_projection_years(synthetic_project):
    build_store(progress=False)
    est = api.load(SHARE_65_ESTIMATE, countries=["AAA"], names=False)
    series = load_share_65(["AAA"])
    from_estimates = series.loc[series["year"].isin(est["year"])]
    # every estimate year keeps the estimate; the WPP series adds only the years after the last estimate
    assert from_estimates.set_index("year")["value"].to_dict() == est.set_index("year")["value"].to_dict()
    added = series.loc[series["year"] > est["year"].max()]
    assert len(added) and (added["source_id"] != from_estimates["source_id"].iloc[0]).all()
    assert series["vintage"].notna().all()


def test_speed_table_from_the_store_has_names_in_display_order(synthetic_project):
    build_store(progress=False)
    table = ageing_speed_table(["CCC", "AAA"], reference="CCC")
    assert table["iso3"].tolist() == [i for i in api.display_order() if i in {"AAA", "CCC"}]
    assert table.set_index("iso3")["name"].to_dict() == api.country_names(["AAA", "CCC"])
    # the synthetic shares start above 7 % (10 % and 12 % in 2000): not dated, so no lag either
    assert (table["status_7"] == BEFORE_SERIES).all() and table["lag_7"].isna().all()
