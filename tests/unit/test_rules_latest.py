"""rules.latest on synthetic series: the latest value in a window, and the value nearest a wanted year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.rules.latest import compute_latest, nearest_year


def synthetic_series(years: list[int], values: list[float] | None = None) -> pd.DataFrame:
    """One made-up country x indicator series with the given years."""
    values = values if values is not None else [float(y - 2000) for y in years]
    return pd.DataFrame({"iso3": "QAA", "indicator_id": "synthetic", "year": years, "value": values})


def test_exact_year_wins_over_nearer_neighbours():
    got = nearest_year(synthetic_series([2009, 2010, 2011]), 2010, tolerance=2)
    assert got.iloc[0]["year"] == 2010 and got.iloc[0]["offset"] == 0


def test_tie_goes_to_the_earlier_year():
    got = nearest_year(synthetic_series([2008, 2012]), 2010, tolerance=2)
    assert got.iloc[0]["year"] == 2008 and got.iloc[0]["offset"] == -2
    # The order of the input rows does not change the choice.
    shuffled = nearest_year(synthetic_series([2012, 2008]), 2010, tolerance=2)
    assert shuffled.iloc[0]["year"] == 2008


def test_nearer_later_year_beats_farther_earlier_year():
    got = nearest_year(synthetic_series([2007, 2011]), 2010, tolerance=3)
    assert got.iloc[0]["year"] == 2011 and got.iloc[0]["offset"] == 1


def test_nothing_outside_the_tolerance():
    assert nearest_year(synthetic_series([2005, 2015]), 2010, tolerance=4).empty
    # The bound is inclusive: a value exactly `tolerance` years away counts.
    assert nearest_year(synthetic_series([2005, 2015]), 2010, tolerance=5)["year"].tolist() == [2005, 2015]


def test_missing_values_are_never_chosen():
    got = nearest_year(synthetic_series([2010, 2011], [float("nan"), 3.0]), 2010, tolerance=1)
    assert got["year"].tolist() == [2011]


def test_zero_tolerance_means_the_exact_year_only():
    assert nearest_year(synthetic_series([2009, 2011]), 2010, tolerance=0).empty
    assert nearest_year(synthetic_series([2009, 2010]), 2010, tolerance=0)["year"].tolist() == [2010]


def test_negative_tolerance_raises_value_error():
    with pytest.raises(ValueError, match="tolerance must be zero or more"):
        nearest_year(synthetic_series([2010]), 2010, tolerance=-1)


# ---------------------------------------------------------------- compute_latest


def long_frame(rows: list[tuple], projection: bool = False) -> pd.DataFrame:
    """(iso3, indicator_id, year, value) tuples -> a long frame with the store's other columns."""
    frame = pd.DataFrame(rows, columns=["iso3", "indicator_id", "year", "value"])
    return frame.assign(unit="%", source_id="synthetic", vintage="2026", projection=projection)


def synthetic_latest_input() -> pd.DataFrame:
    estimates = long_frame([("QAA", "y", 2000, 1.0), ("QAA", "y", 2005, 2.0), ("QAA", "y", 2012, 3.0),
                            ("QAB", "y", 2003, 4.0), ("QZZ", "other", 2018, 9.0)])
    projections = long_frame([("QAA", "y", year, 100.0 + year - 2021) for year in range(2021, 2031)], projection=True)
    return pd.concat([estimates, projections], ignore_index=True)


def latest_row(out: pd.DataFrame, iso3: str, indicator: str = "y") -> pd.Series:
    hit = out.loc[(out["iso3"] == iso3) & (out["indicator_id"] == indicator)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_latest_default_ref_year_and_window_edges():
    data = synthetic_latest_input()
    out = compute_latest(data, window=10)
    # ref_year = 2012 (latest estimate of y; projections ignored); window 2003..2012
    a, b = latest_row(out, "QAA"), latest_row(out, "QAB")
    assert (a["year"], a["value"], a["ref_year"]) == (2012, 3.0, 2012) and not a["projection"]
    assert (b["year"], b["value"]) == (2003, 4.0)  # the first year of the window is inside
    narrower = compute_latest(data, window=9)  # 2004..2012: QAB's 2003 falls out
    nb = latest_row(narrower, "QAB")
    assert pd.isna(nb["year"]) and np.isnan(nb["value"]) and nb["unit"] == "%"


def test_latest_gaps_are_rows_not_dropped():
    out = compute_latest(synthetic_latest_input(), window=10, iso3=["QAA", "QAC", "QAD"])
    assert set(out["iso3"]) == {"QAA", "QAC", "QAD"}
    assert len(out) == 3 * 2  # every country x every indicator of the frame
    gaps = out.loc[out["value"].isna()]
    assert set(zip(gaps["iso3"], gaps["indicator_id"])) == {("QAC", "y"), ("QAD", "y"), ("QAA", "other"),
                                                               ("QAC", "other"), ("QAD", "other")}
    assert gaps["year"].isna().all()
    assert out["year"].dtype == "Int16" and out["projection"].dtype == "boolean"


def test_latest_explicit_ref_year_and_projections():
    data = synthetic_latest_input()
    r = latest_row(compute_latest(data, window=10, ref_year=2010), "QAA")
    assert (r["year"], r["value"]) == (2005, 2.0)
    no_proj = latest_row(compute_latest(data, window=5, ref_year=2025), "QAA")
    assert np.isnan(no_proj["value"])  # 2021..2025 has projections only
    with_proj = latest_row(compute_latest(data, window=5, ref_year=2025, include_projections=True), "QAA")
    assert (with_proj["year"], with_proj["value"]) == (2025, 104.0) and with_proj["projection"]


def test_latest_ref_year_is_per_indicator():
    out = compute_latest(synthetic_latest_input(), window=1)
    assert latest_row(out, "QZZ", "other")["ref_year"] == 2018 and latest_row(out, "QAA", "y")["ref_year"] == 2012


def test_latest_window_must_be_positive():
    with pytest.raises(ValueError, match="window"):
        compute_latest(synthetic_latest_input(), window=0)


def test_window_is_required():
    with pytest.raises(TypeError):
        compute_latest(synthetic_latest_input())  # type: ignore[call-arg]


def test_of_two_rows_of_the_latest_year_the_later_row_stands():
    frame = pd.DataFrame({"iso3": ["QAA", "QAA", "QAA", "QAB"], "indicator_id": "synthetic",
                          "year": [2010, 2012, 2012, 2011], "value": [1.0, 2.0, 3.0, 4.0]})
    got = compute_latest(frame, window=5).set_index("iso3")
    assert got.loc["QAA", "value"] == 3.0 and got.loc["QAA", "year"] == 2012 and got.loc["QAB", "value"] == 4.0


@pytest.mark.parametrize("dtype", ["int16", "int64", "Int16", "float64"])
def test_nearest_year_is_the_same_for_every_year_dtype(dtype):
    frame = synthetic_series([2012, 2006, 2008, 2011, 2009], [1.0, 2.0, np.nan, 4.0, 5.0]).set_index(
        pd.Index([10, 11, 12, 13, 14]))
    got = nearest_year(frame.astype({"year": dtype}), 2010, tolerance=2)
    # nearest first, ties to the earlier year; the missing 2008 value is no candidate; row labels are kept
    assert got.index.tolist() == [14, 13, 10] and got["offset"].tolist() == [-1, 1, 2]
    assert got["offset"].dtype == "int64" and list(got.columns) == [*frame.columns, "offset"]
