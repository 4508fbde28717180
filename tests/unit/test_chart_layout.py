"""The layout check of saved charts, the exact year wording, faded old values, the band footer, the
licence line and the heatmap's neutral rows and ASEAN column, on synthetic figures and data."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Patch

from analysis.core import settings
from analysis.presentation import charts
from analysis.presentation.charts import base, common, style
from analysis.presentation.charts import footer as footer_mod
from analysis.presentation.charts.export import csv_bytes
from analysis.presentation.charts.layout import check_layout, clear_of_line
from charts_synthetic import (
    SYNTHETIC_CATALOGUE,
    focus_members,
    synthetic_project_fixture,
    synthetic_series,
)

synthetic_project = synthetic_project_fixture()


def _figure(width=6.0, height=3.0):
    fig = style.new_figure(width, height)
    fig.set_layout_engine("none")
    return fig


def _read_csv(chart) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(csv_bytes(chart)), dtype={"iso3": "string"})


def _names() -> dict[str, str]:
    return dict(zip(focus_members()["iso3"], focus_members()["name"]))


# ----------------------------------------------------------------------------- the check itself
def test_overlapping_texts_are_recorded_and_separate_ones_are_not():
    fig = _figure()
    fig.text(0.1, 0.5, "Synthetic label A", fontsize=12)
    fig.text(0.12, 0.5, "Synthetic label B", fontsize=12)  # on top of A
    fig.text(0.1, 0.2, "Synthetic label C", fontsize=12)  # well below
    found = check_layout(fig)
    assert len(found["overlaps"]) == 1
    pair = found["overlaps"][0]
    assert {pair["a"], pair["b"]} == {"'Synthetic label A'", "'Synthetic label B'"} and pair["depth_px"] > 1
    assert found["outside"] == []


def test_tick_labels_of_a_hidden_axes_are_not_counted():
    fig = _figure()
    ax = fig.add_axes((0.80, 0.3, 0.19, 0.4))
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 100], ["0", "a long synthetic tick label at the right edge"])
    assert [o["text"] for o in check_layout(fig)["outside"]] == ["'a long synthetic tick label at the right edge'"]
    ax.set_visible(False)  # an empty panel of a grid: matplotlib draws none of its text
    assert check_layout(fig)["outside"] == []


def test_text_leaving_the_figure_is_recorded():
    fig = _figure()
    fig.text(0.95, 0.5, "a synthetic label running off the right edge")
    fig.text(0.5, 0.5, "   ")  # empty texts are not drawn text
    found = check_layout(fig)
    assert [o["text"] for o in found["outside"]] == ["'a synthetic label running off the right edge'"]
    assert found["overlaps"] == []


def test_rotated_neighbours_are_measured_as_rotated_boxes():
    # 40-degree labels one cell apart: their axis-aligned hulls overlap, the labels themselves do not.
    fig = _figure(6.0, 3.0)
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.5))
    ax.set_xticks(range(6), [f"Synthetic country {k}" for k in range(6)], rotation=40, ha="left",
                  rotation_mode="anchor")
    ax.xaxis.tick_top()
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    hulls = [t.get_window_extent(renderer) for t in ax.get_xticklabels()]
    assert hulls[0].overlaps(hulls[1])  # the naive check would report every pair
    assert check_layout(fig)["overlaps"] == []


def test_tick_labels_of_a_switched_off_axis_are_not_checked():
    fig = _figure()
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
    ax.set_xticks([0, 0.001], ["Synthetic tick one", "Synthetic tick two"])  # would overlap if drawn
    assert check_layout(fig)["overlaps"]
    ax.set_axis_off()
    assert check_layout(fig)["overlaps"] == []


def test_a_group_statistic_line_may_not_cross_a_text_except_its_own_label():
    fig = _figure()
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
    ax.set_xlim(0, 10)
    ax.set_axis_off()
    ax.axvline(5, lw=2.4, gid="aggregate", zorder=4)
    crossed = ax.text(4.8, 0.3, "71.2 (synthetic)", gid="value-AAA")
    ax.text(5, 0.9, "ASEAN median: 5.0", ha="center", gid="aggregate-label")
    ax.text(5, 0.6, "on an opaque box", ha="center", zorder=6, bbox=dict(facecolor="white", edgecolor="none"))
    found = check_layout(fig)["overlaps"]
    assert [(o["a"], o["b"]) for o in found] == [("'71.2 (synthetic)' (value-AAA)", "line (aggregate)")]
    clear_of_line(ax, [crossed], 5.0, 2.4)
    assert check_layout(fig)["overlaps"] == []
    assert crossed.get_position()[0] > 5.0


# ----------------------------------------------------------------------------- bars: the median line and old values
def _bars_around_the_median() -> pd.DataFrame:
    """Synthetic values whose median is hit by one bar's end: that bar's label is crossed unless moved."""
    data = synthetic_series("sp_cov_pension", [2020], base=40.0, step=0.0)
    asean = focus_members().query("grouping == 'ASEAN'")["iso3"].tolist()
    med = data.set_index("iso3").loc[asean, "value"].median()
    data.loc[data["iso3"] == asean[0], "value"] = med - 0.2
    return data


def test_banded_bars_keep_value_labels_clear_of_the_median_line(tmp_path):
    chart = charts.banded_bars(_bars_around_the_median(), better="higher", title="Synthetic pension")
    written = charts.save(chart, "synthetic-banded", root=tmp_path, made_by="tests/unit/test_chart_layout.py")
    meta = json.loads(written["json"].read_text())
    assert meta["layout"] == {"overlaps": [], "outside": []}
    # Put the label back where it was drawn first: the recorded check must see the crossing.
    label = next(t for t in chart.axes["main"].texts if t.get_gid() == f"value-{focus_members()['iso3'][0]}")
    x, y = label.get_position()
    value = float(_bars_around_the_median()["value"].iloc[0])
    label.set_position((value + 0.2, y))
    assert x > value + 0.2
    assert any("line (aggregate)" in (o["a"], o["b"]) for o in check_layout(chart.figure)["overlaps"])


def test_banded_bars_footer_states_the_smallest_meaningful_difference():
    min_difference = float(SYNTHETIC_CATALOGUE.set_index("indicator_id").loc["sp_cov_pension", "min_difference"])
    chart = charts.banded_bars(_bars_around_the_median(), better="higher", title="Synthetic pension")
    amount = f"{min_difference:g} percentage points"
    assert any(f"smaller than {amount} are not coloured" in line for line in chart.footer)
    # no colour on a difference from the median smaller than the minimum
    csv = _read_csv(chart).set_index("iso3")
    country = csv[csv["role"] == "country"]
    centre = float(country["band_lower"].iloc[0] + country["band_upper"].iloc[0]) / 2
    close = country[(country["value"] - centre).abs() < min_difference]
    assert not close.empty and set(close["judged"]) == {"within"}


def test_old_values_are_faded_and_named():
    data = synthetic_series("sp_cov_pension", [2020], base=40.0)
    old_iso = focus_members()["iso3"].iloc[2]
    old_year = 2020 - settings.OLD_VALUE_YEARS - 1
    data.loc[data["iso3"] == old_iso, "year"] = old_year
    chart = charts.ranked_bars(data, title="Synthetic pension")
    bars = {p.get_gid(): p for p in chart.axes["main"].patches if p.get_gid()}
    assert bars[f"bar-{old_iso}"].get_alpha() < 1 and bars[f"bar-{old_iso}"].get_hatch()
    others = [p for gid, p in bars.items() if gid.startswith("bar-") and gid != f"bar-{old_iso}"]
    assert all(p.get_alpha() in (None, 1.0) for p in others)
    faded = f"Faded: {_names()[old_iso]} {old_year} (more than {settings.OLD_VALUE_YEARS} years"
    assert faded in "\n".join(chart.footer)
    assert f"2020 for {len(data) - 1} of {len(data)}, {old_year} for 1" in chart.subtitle


# ----------------------------------------------------------------------------- years, said exactly
def test_years_text_names_one_year_or_every_year_with_counts():
    assert common.years_text(pd.Series([2023, 2023, 2023])) == "latest year: 2023"
    mixed = pd.Series([2023] * 9 + [2014, 2022])
    assert common.years_text(mixed) == "latest year: 2023 for 9 of 11, 2014–2022 for 2"
    assert common.years_text(pd.Series([2021, 2021, 2019])) == "latest year: 2021 for 2 of 3, 2019 for 1"
    assert common.years_text(pd.Series([2015, 2015]), period=5) == "latest year: 2015–2020"
    assert common.years_text(pd.Series([], dtype="int64")) == ""


def test_old_values_use_the_setting():
    years = pd.Series({"AAA": 2024, "BBB": 2024 - settings.OLD_VALUE_YEARS, "CCC": 2024 - settings.OLD_VALUE_YEARS - 1})
    assert common.old_values(years).to_dict() == {"AAA": False, "BBB": False, "CCC": True}
    assert common.faded_note(years, {"CCC": "Synthetic C"}).startswith(f"Faded: Synthetic C {years['CCC']} ")
    assert common.faded_note(years.iloc[:2], {}) == ""


# ----------------------------------------------------------------------------- licences
def _registry(**licences) -> SimpleNamespace:
    return SimpleNamespace(datasets={sid: SimpleNamespace(licence=lic, publisher=f"Publisher {sid}")
                                     for sid, lic in licences.items()})


def test_licence_line_is_one_line_computed_from_the_sources():
    reg = _registry(a="Synthetic licence 1", b="Synthetic licence 2", c="Synthetic licence 1")
    assert footer_mod.licence_line(["a", "c"], reg) == "Licence: Synthetic licence 1."
    assert footer_mod.licence_line(["b", "a", "c"], reg) == (
        "Licence: Synthetic licence 1 (Publisher a, Publisher c); Synthetic licence 2 (Publisher b).")
    assert footer_mod.licences(["b", "a"], reg) == {"Synthetic licence 1": ["a"], "Synthetic licence 2": ["b"]}
    assert footer_mod.licence_line([], reg) is None


def test_chart_footer_and_json_carry_the_licence(tmp_path):
    data = pd.concat([synthetic_series("a", [2020]),
                      synthetic_series("b", [2020], source_id="synthetic-wpp", vintage="2098-06-30")])
    chart = charts.heatmap(data, title="Synthetic licences")
    assert "Licence: CC0 (synthetic)." in chart.footer
    meta = json.loads(charts.save(chart, "synthetic-licences", root=tmp_path)["json"].read_text())
    assert meta["licences"] == [{"licence": "CC0 (synthetic)", "sources": ["synthetic-wdi", "synthetic-wpp"]}]


# ----------------------------------------------------------------------------- heatmap
def test_heatmap_neutral_rows_units_and_asean_median():
    data = pd.concat([synthetic_series("ind_dir", [2020], unit="per 1,000"),
                      synthetic_series("ind_neutral", [2020], base=50.0, unit="%")])
    chart = charts.heatmap(data, indicator_labels={"ind_dir": "Synthetic rate", "ind_neutral": "Synthetic share"},
                           better={"ind_dir": "lower", "ind_neutral": "neutral"}, title="Synthetic heatmap")
    csv = _read_csv(chart)
    neutral = csv[csv["indicator_id"] == "ind_neutral"]
    assert neutral["colour_value"].isna().all()  # no better/worse scale
    assert csv.loc[csv["indicator_id"] == "ind_dir", "colour_value"].notna().all()
    gids = {p.get_gid() for p in chart.axes["main"].patches}
    assert {f"neutral-{i}-ind_neutral" for i in focus_members()["iso3"]} <= gids
    labels = [t.get_text().replace("\n", " ") for t in chart.axes["main"].get_yticklabels()]
    assert labels == ["Synthetic rate (per 1,000)", "Synthetic share (%)"]
    asean = focus_members().query("grouping == 'ASEAN'")["iso3"].tolist()
    median = csv[csv["iso3"] == "ASEAN"].set_index("indicator_id")
    for ind in ("ind_dir", "ind_neutral"):
        values = data[(data["indicator_id"] == ind) & data["iso3"].isin(asean)]["value"]
        assert median.loc[ind, "value"] == pytest.approx(float(np.median(values)))
        assert median.loc[ind, "n"] == len(values)
    assert "ASEAN median" in [t.get_text() for t in chart.axes["main"].get_xticklabels()]


# ----------------------------------------------------------------------------- the page frame
def test_key_columns_shrink_until_the_key_fits():
    short = [Patch(label="a"), Patch(label="b"), Patch(label="c")]
    assert base.key_columns(short, 3, 9.6) == 3
    long = [Patch(label="a synthetic key entry with a rather long label " * 2) for _ in range(3)]
    assert base.key_columns(long, 3, 9.6) < 3


def test_page_label_sits_in_the_strip_above_the_title():
    chart = charts.ranked_bars(synthetic_series("sp_cov_pension", [2020]),
                               title="A synthetic title long enough to run across the whole width of the page, "
                                     "and further")
    fig = chart.figure
    label = base.page_label(fig, "Figure 99 · A synthetic section title of some length for the page label")
    assert check_layout(fig) == {"overlaps": [], "outside": []}
    label.remove()


# ----------------------------------------------------------------------------- measuring before saving
def _laid_out_figure():
    """A constrained-layout figure whose margins depend on text: long tick labels, a y label, a title."""
    fig = style.new_figure(6.0, 3.0)
    ax = fig.subplots()
    ax.plot([0, 1, 2], [10_000, 250_000, 120_000])
    ax.set_ylabel("synthetic unit, thousands")
    ax.set_title("Synthetic title")
    return fig, ax


def test_laying_out_places_the_axes_as_a_full_draw_does():
    fig, ax = _laid_out_figure()
    before = ax.get_position().get_points().copy()
    renderer = common.lay_out(fig)
    measured = ax.get_position().get_points().copy()
    label = ax.yaxis.label.get_window_extent(renderer).bounds
    drawn, _ = _laid_out_figure()
    drawn.draw_without_rendering()
    assert measured == pytest.approx(drawn.axes[0].get_position().get_points(), abs=1e-12)
    assert label == pytest.approx(drawn.axes[0].yaxis.label.get_window_extent().bounds, abs=1e-9)
    assert not np.allclose(measured, before)  # the layout did run


def test_a_line_height_measured_after_a_taller_y_range_reuses_the_layout():
    fig, ax = _laid_out_figure()
    common.lay_out(fig)
    ymin, ymax = ax.get_ylim()
    ax.set_ylim(ymin, ymax * 1.4)  # what the event band does after measuring
    reused = common.label_height(ax, 7.8, laid_out=True)
    assert reused == pytest.approx(common.label_height(ax, 7.8), rel=1e-9)
    assert reused == pytest.approx((ymax * 1.4 - ymin) * 7.8 * 1.3 / 72 * fig.dpi / ax.get_window_extent().height)
