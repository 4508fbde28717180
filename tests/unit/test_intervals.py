"""The intervals chart kind on synthetic frames (values made up, named as such): whiskers from the bounds,
pairs only within one source and vintage, the ASEAN median only above the coverage rule, no verdict colours."""

from __future__ import annotations

import importlib
import io
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_hex
from matplotlib.legend import Legend

from analysis.core import settings
from analysis.presentation import charts
from analysis.presentation.charts import palette
from analysis.presentation.charts.base import ChartDataError
from analysis.presentation.charts.export import csv_bytes
from charts_synthetic import focus_members, synthetic_project_fixture, synthetic_series

# The module, not the function ``charts.intervals`` that shadows its name in the package.
kind = importlib.import_module("analysis.presentation.charts.intervals")


synthetic_project = synthetic_project_fixture()


def _asean() -> list[str]:
    m = focus_members()
    return m.loc[m["grouping"] != "Plus Three", "iso3"].tolist()


def _with_bounds(frame: pd.DataFrame, half_width: float) -> pd.DataFrame:
    """Synthetic bounds: value ± half_width, a little wider below so the two ends differ."""
    return frame.assign(lower=frame["value"] - 1.5 * half_width, upper=frame["value"] + half_width)


def _key_texts(chart) -> list[str]:
    return [t.get_text() for legend in chart.figure.findobj(Legend) for t in legend.get_texts()]


def _csv(chart) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(csv_bytes(chart)), dtype={"iso3": "string"})


def _segments(ax) -> list[tuple[float, float]]:
    """(x from, x to) of every horizontal segment drawn as a line collection (the whiskers)."""
    out = []
    for coll in ax.collections:
        if isinstance(coll, LineCollection):
            for seg in coll.get_segments():
                if len(seg) == 2 and seg[0][1] == seg[1][1]:
                    out.append((float(seg[0][0]), float(seg[1][0])))
    return out


def test_whiskers_span_the_given_bounds_and_the_key_says_so():
    female = _with_bounds(synthetic_series("synthetic_le_female", [2021], base=70.0), 0.8)
    male = _with_bounds(synthetic_series("synthetic_le_male", [2021], base=65.0), 0.6)
    chart = charts.intervals(pd.concat([female, male]), ["synthetic_le_female", "synthetic_le_male"],
                             title="Synthetic life expectancy", unit="years")
    spans = sorted(_segments(chart.axes["panel0"]))
    expected = sorted(zip(pd.concat([female, male])["lower"], pd.concat([female, male])["upper"]))
    assert np.asarray(spans) == pytest.approx(np.asarray(expected))
    table = _csv(chart)
    drawn = table[table["role"] == "country"]
    assert set(drawn["series"]) == {"Female", "Male"}  # the sex ids' default labels
    assert (drawn["lower"] < drawn["value"]).all() and (drawn["value"] < drawn["upper"]).all()
    assert any("uncertainty interval" in t for t in _key_texts(chart))


def test_no_whiskers_and_no_interval_key_without_bounds():
    data = synthetic_series("synthetic_gap", [2021], base=8.0)
    chart = charts.intervals(data, ["synthetic_gap"], title="Synthetic gap", unit="years")
    assert _segments(chart.axes["panel0"]) == []
    assert not any("uncertainty" in t for t in _key_texts(chart))


def test_series_never_take_the_better_or_worse_band_colours():
    a = synthetic_series("synthetic_a", [2021], base=5.0)
    b = synthetic_series("synthetic_b", [2021], base=9.0)
    chart = charts.intervals(pd.concat([a, b]), ["synthetic_a", "synthetic_b"], title="Synthetic neutral pair")
    used = {to_hex(line.get_color()) for line in chart.axes["panel0"].get_lines() if line.get_marker() != "None"}
    assert used and used <= {c.lower() for c in kind.COLOURS}
    assert not used & {palette.BAND_COLOURS["better"].lower(), palette.BAND_COLOURS["worse"].lower()}


def test_pair_difference_only_within_one_source_vintage_and_year():
    with_ = synthetic_series("synthetic_with", [2020], base=30.0)
    without = synthetic_series("synthetic_without", [2020], base=60.0)
    # One country's second value comes from another vintage: its pair must not be subtracted.
    odd = focus_members()["iso3"].iloc[0]
    without.loc[without["iso3"] == odd, "vintage"] = "2000-01-01"
    chart = charts.intervals(pd.concat([with_, without]), ["synthetic_with", "synthetic_without"], connect=True,
                             labels={"synthetic_with": "with", "synthetic_without": "without"}, title="Synthetic pair")
    table = _csv(chart)
    first = table[(table["indicator_id"] == "synthetic_with") & (table["role"] == "country")].set_index("iso3")
    a = with_.set_index("iso3")["value"]
    b = without.set_index("iso3")["value"]
    assert math.isnan(first.at[odd, "pair_difference"])
    others = [i for i in first.index if i != odd]
    assert first.loc[others, "pair_difference"].to_numpy() == pytest.approx((a - b).loc[others].to_numpy())
    texts = {t.get_text() for t in chart.axes["panel0"].texts}
    assert f"{(a - b).loc[others[0]]:+.1f}" in texts


def test_asean_median_follows_the_coverage_rule():
    members = _asean()
    few = max(1, math.ceil(settings.MIN_COVERAGE * len(members)) - 1)  # just below the rule
    keep = members[:few]
    data = synthetic_series("synthetic_rare", [2019], base=2.0)
    sparse = charts.intervals(data[data["iso3"].isin(keep)], ["synthetic_rare"], title="Synthetic sparse")
    table = _csv(sparse)
    assert not (table["role"].str.startswith("aggregate")).any()
    assert any("No ASEAN median" in line and f"{few} of {len(members)}" in line for line in sparse.footer)
    assert sparse.coverage["n"] == few and sparse.coverage["N"] == len(focus_members())

    full = charts.intervals(data, ["synthetic_rare"], title="Synthetic full")
    agg = _csv(full).query("role.str.startswith('aggregate')", engine="python")
    expected = float(np.median(data.set_index("iso3").loc[members, "value"]))
    assert agg["value"].tolist() == pytest.approx([expected])
    assert agg[["n", "N"]].iloc[0].tolist() == [len(members), len(members)]


def test_countries_without_data_are_rows_and_other_years_are_named():
    data = synthetic_series("synthetic_prev", [2020], base=3.0, missing=("BRN", "JPN"))
    late = data["iso3"] == "KHM"
    data.loc[late, "year"] = 2015
    chart = charts.intervals(data, ["synthetic_prev"], title="Synthetic prevalence")
    assert chart.coverage["missing"] == ["BRN", "JPN"]
    ticks = [t.get_text() for t in chart.axes["panel0"].get_yticklabels()]
    names = dict(zip(focus_members()["iso3"], focus_members()["name"]))
    assert f"{names['KHM']} · 2015" in ticks
    assert ticks.index(names["BRN"]) > ticks.index(f"{names['KHM']} · 2015")  # no-data rows come last
    nodata = _csv(chart).query("role == 'no data'")
    assert sorted(nodata["iso3"]) == ["BRN", "JPN"] and nodata["value"].isna().all()


def test_panels_share_markers_by_position_and_comparison_is_marked():
    frames = [synthetic_series(i, [2021], base=b) for i, b in
              (("synthetic_f_with", 20.0), ("synthetic_f_without", 50.0), ("synthetic_m_with", 30.0),
               ("synthetic_m_without", 70.0))]
    chart = charts.intervals(pd.concat(frames), panels=[("Female", ["synthetic_f_with", "synthetic_f_without"]),
                                                        ("Male", ["synthetic_m_with", "synthetic_m_without"])],
                             comparison=True, title="Synthetic panels")
    assert chart.coverage["comparison"] is True
    assert chart.subtitle.startswith("Comparison of sources")
    markers = [{line.get_marker() for line in chart.axes[f"panel{k}"].get_lines() if line.get_marker() != "None"}
               for k in (0, 1)]
    assert markers[0] == markers[1] == set(kind.MARKERS[:2])
    assert set(_csv(chart)["panel"].dropna()) == {"Female", "Male"}


def test_unequal_panels_and_absent_series_are_refused():
    data = synthetic_series("synthetic_x", [2021])
    with pytest.raises(ChartDataError, match="same number of series"):
        charts.intervals(data, panels=[("a", ["synthetic_x"]), ("b", ["synthetic_x", "synthetic_y"])])
    with pytest.raises(ChartDataError, match="has a value"):
        charts.intervals(data, ["synthetic_absent"])


def test_dots_and_whiskers_are_one_artist_per_series_whatever_the_number_of_countries():
    female = _with_bounds(synthetic_series("synthetic_le_female", [2021], base=70.0), 0.8)
    male = synthetic_series("synthetic_le_male", [2021], base=65.0)  # no bounds: dots only
    data = pd.concat([female, male])
    chart = charts.intervals(data, ["synthetic_le_female", "synthetic_le_male"], title="Synthetic artists",
                             aggregate=False)
    ax = chart.axes["panel0"]
    dots = [line for line in ax.get_lines() if line.get_marker() != "None"]
    assert [line.get_marker() for line in dots] == list(kind.MARKERS[:2])
    n = female["iso3"].nunique()
    assert [len(line.get_xdata()) for line in dots] == [n, male["iso3"].nunique()]
    # every dot at its country's value, on its country's row (the female series above the row's middle)
    drawn = dict(zip(dots[0].get_xdata(), dots[0].get_ydata()))
    assert sorted(drawn) == pytest.approx(sorted(female["value"]))
    assert all(y % 1 == pytest.approx(1 - kind.OFFSET) for y in drawn.values())
    whiskers = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(whiskers) == 2 and [len(c.get_segments()) for c in whiskers] == [n, 2 * n]  # spans, then end ticks
