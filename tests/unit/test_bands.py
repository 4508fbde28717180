"""Banded comparisons on hand-computed synthetic examples."""

import math

import pandas as pd
import pytest

from analysis.rules.bands import band, band_symbol, judge


def test_median_and_mad_by_hand():
    # values 1, 2, 3, 4, 100: median 3; |x - 3| = 2, 1, 0, 1, 97 -> MAD = 1; band [2, 4]
    out = band(pd.Series([1.0, 2.0, 3.0, 4.0, 100.0], index=list("abcde")))
    assert out["center"].iloc[0] == 3.0
    assert out["spread"].iloc[0] == 1.0
    assert (out["lower"].iloc[0], out["upper"].iloc[0]) == (2.0, 4.0)
    assert out["band"].tolist() == ["below", "within", "within", "within", "above"]
    assert out["n"].iloc[0] == 5


def test_mad_zero_only_equal_values_are_within():
    out = band({"a": 5.0, "b": 5.0, "c": 5.0, "d": 7.0, "e": 4.0})
    assert out["spread"].iloc[0] == 0.0
    assert out["band"].to_dict() == {"a": "within", "b": "within", "c": "within", "d": "above", "e": "below"}


def test_nan_is_no_data_and_does_not_count():
    out = band(pd.Series([1.0, math.nan, 3.0, 5.0], index=list("abcd")))
    # centre over 1, 3, 5 -> 3; MAD = median(2, 0, 2) = 2
    assert out["center"].iloc[0] == 3.0 and out["spread"].iloc[0] == 2.0 and out["n"].iloc[0] == 3
    assert out.loc["b", "band"] == "no data"
    assert out.loc["a", "band"] == "within"  # bounds are inclusive: 1 == 3 - 2


def test_reference_group_defines_the_band():
    values = pd.Series({"A": 10.0, "B": 12.0, "C": 14.0, "P": 30.0})
    out = band(values, reference=values[["A", "B", "C"]])
    assert out["center"].iloc[0] == 12.0 and out["spread"].iloc[0] == 2.0
    assert out.loc["P", "band"] == "above"


def test_all_missing_gives_no_data_everywhere():
    out = band(pd.Series([math.nan, math.nan], index=["x", "y"]))
    assert out["band"].tolist() == ["no data", "no data"]
    assert out["n"].iloc[0] == 0


def test_judge_respects_better_direction():
    raw = pd.Series(["above", "within", "below", "no data"])
    assert judge(raw, "higher").tolist() == ["better", "within", "worse", "no data"]
    assert judge(raw, "lower").tolist() == ["worse", "within", "better", "no data"]
    assert judge(raw, None).tolist() == ["above", "within", "below", "no data"]
    with pytest.raises(ValueError, match="direction must be one of"):
        judge(raw, "sideways")


def test_judge_neutral_keeps_above_within_below():
    raw = pd.Series(["above", "within", "below", "no data"])
    assert judge(raw, "neutral").tolist() == ["above", "within", "below", "no data"]


def test_min_difference_keeps_values_near_the_centre_within():
    # values 9, 10, 10, 10, 11: median 10, MAD 0, so 9 and 11 would be below / above on their own
    values = pd.Series([9.0, 10.0, 10.0, 10.0, 11.0], index=list("abcde"))
    assert band(values)["band"].tolist() == ["below", "within", "within", "within", "above"]
    widened = band(values, min_difference=1.0)
    assert widened["band"].tolist() == ["within"] * 5
    assert (widened["lower"].iloc[0], widened["upper"].iloc[0]) == (9.0, 11.0)
    # beyond min_difference from the centre the colour still changes
    assert band(values, min_difference=0.5)["band"].tolist() == ["below", "within", "within", "within", "above"]


def test_min_difference_never_narrows_a_wider_spread():
    # values 1, 2, 3, 4, 100: MAD 1 already exceeds min_difference 0.25
    out = band(pd.Series([1.0, 2.0, 3.0, 4.0, 100.0]), min_difference=0.25)
    assert out["spread"].iloc[0] == 1.0


def test_bad_arguments_and_symbols():
    with pytest.raises(ValueError, match="center must be one of"):
        band([1.0, 2.0], center="mode")
    with pytest.raises(ValueError, match="spread must be one of"):
        band([1.0, 2.0], spread="range")
    assert [band_symbol(b) for b in ("above", "within", "below", "no data")] == ["▲", "●", "▼", "–"]
    with pytest.raises(ValueError, match="not a raw band label"):
        band_symbol("better")
