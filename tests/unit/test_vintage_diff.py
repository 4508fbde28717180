"""The pure refresh diff (analysis.rules.vintage_diff) on SYNTHETIC vintages: made-up countries and values.

The older vintage has AAA 2000-2002, BBB 2000 and CCC 2001; the newer one revises AAA 2001, drops
AAA 2000, adds AAA 2003 (a newer latest year), keeps BBB 2000 unchanged, loses CCC altogether and
brings DDD, a country only the newer vintage has.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.rules import vintage_diff as vd


def synthetic(rows: list[tuple[str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["iso3", "year", "value"]).astype({"iso3": "string", "year": "int16"})


OLDER = synthetic([("AAA", 2000, 10.0), ("AAA", 2001, 11.0), ("AAA", 2002, 12.0), ("BBB", 2000, 50.0),
                   ("CCC", 2001, 7.5)])
NEWER = synthetic([("AAA", 2001, 11.5), ("AAA", 2002, 12.0), ("AAA", 2003, 13.25), ("BBB", 2000, 50.0),
                   ("DDD", 2010, 3.0)])


@pytest.fixture(scope="module")
def diff() -> pd.DataFrame:
    return vd.diff_series(OLDER, NEWER)


def rows_of(diff: pd.DataFrame, iso3: str, change: str) -> pd.DataFrame:
    return diff.loc[(diff["iso3"] == iso3) & (diff["change"] == change)]


def test_revised_value_on_an_overlapping_year(diff):
    revised = diff.loc[diff["change"] == vd.REVISED]
    assert list(zip(revised["iso3"], revised["old_year"], strict=True)) == [("AAA", 2001)]
    row = revised.iloc[0]
    assert (row["old_value"], row["new_value"], row["new_year"]) == (11.0, 11.5, 2001)
    assert row["difference"] == pytest.approx(0.5)


def test_added_and_dropped_years(diff):
    added = diff.loc[diff["change"] == vd.ADDED]
    assert sorted(zip(added["iso3"], added["new_year"], strict=True)) == [("AAA", 2003), ("DDD", 2010)]
    assert added["old_year"].isna().all() and added["old_value"].isna().all()
    dropped = diff.loc[diff["change"] == vd.DROPPED]
    assert sorted(zip(dropped["iso3"], dropped["old_year"], strict=True)) == [("AAA", 2000), ("CCC", 2001)]
    assert dropped["new_year"].isna().all() and dropped["difference"].isna().all()


def test_unchanged_values_are_kept_apart_from_changes(diff):
    same = diff.loc[diff["change"] == vd.UNCHANGED]
    assert sorted(zip(same["iso3"], same["old_year"], strict=True)) == [("AAA", 2002), ("BBB", 2000)]
    assert (same["difference"] == 0).all()


def test_a_newer_latest_year_is_a_latest_change(diff):
    latest = rows_of(diff, "AAA", vd.LATEST_CHANGED).iloc[0]
    before_after = (latest["old_year"], latest["old_value"], latest["new_year"], latest["new_value"])
    assert before_after == (2002, 12.0, 2003, 13.25)
    assert latest["difference"] == pytest.approx(1.25)
    assert len(rows_of(diff, "BBB", vd.LATEST_SAME)) == 1 and rows_of(diff, "BBB", vd.LATEST_CHANGED).empty


def test_a_country_in_only_one_vintage_has_a_latest_row_with_one_side_empty(diff):
    only_old = rows_of(diff, "CCC", vd.LATEST_CHANGED).iloc[0]
    assert (only_old["old_year"], only_old["old_value"]) == (2001, 7.5)
    assert pd.isna(only_old["new_year"]) and math.isnan(only_old["new_value"])
    only_new = rows_of(diff, "DDD", vd.LATEST_CHANGED).iloc[0]
    assert pd.isna(only_new["old_year"]) and (only_new["new_year"], only_new["new_value"]) == (2010, 3.0)


def test_every_country_and_year_is_accounted_for_once(diff):
    years = diff.loc[~diff["change"].isin([vd.LATEST_CHANGED, vd.LATEST_SAME])]
    keys = set(zip(years["iso3"], years["new_year"].fillna(years["old_year"]), strict=True))
    expected = set(zip(OLDER["iso3"], OLDER["year"], strict=True)) | set(zip(NEWER["iso3"], NEWER["year"],
                                                                            strict=True))
    assert keys == {(i, int(y)) for i, y in expected} and len(years) == len(expected)
    assert set(diff.loc[diff["change"].str.startswith("latest"), "iso3"]) == {"AAA", "BBB", "CCC", "DDD"}


def test_output_is_sorted_and_deterministic(diff):
    shuffled = vd.diff_series(OLDER.sample(frac=1, random_state=1), NEWER.sample(frac=1, random_state=2))
    pd.testing.assert_frame_equal(diff, shuffled)
    assert list(diff.columns) == vd.COLUMNS
    assert list(diff["iso3"]) == sorted(diff["iso3"])


def test_float_noise_is_not_a_revision():
    noisy = OLDER.assign(value=OLDER["value"] * (1 + 1e-13))
    out = vd.diff_series(OLDER, noisy)
    assert set(out["change"]) == {vd.UNCHANGED, vd.LATEST_SAME}


def test_two_values_for_one_country_and_year_are_refused():
    twice = pd.concat([OLDER, OLDER.head(1)], ignore_index=True)
    with pytest.raises(ValueError, match="more than one value for 1 country-year"):
        vd.diff_series(twice, NEWER)


def test_largest_ranks_by_relative_size_and_skips_one_sided_rows(diff):
    top = vd.largest(diff, [vd.REVISED, vd.LATEST_CHANGED], n=5)
    # AAA latest: 1.25 of 13.25; AAA 2001 revision: 0.5 of 11.5; CCC and DDD have one side only
    assert list(zip(top["iso3"], top["change"], strict=True)) == [("AAA", vd.LATEST_CHANGED), ("AAA", vd.REVISED)]
    assert top["relative"].iloc[0] == pytest.approx(1.25 / 13.25)


def test_source_families_and_default_pairs():
    assert vd.source_family("sdg2020") == vd.source_family("sdg2023") == "sdg"
    assert vd.source_family("ilostat-disability") != vd.source_family("ilostat")
    vintages = {"sdg2023": "2023-12-17", "sdg2020": "2020-10", "sdg2016": "2016-05", "ilostat": "2025-06-02",
                "wpp2019": "2019-06-17"}
    assert vd.vintage_pairs(vintages) == [("sdg2016", "sdg2023"), ("sdg2020", "sdg2023")]
