"""rules.aggregates: group medians and population-weighted means on hand-checked synthetic numbers.

Every parameter (coverage, groups, membership date, weight indicator) is passed explicitly: the rule
has no defaults of its own, the API and the build supply the project's settings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.rules import aggregates as agg
from analysis.rules.aggregates import aggregate_members, aggregates_long, compute_aggregates

#: the synthetic weight series (a made-up id, so the test shows the rule uses the one it is given)
WEIGHT = "synthetic_weight"
#: a membership date after every synthetic accession
LATE = "2026-01-01"


def synthetic_countries() -> pd.DataFrame:
    """Four ASEAN-like members (the last joins 2025-10-26), one Plus-Three-like, one outsider."""
    return pd.DataFrame({
        "iso3": ["QAA", "QAB", "QAC", "QAD", "QPA", "QZZ"],
        "name": ["Syn A", "Syn B", "Syn C", "Syn D", "Syn P", "Syn Z"],
        "m49": pd.array([901, 902, 903, 904, 950, 999], dtype="Int64"),
        "wb_region": ["R1"] * 5 + ["R2"],
        "wb_income_group": ["High income"] * 6,
        "asean_joined": ["1967-08-08", "1967-08-08", "1999-04-30", "2025-10-26", pd.NA, pd.NA],
        "plus_three": [False, False, False, False, True, False],
        "focus": [True] * 5 + [False],
    }).astype({c: "string" for c in ("iso3", "name", "wb_region", "wb_income_group", "asean_joined")})


def long_frame(rows: list[tuple], projection: bool = False) -> pd.DataFrame:
    """(iso3, indicator_id, year, value) tuples -> a long frame with the store's other columns."""
    frame = pd.DataFrame(rows, columns=["iso3", "indicator_id", "year", "value"])
    return frame.assign(unit=np.where(frame["indicator_id"] == WEIGHT, "persons", "%"),
                        source_id="synthetic", vintage="2026", projection=projection)


def synthetic_aggregate_input() -> pd.DataFrame:
    values = [("QAA", "x", 2010, 10.0), ("QAB", "x", 2010, 20.0), ("QAC", "x", 2010, 60.0),
              ("QPA", "x", 2010, 40.0), ("QZZ", "x", 2010, 1000.0),
              ("QAA", "x", 2011, 5.0),
              ("QZZ", "x", 2012, 7.0)]
    pop = [("QAA", WEIGHT, 2010, 1.0), ("QAB", WEIGHT, 2010, 3.0), ("QPA", WEIGHT, 2010, 4.0),
           ("QZZ", WEIGHT, 2010, 100.0), ("QAA", WEIGHT, 2011, 1.0)]
    return long_frame(values + pop)


def aggregates(data: pd.DataFrame, *, min_coverage: float = 0.5, groups: tuple[str, ...] = ("ASEAN",),
               on: str = LATE) -> pd.DataFrame:
    return compute_aggregates(data, synthetic_countries(), min_coverage=min_coverage, groups=groups, on=on,
                              weight_indicator=WEIGHT)


def agg_row(result: pd.DataFrame, group: str, year: int, indicator: str = "x") -> pd.Series:
    hit = result.loc[(result["group"] == group) & (result["year"] == year) & (result["indicator_id"] == indicator)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_median_and_weighted_mean_by_hand():
    r = agg_row(aggregates(synthetic_aggregate_input()), "ASEAN", 2010)
    # members QAA, QAB, QAC, QAD (N=4); values 10, 20, 60; QAD missing; QZZ is not a member
    assert r["median"] == 20.0 and r["n"] == 3 and r["N"] == 4 and r["coverage"] == "3 of 4"
    # QAC has no population: weighted over QAA (w=1) and QAB (w=3): (10*1 + 20*3) / 4
    assert r["weighted_mean"] == pytest.approx(17.5) and r["n_weighted"] == 2
    assert r["coverage_weighted"] == "2 of 4" and r["coverage_ok"] and r["coverage_weighted_ok"]
    assert r["composition"] == "QAA,QAB,QAC,QAD" and r["unit"] == "%"


def test_the_weight_indicator_is_the_one_passed():
    data = synthetic_aggregate_input()
    out = compute_aggregates(data, synthetic_countries(), min_coverage=0.5, groups=("ASEAN",), on=LATE,
                             weight_indicator="not_in_the_frame")
    r = agg_row(out, "ASEAN", 2010)
    assert r["n_weighted"] == 0 and np.isnan(r["weighted_mean"]) and r["median"] == 20.0


def test_below_min_coverage_the_value_is_missing_not_computed():
    out = aggregates(synthetic_aggregate_input(), min_coverage=0.6)
    r = agg_row(out, "ASEAN", 2010)
    assert r["median"] == 20.0 and r["coverage_ok"]  # 3/4 >= 0.6
    assert np.isnan(r["weighted_mean"]) and not r["coverage_weighted_ok"]  # 2/4 < 0.6
    r11 = agg_row(out, "ASEAN", 2011)  # only QAA reports: 1 of 4
    assert r11["n"] == 1 and r11["coverage"] == "1 of 4" and not r11["coverage_ok"] and np.isnan(r11["median"])


def test_years_without_any_member_value_are_shown_with_zero_coverage():
    r = agg_row(aggregates(synthetic_aggregate_input()), "ASEAN", 2012)  # only the non-member QZZ reports
    assert r["n"] == 0 and r["coverage"] == "0 of 4" and np.isnan(r["median"]) and np.isnan(r["weighted_mean"])


def test_composition_follows_the_on_date_and_plus_three():
    before = aggregates(synthetic_aggregate_input(), groups=("ASEAN", "ASEAN+3"), on="2025-10-25")
    r = agg_row(before, "ASEAN", 2010)
    assert r["N"] == 3 and r["coverage"] == "3 of 3" and r["composition"] == "QAA,QAB,QAC"
    r3 = agg_row(before, "ASEAN+3", 2010)
    # values 10, 20, 40, 60 -> median 30; weights 1, 3, 4 (QAC none): (10 + 60 + 160) / 8
    assert r3["median"] == 30.0 and r3["weighted_mean"] == pytest.approx(28.75)
    assert (r3["n"], r3["n_weighted"], r3["N"]) == (4, 3, 4)
    on_the_day = aggregates(synthetic_aggregate_input(), on="2025-10-26")
    assert agg_row(on_the_day, "ASEAN", 2010)["composition"] == "QAA,QAB,QAC,QAD"


def test_zero_or_missing_population_does_not_count_for_the_weighted_mean():
    data = synthetic_aggregate_input()
    data.loc[(data["indicator_id"] == WEIGHT) & (data["iso3"] == "QAB"), "value"] = 0.0
    r = agg_row(aggregates(data, min_coverage=0.25), "ASEAN", 2010)
    assert r["n_weighted"] == 1 and r["weighted_mean"] == 10.0 and r["median"] == 20.0


def test_projection_flag_and_min_coverage_validation():
    data = pd.concat([synthetic_aggregate_input(), long_frame([("QAA", "x", 2030, 1.0)], projection=True)])
    out = aggregates(data, min_coverage=0.0)
    assert agg_row(out, "ASEAN", 2030)["projection"] and not agg_row(out, "ASEAN", 2010)["projection"]
    with pytest.raises(ValueError, match="min_coverage"):
        aggregates(data, min_coverage=1.5)


def test_parameters_are_required():
    with pytest.raises(TypeError):
        compute_aggregates(synthetic_aggregate_input(), synthetic_countries())  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="`on` is required"):
        compute_aggregates(synthetic_aggregate_input(), synthetic_countries(), min_coverage=0.5,
                           groups=("ASEAN",), on=None, weight_indicator=WEIGHT)  # type: ignore[arg-type]


def test_aggregates_long_layout():
    wide = aggregates(synthetic_aggregate_input())
    long = aggregates_long(wide, "both")
    assert len(long) == 2 * len(wide)
    w = long.loc[(long["stat"] == "weighted_mean") & (long["year"] == 2010) & (long["indicator_id"] == "x")].iloc[0]
    assert w["value"] == pytest.approx(17.5) and w["n"] == 2 and w["coverage"] == "2 of 4"
    with pytest.raises(ValueError, match="stat must be"):
        aggregates_long(wide, "mean")


def test_aggregate_members_is_the_same_rule_over_an_explicit_list():
    data = synthetic_aggregate_input()
    weights = (data.loc[data["indicator_id"] == WEIGHT, ["iso3", "year", "value"]]
               .rename(columns={"value": "weight"}))
    out = aggregate_members(data.loc[data["indicator_id"] == "x"], ["QAA", "QAB", "QAC", "QAD"],
                            min_coverage=0.5, label="synthetic", weights=weights)
    r = agg_row(out, "synthetic", 2010)
    stored = agg_row(aggregates(data), "ASEAN", 2010)
    assert (r["median"], r["weighted_mean"], r["n"], r["N"]) == (stored["median"], stored["weighted_mean"],
                                                                 stored["n"], stored["N"])
    unweighted = agg_row(aggregate_members(data.loc[data["indicator_id"] == "x"], ["QAA", "QAB"], min_coverage=0.5),
                         "group", 2010)
    assert unweighted["n_weighted"] == 0 and np.isnan(unweighted["weighted_mean"])


# ----------------------------------------------------------------------------- the array path and pandas' rule

def random_long_frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Made-up rows of three indicators, six countries and five years, with repeated rows and projections."""
    frame = pd.DataFrame({"iso3": rng.choice([f"Q{c}" for c in "ABCDEF"], n),
                          "indicator_id": rng.choice(["x", "y", "z"], n), "year": rng.integers(2000, 2005, n),
                          "value": rng.normal(50, 30, n) * 10.0 ** rng.integers(-3, 9, n),
                          "projection": rng.random(n) < 0.2})
    return frame.astype({"iso3": "string", "indicator_id": "string"})


@pytest.mark.parametrize("layout", ["as drawn", "sorted by indicator and year"])
def test_the_array_path_gives_pandas_results_to_the_last_bit(layout):
    # pandas sums sorted groups one way and other groups another, which differ in the last bit: both layouts
    rng = np.random.default_rng(12)
    for _ in range(40):
        data = random_long_frame(rng, int(rng.integers(1, 80)))
        if layout != "as drawn":
            data = data.sort_values(["indicator_id", "year"], kind="stable").reset_index(drop=True)
        weights = pd.DataFrame({"iso3": [f"Q{c}" for c in "ABCDEF"] * 5, "year": np.repeat(np.arange(2000, 2005), 6),
                                "weight": rng.choice([0.0, np.nan, 1.0, 3e7, 7.5e8], 30) * rng.random(30)})
        members = list(rng.choice([f"Q{c}" for c in "ABCDEFG"], int(rng.integers(1, 7)), replace=False))
        cover = float(rng.choice([0.0, 0.5]))
        got = aggregate_members(data, members, min_coverage=cover, weights=weights)
        by_pandas = agg._aggregate_group_pandas(data, agg._cells(data).frame(), weights, "group", members, cover)
        pd.testing.assert_frame_equal(got, by_pandas, check_exact=True)


def test_a_weighted_sum_follows_pandas_where_its_two_ways_differ():
    # Three values whose sum in row order and pandas' sum over a sorted group differ in the last bit.
    values = [-889013245.9676727, 825227907.944838, 577809588.4236466]
    data = long_frame([(iso, "x", 2010, v) for iso, v in zip(["QAA", "QAB", "QAC"], values)])
    weights = pd.DataFrame({"iso3": ["QAA", "QAB", "QAC"], "year": 2010, "weight": 1.0})
    got = aggregate_members(data, ["QAA", "QAB", "QAC"], min_coverage=0.0, weights=weights)
    expected = data.groupby(["indicator_id", "year"])["value"].sum().iloc[0] / 3
    assert got["weighted_mean"].iloc[0] == expected


def test_other_dtypes_and_doubled_weights_keep_pandas_behaviour():
    data = synthetic_aggregate_input()
    weights = (data.loc[data["indicator_id"] == WEIGHT, ["iso3", "year", "value"]]
               .rename(columns={"value": "weight"}))
    members = ["QAA", "QAB", "QAC", "QAD"]
    nullable = data.astype({"value": "Float64", "year": "Int16"})
    got = aggregate_members(nullable, members, min_coverage=0.5, weights=weights)
    assert got["median"].dtype == "Float64"  # pandas' groupby keeps the nullable dtype
    # A weight listed twice counts twice, as the merge of rows and weights does.
    doubled = aggregate_members(data, members, min_coverage=0.5, weights=pd.concat([weights, weights]))
    row = doubled.loc[(doubled["indicator_id"] == "x") & (doubled["year"] == 2010)].iloc[0]
    assert row["n_weighted"] == 4 and row["weighted_mean"] == pytest.approx(17.5)
