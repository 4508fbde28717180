"""Chart kinds, footers and exports on synthetic data: what is drawn is what the CSV says."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.patches import Rectangle

from analysis.core import paths
from analysis.presentation import charts
from analysis.presentation.charts import footer as footer_mod
from analysis.presentation.charts import palette
from analysis.presentation.charts.export import csv_bytes
from analysis.presentation.charts.layout import repel_1d
from charts_synthetic import (
    SYNTHETIC_CATALOGUE,
    focus_members,
    synthetic_project_fixture,
    synthetic_series,
)

synthetic_project = synthetic_project_fixture()


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and callable(a.get_text))]


def _by_gid(fig, gid):
    hits = fig.findobj(lambda a: getattr(a, "get_gid", lambda: None)() == gid)
    assert hits, f"no artist with gid {gid}"
    return hits[0]


def _read_csv(chart) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(csv_bytes(chart)), dtype={"iso3": "string"})


# ----------------------------------------------------------------------------- palette
def test_every_focus_country_has_one_distinct_colour_and_plus_three_is_dashed():
    table = palette.country_table()
    members = focus_members()
    assert sorted(table["iso3"]) == sorted(members["iso3"])
    assert table["colour"].is_unique
    plus3 = set(members.loc[members["grouping"] == "Plus Three", "iso3"])
    for rec in table.itertuples():
        assert (rec.linestyle != "-") == (rec.iso3 in plus3)
    assert table.iloc[: len(table) - len(plus3)]["group"].eq("ASEAN").all()  # ASEAN drawn first


# ----------------------------------------------------------------------------- ranked / banded bars
def test_ranked_bars_values_years_and_no_data_rows():
    data = synthetic_series("synthetic_share", [2018, 2020], missing=("MMR", "TLS"))
    # one country's latest value is older than the headline year: its bar must say so
    data = data[~((data["iso3"] == "LAO") & (data["year"] == 2020))]
    chart = charts.ranked_bars(data, title="Synthetic share", window=(2011, 2020))
    fig = chart.figure
    latest = data.sort_values("year").groupby("iso3").tail(1).set_index("iso3")
    for iso, rec in latest.iterrows():
        bar = _by_gid(fig, f"bar-{iso}")
        assert bar.get_width() == pytest.approx(rec["value"])
    texts = _texts(fig)
    lao = latest.loc["LAO"]
    assert f"{lao['value']:.1f} (2018)" in texts
    assert texts.count("no data") == 2
    for iso in ("MMR", "TLS"):
        _by_gid(fig, f"nodata-{iso}")
    # tick labels: every focus country is a row, missing ones included
    ticks = [t.get_text() for t in chart.axes["main"].get_yticklabels()]
    assert set(ticks) == set(focus_members()["name"])
    # the CSV holds exactly what was drawn
    csv = _read_csv(chart)
    drawn = csv[csv["role"] == "country"].set_index("iso3")
    assert sorted(drawn.index) == sorted(latest.index)
    assert np.allclose(drawn.loc[latest.index, "value"], latest["value"])
    assert set(csv.loc[csv["role"] == "no data", "iso3"]) == {"MMR", "TLS"}
    assert csv.loc[csv["role"] == "no data", "value"].isna().all()
    # the aggregate is the median of the ASEAN members with data, labelled n of N
    members = focus_members()
    all_asean = members.query("grouping == 'ASEAN'")["iso3"].tolist()
    asean = [i for i in all_asean if i in latest.index]
    agg = csv[csv["role"] == "aggregate: median"].iloc[0]
    assert agg["value"] == pytest.approx(latest.loc[asean, "value"].median())
    assert (agg["n"], agg["N"]) == (len(asean), len(all_asean))
    assert any(f"{len(asean)} of {len(all_asean)} members" in t for t in texts)
    assert set(chart.coverage["missing"]) == {"MMR", "TLS"}
    assert (f"Latest available year within 2011–2020; {len(members) - 2} of {len(members)} countries with data."
            in chart.footer)


def test_banded_bars_colour_follows_better():
    data = synthetic_series("synthetic_rate", [2020])
    chart = charts.banded_bars(data, better="lower", min_difference=0.0, title="Synthetic rate")
    csv = _read_csv(chart).set_index("iso3")
    asean = focus_members().query("grouping == 'ASEAN'")["iso3"].tolist()
    vals = data.set_index("iso3")["value"]
    med = vals[asean].median()
    mad = (vals[asean] - med).abs().median()
    for iso, v in vals.items():
        expected = "worse" if v > med + mad else "better" if v < med - mad else "within"
        assert csv.loc[iso, "judged"] == expected
        colour = _by_gid(chart.figure, f"bar-{iso}").get_facecolor()
        assert np.allclose(colour[:3], to_rgb(palette.BAND_COLOURS[expected]))


def _expected_bands(values: pd.Series, members: list[str], min_difference: float) -> dict[str, str]:
    """above / within / below the members' median ± max(MAD, min_difference), computed here independently."""
    med = values[members].median()
    spread = max((values[members] - med).abs().median(), min_difference)
    return {iso: "above" if v > med + spread else "below" if v < med - spread else "within"
            for iso, v in values.items()}


def test_banded_bars_band_widened_to_the_catalogue_min_difference():
    # sp_cov_pension is in the synthetic catalogue with a min_difference wider than its MAD.
    min_difference = float(SYNTHETIC_CATALOGUE.set_index("indicator_id").loc["sp_cov_pension", "min_difference"])
    data = synthetic_series("sp_cov_pension", [2020], base=20.0)
    chart = charts.banded_bars(data, better="neutral", title="Synthetic pension")
    vals = data.set_index("iso3")["value"]
    asean = focus_members().query("grouping == 'ASEAN'")["iso3"].tolist()
    expected = _expected_bands(vals, asean, min_difference)
    assert expected != _expected_bands(vals, asean, 0.0)  # the fixture makes the minimum matter
    csv = _read_csv(chart).set_index("iso3")
    for iso, band in expected.items():
        assert csv.loc[iso, "judged"] == band  # "neutral": no better / worse wording
        colour = _by_gid(chart.figure, f"bar-{iso}").get_facecolor()
        assert np.allclose(colour[:3], to_rgb(palette.BAND_COLOURS[band]))
    assert csv.loc["IDN", "band_upper"] - csv.loc["IDN", "band_lower"] == pytest.approx(2 * min_difference)
    assert "above the band" in _texts(chart.figure)


def test_banded_bars_need_a_min_difference_for_an_indicator_outside_the_catalogue():
    data = synthetic_series("synthetic_rate", [2020])
    with pytest.raises(charts.ChartDataError, match=r"'synthetic_rate' is not in data/indicators.toml"):
        charts.banded_bars(data, better="lower")
    with pytest.raises(charts.ChartDataError, match="better must be one of"):
        charts.banded_bars(data, better="smaller", min_difference=0.0)


# ----------------------------------------------------------------------------- lines, small multiples, slope
def test_lines_ydata_projection_and_footer():
    data = synthetic_series("synthetic_ratio", list(range(2000, 2041, 5)), projection_after=2020,
                            source_id="synthetic-wpp", vintage="2098-06-30", missing=("SGP",))
    chart = charts.lines(data, title="Synthetic ratio")
    fig = chart.figure
    for iso in ("IDN", "JPN"):
        part = data[data["iso3"] == iso]
        est = _by_gid(fig, f"line-{iso}")
        assert list(est.get_xdata()) == part.loc[~part["projection"], "year"].tolist()
        assert np.allclose(est.get_ydata(), part.loc[~part["projection"], "value"])
        proj = _by_gid(fig, f"line-{iso}-projection")
        assert np.allclose(proj.get_ydata()[1:], part.loc[part["projection"], "value"])
    assert _by_gid(fig, "line-JPN").get_linestyle() != _by_gid(fig, "line-IDN").get_linestyle()
    assert chart.footer[0] == "Source: Synthetic Publisher B, Synthetic Population Prospects (vintage 2098-06-30)."
    assert "Projections: Synthetic Population Prospects medium-variant projections after 2020." in chart.footer
    assert "No data: Singapore." in chart.footer
    csv = _read_csv(chart)
    assert set(csv.loc[csv["role"] == "no data", "iso3"]) == {"SGP"}
    assert len(csv[csv["role"] == "country"]) == len(data)
    texts = _texts(fig)
    assert "Korea, Rep." in texts and "ASEAN median" in texts  # end labels


def test_weighted_mean_aggregate_is_population_weighted(synthetic_project):
    data = synthetic_series("under5_mortality", list(range(2010, 2023)), base=40.0, step=-1.0)
    chart = charts.lines(data, aggregate="weighted_mean", title="Synthetic mortality")
    members = focus_members()
    asean = members.loc[members["grouping"] == "ASEAN", "iso3"].tolist()
    pop = synthetic_series("pop_total", list(range(2010, 2023)), base=1000.0, step=0.0, unit="persons")
    both = data[data["iso3"].isin(asean)].merge(pop[["iso3", "year", "value"]], on=["iso3", "year"],
                                                 suffixes=("", "_pop"))
    expected = both.groupby("year").apply(lambda g: (g["value"] * g["value_pop"]).sum() / g["value_pop"].sum(),
                                          include_groups=False)
    line = _by_gid(chart.figure, "aggregate")
    assert np.allclose(line.get_ydata(), expected.to_numpy())
    plain = data[data["iso3"].isin(asean)].groupby("year")["value"].mean()
    assert not np.allclose(line.get_ydata(), plain.to_numpy())  # the weights matter
    assert "ASEAN population-weighted mean" in _texts(chart.figure)


def test_unknown_aggregate_statistic_is_refused():
    data = synthetic_series("under5_mortality", [2010, 2011])
    with pytest.raises(charts.ChartDataError, match="aggregate must be one of"):
        charts.lines(data, aggregate="mean")


def test_small_multiples_marks_missing_panels():
    data = synthetic_series("synthetic_share", list(range(2010, 2016)), missing=("BRN",))
    chart = charts.small_multiples(data, title="Synthetic panels")
    assert set(chart.axes) == set(focus_members()["iso3"])
    assert "no data" in [t.get_text() for t in chart.axes["BRN"].texts]
    line = _by_gid(chart.figure, "line-VNM")
    assert np.allclose(line.get_ydata(), data.loc[data["iso3"] == "VNM", "value"])


def test_slope_two_years_and_missing_end():
    data = synthetic_series("synthetic_share", [2010, 2015, 2020])
    data = data[~((data["iso3"] == "KHM") & (data["year"] == 2020))]
    chart = charts.slope(data, 2010, 2020, title="Synthetic slope")
    line = _by_gid(chart.figure, "slope-THA")
    tha = data[data["iso3"] == "THA"].set_index("year")["value"]
    assert np.allclose(line.get_ydata(), [tha[2010], tha[2020]])
    assert "KHM" in chart.coverage["missing"]
    assert "No data: Cambodia." in chart.footer


def test_slope_nearest_year_ties_go_to_the_earlier_year():
    # One value a year either side of 2010 (a tie) and 2020 exact: the start is the earlier year.
    data = synthetic_series("synthetic_share", [2009, 2011, 2020])
    data = data[~((data["iso3"] == "VNM") & (data["year"] == 2009))]
    chart = charts.slope(data, 2010, 2020, tolerance=1, title="Synthetic slope with tolerance")
    csv = _read_csv(chart)
    start = csv[csv["role"] == "start"].set_index("iso3")
    assert (start.drop(index="VNM")["year"] == 2009).all()
    assert start.loc["VNM", "year"] == 2011
    assert (start["target_year"] == 2010).all()
    tha = data[data["iso3"] == "THA"].set_index("year")["value"]
    assert np.allclose(_by_gid(chart.figure, "slope-THA").get_ydata(), [tha[2009], tha[2020]])
    texts = _texts(chart.figure)
    assert f"Thailand {tha[2009]:.1f} (2009)" in texts
    assert any(t.startswith(f"{tha[2020]:.1f} Thailand") for t in texts)  # exact end: no year shown
    assert chart.coverage["missing"] == []
    untolerant = charts.slope(data, 2010, 2020, title="Synthetic slope, exact years")
    assert set(untolerant.coverage["missing"]) == set(focus_members()["iso3"])


# ----------------------------------------------------------------------------- heatmap, scatter, stacked
def test_heatmap_cells_and_gaps():
    data = pd.concat([synthetic_series("ind_a", [2019, 2020]),
                      synthetic_series("ind_b", [2020], base=100.0, missing=("JPN",))])
    chart = charts.heatmap(data, indicator_labels={"ind_a": "Synthetic A", "ind_b": "Synthetic B"},
                           better={"ind_b": "lower"}, title="Synthetic heatmap")
    csv = _read_csv(chart)
    assert len(csv[csv["iso3"] != "ASEAN"]) == 2 * len(focus_members())
    gap = csv[(csv["iso3"] == "JPN") & (csv["indicator_id"] == "ind_b")].iloc[0]
    assert gap["role"] == "no data" and math.isnan(gap["value"])
    _by_gid(chart.figure, "nodata-JPN-ind_b")
    texts = [t.get_text() for t in chart.axes["main"].texts]
    idn_a = data[(data["iso3"] == "IDN") & (data["indicator_id"] == "ind_a") & (data["year"] == 2020)]["value"].iloc[0]
    assert f"{idn_a:.1f}" in texts
    # lower is better: the lowest value sits at the top of the scale
    b = csv[(csv["indicator_id"] == "ind_b") & csv["value"].notna()]
    assert b.loc[b["value"].idxmin(), "colour_value"] == pytest.approx(1.0)
    years = charts.heatmap(data, mode="latest_year", title="Synthetic years")
    assert "2020" in [t.get_text() for t in years.axes["main"].texts]


def test_heatmap_table_has_every_cell_in_order_with_its_years_and_the_members_median():
    data = pd.concat([synthetic_series("ind_a", [2018, 2019, 2020]),
                      synthetic_series("ind_b", [2020], base=100.0, missing=("JPN", "IDN"))])
    chart = charts.heatmap(data, indicator_labels={"ind_b": "Synthetic B", "ind_a": "Synthetic A"},
                           better={"ind_a": "higher", "ind_b": "lower"}, title="Synthetic heatmap table")
    table = chart.data
    cells = table[table["iso3"] != "ASEAN"]
    drawn = palette.country_table()
    # countries in drawing order, the indicators in the order given within each country
    order = [(i, k) for i in drawn["iso3"] for k in ("ind_b", "ind_a")]
    assert list(zip(cells["iso3"], cells["indicator_id"])) == order
    cell = cells.set_index(["iso3", "indicator_id"])
    assert cell.loc[("IDN", "ind_b"), "role"] == "no data" and cell.loc[("IDN", "ind_b"), "years_with_data"] == 0
    assert cell.loc[("THA", "ind_a"), "years_with_data"] == 3 and cell.loc[("THA", "ind_a"), "year"] == 2020
    assert cell.loc[("THA", "ind_a"), "value"] == data.loc[(data["iso3"] == "THA") & (data["year"] == 2020)
                                                            & (data["indicator_id"] == "ind_a"), "value"].iloc[0]
    members = drawn.loc[drawn["group"] == palette.ASEAN, "iso3"]
    b = data[(data["indicator_id"] == "ind_b") & data["iso3"].isin(members)]
    median = table[table["iso3"] == "ASEAN"].set_index("indicator_id")
    assert median.loc["ind_b", "n"] == len(members) - 1 == len(b)  # IDN has no value; JPN is no member
    assert median.loc["ind_b", "value"] == pytest.approx(b["value"].median())
    # the median sits on the members' scale: lower is better, so a lower median is nearer the top
    assert 0 < median.loc["ind_b", "colour_value"] < 1


def test_scatter_points_labels_do_not_overlap():
    data = pd.concat([synthetic_series("x_ind", [2020], base=10.0),
                      synthetic_series("y_ind", [2020], base=50.0, missing=("PHL",))])
    chart = charts.scatter(data, "x_ind", "y_ind", title="Synthetic scatter")
    fig = chart.figure
    x = data[data["indicator_id"] == "x_ind"].set_index("iso3")["value"]
    y = data[data["indicator_id"] == "y_ind"].set_index("iso3")["value"]
    pt = _by_gid(fig, "point-CHN")
    assert (pt.get_xdata()[0], pt.get_ydata()[0]) == (x["CHN"], y["CHN"])
    assert "PHL" in chart.coverage["missing"]
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in chart.axes["main"].texts if t.get_text()]
    assert len(boxes) == len(focus_members()) - 1  # every point but PHL's is labelled
    overlaps = sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert overlaps == 0


def test_stacked_bars_segments_and_missing():
    data = pd.concat([synthetic_series("gov", [2019, 2020], base=40.0, step=0.0, missing=("KOR",)),
                      synthetic_series("oop", [2019, 2020], base=20.0, step=0.0)])
    data = data[~((data["iso3"] == "MYS") & (data["year"] == 2020) & (data["indicator_id"] == "oop"))]
    chart = charts.stacked_bars(data, ["gov", "oop"], labels={"gov": "Government", "oop": "Out-of-pocket"},
                                title="Synthetic composition")
    fig = chart.figure
    seg = _by_gid(fig, "seg-MYS-oop")
    mys = data[(data["iso3"] == "MYS") & (data["year"] == 2019)].set_index("indicator_id")["value"]
    assert seg.get_width() == pytest.approx(mys["oop"]) and seg.get_x() == pytest.approx(mys["gov"])
    assert "2019" in [t.get_text() for t in chart.axes["main"].texts]  # MYS's year differs from the headline
    _by_gid(fig, "nodata-KOR")
    csv = _read_csv(chart)
    assert set(csv.loc[csv["role"] == "no data", "iso3"]) == {"KOR"}


def test_pyramid_shares_and_no_sex_split_note():
    ages = [f"pop_age_{a}_{a + 4}" for a in range(0, 20, 5)] + ["pop_age_20plus"]
    rows = [{"iso3": "THA", "year": yr, "indicator_id": a, "value": float(10 * (k + 1) + (yr == 2050) * 5),
             "unit": "thousand", "source_id": "synthetic-wpp", "vintage": "2098-06-30", "projection": yr > 2020}
            for yr in (2020, 2050) for k, a in enumerate(ages)]
    data = pd.DataFrame(rows)
    chart = charts.pyramid(data, "THA", [2020, 2050])
    bars = [p for p in chart.axes["main"].patches if isinstance(p, Rectangle)]
    total = sum(10 * (k + 1) for k in range(len(ages)))
    assert [round(b.get_width(), 6) for b in bars] == [round(10 * (k + 1) / total * 100, 6) for k in range(len(ages))]
    assert any("No split by sex" in line for line in chart.footer)
    assert [t.get_text() for t in chart.axes["main"].get_yticklabels()][-1] == "20+"


def test_timeline_marks_gaps_in_the_record():
    chart = charts.timeline()
    meetings = pd.read_csv(paths.references_dir() / "meeting_themes.csv")
    instruments = pd.read_csv(paths.references_dir() / "asean_instruments.csv")
    n_gap = int(meetings["theme"].isna().sum())
    assert chart.coverage["themes_not_found"] == n_gap
    texts = "\n".join(_texts(chart.figure))
    assert texts.count("theme not found") + texts.count("theme title not found") >= n_gap
    missing_years = sorted(set(range(meetings["year"].min(), meetings["year"].max() + 1)) - set(meetings["year"]))
    assert chart.coverage["years_without_meeting"] == missing_years
    assert len(chart.data) == len(meetings) + len(instruments) + len(missing_years)
    assert (chart.data["kind"] == "instrument").sum() == len(instruments)
    years = chart.data["year"].tolist()
    assert years == sorted(years)  # date order


def test_timeline_accepts_focus_groups_as_tuples_or_text():
    meetings = pd.DataFrame({
        "meeting_no": [1, 3], "year": [2090, 2092], "dates": ["2090-01-01", pd.NA], "city": ["Synthetica", pd.NA],
        "theme": ["Synthetic theme", pd.NA], "theme_language": ["en", pd.NA], "topics": [pd.NA, "care;pensions"],
        "year_basis": ["stated", "inferred"], "focus_groups": [("older_persons", "children"), "mothers;children"],
        "source_url": ["https://example.org/1", "https://example.org/3"],
        "theme_en": ["Synthetic theme", pd.NA], "theme_en_basis": ["official", pd.NA],
        "theme_en_unofficial": [False, False]})
    instruments = pd.DataFrame({"date": ["2091-05-01"], "instrument": ["Synthetic declaration"],
                                "focus_groups": [("persons_with_disabilities",)], "source_url": ["https://example.org/i"]})
    chart = charts.timeline(meetings, instruments, title="Synthetic timeline")
    table = chart.data.set_index("kind")
    assert table.loc["meeting", "focus_groups"].tolist() == ["older persons, children", "mothers, children"]
    assert table.loc["instrument", "focus_groups"] == "persons with disabilities"
    assert chart.coverage == {"meetings": 2, "themes_not_found": 1, "instruments": 1, "years_without_meeting": [2091]}
    texts = "\n".join(_texts(chart.figure))
    assert "1st HLOM, Synthetica: Synthetic theme" in texts
    assert "theme title not found; topics: care, pensions" in texts.replace("\n", " ")
    assert "(year inferred)" in texts


# ----------------------------------------------------------------------------- footer and exports
def test_footer_lines_from_the_registry():
    data = pd.concat([synthetic_series("a", [2020]), synthetic_series("b", [2020], source_id="synthetic-wpp",
                                                                       vintage="2098-06-30")])
    lines = footer_mod.footer_lines(data, ["A note."])
    assert lines == ["Source: Synthetic Publisher A, Synthetic Development Indicators (vintage 2099-01-01).",
                     "Source: Synthetic Publisher B, Synthetic Population Prospects (vintage 2098-06-30).", "A note."]
    combined = synthetic_series("c", [2020], source_id="synthetic-wdi+synthetic-wpp", vintage="2099-01-01; 2098-06-30")
    assert footer_mod.sources_used(combined) == {"synthetic-wdi": ["2099-01-01"], "synthetic-wpp": ["2098-06-30"]}
    assert footer_mod.source_line("unknown-id", ["x"]).startswith("Source: unknown-id (not in the source registry")


def test_exports_are_complete_and_byte_identical(tmp_path):
    data = synthetic_series("synthetic_share", [2018, 2020], missing=("TLS",))
    first = charts.save(charts.ranked_bars(data, title="Synthetic"), "synthetic-bars", "sub",
                        root=tmp_path / "a", made_by="tests/test_charts.py")
    second = charts.save(charts.ranked_bars(data, title="Synthetic"), "synthetic-bars", "sub",
                         root=tmp_path / "b", made_by="tests/test_charts.py")
    assert set(first) == {"png", "svg", "pdf", "csv", "json"}
    for fmt in first:
        assert first[fmt].parent == tmp_path / "a" / "sub"
        assert first[fmt].read_bytes() == second[fmt].read_bytes(), fmt
    svg = first["svg"].read_text()
    assert "<dc:date>" not in svg
    assert b"CreationDate" not in first["pdf"].read_bytes()
    meta = json.loads(first["json"].read_text())
    assert meta["made_by"] == "tests/test_charts.py"
    assert meta["sources"][0]["licence"] == "CC0 (synthetic)"
    assert meta["indicator_ids"] == ["synthetic_share"]
    from PIL import Image

    with Image.open(first["png"]) as im:
        assert round(im.info["dpi"][0]) >= 200
    with pytest.raises(ValueError):
        charts.save(charts.ranked_bars(data), "../escape", root=tmp_path)


def test_bad_input_gives_a_clear_error():
    with pytest.raises(charts.ChartDataError, match="missing columns"):
        charts.ranked_bars(pd.DataFrame({"iso3": ["IDN"], "value": [1.0]}))
    two = pd.concat([synthetic_series("a", [2020]), synthetic_series("b", [2020])])
    with pytest.raises(charts.ChartDataError, match="exactly one indicator_id"):
        charts.lines(two)


def test_repel_keeps_order_and_gap():
    out = repel_1d([1.0, 1.1, 1.2, 5.0], 0.5)
    assert out == sorted(out)
    assert all(b - a >= 0.5 - 1e-9 for a, b in zip(out, out[1:]))
    assert out[3] == 5.0
    assert out[1] == pytest.approx(1.1)  # a crowded cluster is centred on its mean


def test_repel_stays_within_bounds():
    # Crowded at the top: shifted down below the upper bound, gaps kept, order kept.
    out = repel_1d([9.9, 10.0, 9.8], 1.0, lo=0.0, hi=10.0)
    assert max(out) == pytest.approx(10.0)
    assert sorted(out) == [out[2], out[0], out[1]]
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(sorted(out), sorted(out)[1:]))
    # More labels than fit: spread evenly over the whole range instead.
    squeezed = repel_1d([5.0] * 5, 1.0, lo=0.0, hi=2.0)
    assert squeezed == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0])
    assert repel_1d([-3.0], 1.0, lo=0.0, hi=2.0) == [0.0]


def test_ranked_bars_each_bar_keeps_its_own_hatch_fade_and_rank():
    data = synthetic_series("synthetic_share", [2005, 2020])
    # LAO's latest value is 15 years older than the others': faded and dotted; Plus Three bars hatched
    data = data[~((data["iso3"] == "LAO") & (data["year"] == 2020))]
    chart = charts.ranked_bars(data, title="Synthetic share", window=(2000, 2020))
    latest = data.sort_values("year").groupby("iso3").tail(1).set_index("iso3")
    ranked = sorted(latest.index, key=lambda i: (-latest.loc[i, "value"], i))
    plus3 = set(focus_members().query("grouping == 'Plus Three'")["iso3"])
    for rank, iso in enumerate(ranked):
        bar = _by_gid(chart.figure, f"bar-{iso}")
        assert bar.get_y() + bar.get_height() / 2 == pytest.approx(rank)
        faded = iso == "LAO"
        hatch = palette.HATCHES[palette.PLUS_THREE] if iso in plus3 else palette.FADED_HATCH if faded else None
        assert bar.get_hatch() == hatch
        assert bar.get_alpha() == (palette.FADED_ALPHA if faded else 1.0)
        if hatch:  # hatched in white lines; the plain bars have no outline (line width 0)
            assert np.allclose(bar.get_edgecolor()[:3], (1, 1, 1))
        assert bar.get_linewidth() == 0
    assert len([p for p in chart.axes["main"].patches if str(p.get_gid()).startswith("bar-")]) == len(ranked)


def test_close_drops_the_axes_and_artists_of_a_chart():
    chart = charts.ranked_bars(synthetic_series("synthetic_share", [2020]), title="Synthetic share")
    fig = chart.figure
    assert fig.get_axes() and _texts(fig)
    chart.close()
    assert fig.get_axes() == [] and fig.subfigs == [] and fig.texts == []
    assert chart.axes == {}


def test_csv_rows_carry_the_extra_columns_after_the_common_ones():
    from analysis.presentation.charts import common

    rows = common.country_rows(None)
    data = synthetic_series("synthetic_share", [2020]).head(3).reset_index(drop=True)
    plotted = common.plotted_rows(data, rows, role="country", rank=np.arange(3))
    assert list(plotted.columns[-2:]) == ["role", "rank"]
    assert plotted["role"].tolist() == ["country"] * 3 and plotted["rank"].tolist() == [0, 1, 2]
    gaps = common.no_data_rows(["MMR", "TLS"], rows, "synthetic_share", "%", role="no data", panel="A")
    assert list(gaps.columns[-2:]) == ["role", "panel"] and gaps["panel"].tolist() == ["A", "A"]
    assert gaps["value"].isna().all()
