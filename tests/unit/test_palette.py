"""The fixed drawing attributes of the focus countries (palette.country_table, style_of) on a synthetic store:
kept per content of the store's countries table, and safe for callers to modify."""

from __future__ import annotations

import os

import pandas as pd

from analysis.pipeline.build import write_table
from analysis.presentation.charts import palette
from analysis.store import reader as store
from charts_synthetic import focus_members, synthetic_project_fixture, synthetic_store_frames

synthetic_project = synthetic_project_fixture()


def test_style_of_a_focus_country_and_of_another():
    table = palette.country_table()
    tha = palette.style_of("THA", table)
    row = table.loc[table["iso3"] == "THA"].iloc[0]
    assert tha["colour"] == row["colour"] and tha["order"] == row["order"] and tha["hatch"] is None
    assert palette.style_of("JPN")["hatch"] == palette.HATCHES[palette.PLUS_THREE]
    assert palette.style_of("XXX", table) == {"iso3": "XXX", "name": "XXX", "group": "other", "colour": "#777777",
                                              "linestyle": "-", "hatch": None}


def test_the_table_follows_the_store_and_a_caller_cannot_change_it(synthetic_project):
    first = palette.country_table()
    expected = first.copy()
    first.loc[:, "colour"] = "#000000"  # the caller's copy only
    pd.testing.assert_frame_equal(palette.country_table(), expected)
    assert sorted(expected["iso3"]) == sorted(focus_members()["iso3"])
    # Another countries table (a rebuilt store) gives another drawing table.
    _, countries = synthetic_store_frames()
    path = store.table_path("countries", synthetic_project / "data" / "processed")
    renamed = countries.assign(name=countries["name"].where(countries["iso3"] != "THA", "Renamed Thailand"))
    try:
        write_table("countries", renamed, path)
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
        assert palette.style_of("THA")["name"] == "Renamed Thailand"
    finally:
        write_table("countries", countries, path)
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 2 * 10**9))
    assert palette.style_of("THA")["name"] == expected.set_index("iso3").loc["THA", "name"]
