"""One number per concept on SYNTHETIC data: projections after the estimates under their own id, the
published ASEAN aggregate beside the median, period years, and the checker over figure CSVs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.presentation import charts
from analysis.presentation.charts.common import indicator_year_label, year_label
from analysis.store import series
from charts_synthetic import synthetic_project_fixture, synthetic_series
from figure_csvs import figure_rows

CONCEPT = "pop_65plus_share_wpp"  # the synthetic catalogue's share aged 65+ (its own concept)


synthetic_project = synthetic_project_fixture()


def _estimates_and_source():
    """Synthetic estimates to 2022 (to 2019 for Japan) and a projection source with its own estimates to
    2020 and projections from 2021, at a different level."""
    est = synthetic_series(CONCEPT, list(range(2010, 2023)), base=5.0)
    est = est.loc[~((est["iso3"] == "JPN") & (est["year"] > 2019))]
    src = synthetic_series(CONCEPT, list(range(2010, 2041)), base=6.0, source_id="synthetic-wpp",
                           vintage="2098-06-30", projection_after=2020)
    return est, src


# ----------------------------------------------------------------------------- projections
def test_projection_is_shown_only_after_each_countrys_last_estimate_under_its_own_id():
    est, src = _estimates_and_source()
    new_id = series.projection_id(CONCEPT, "synthetic-wpp")
    shown, joins = series.split_after_estimates(est, src, new_id)
    assert set(shown["indicator_id"]) == {new_id} and shown["projection"].all()
    last = est.groupby("iso3")["year"].max()
    assert (shown["year"].to_numpy() > shown["iso3"].map(last).to_numpy()).all()
    # Japan's estimates end in 2019 and the source's own 2020 value is an estimate: projections from 2021
    assert shown.loc[shown["iso3"] == "JPN", "year"].min() == 2021
    assert shown.loc[shown["iso3"] == "IDN", "year"].min() == 2023
    # the join: the source's value in the last estimate year, minus the estimate (1.0 apart by construction)
    idn = joins.set_index("iso3").loc["IDN"]
    assert idn["year"] == 2022 and idn["gap"] == pytest.approx(1.0)


def test_a_country_without_estimates_keeps_every_projection_row_and_no_estimate_row():
    est, src = _estimates_and_source()
    shown, joins = series.split_after_estimates(est.loc[est["iso3"] != "THA"], src, "x_projection")
    tha = shown.loc[shown["iso3"] == "THA"]
    assert tha["year"].tolist() == list(range(2021, 2041)) and "THA" not in set(joins["iso3"])


def test_projection_ids_map_back_to_their_concept_and_chart_constructs_to_none():
    assert series.concept_of(series.projection_id(CONCEPT, "synthetic-wpp")) == CONCEPT
    assert series.concept_of(series.splice_id(CONCEPT)) == CONCEPT
    assert series.concept_of("sp_cov_pension") == "sp_cov_pension"
    assert series.concept_of("remainder_of_gov_share_che") is None
    assert series.concept_of("no_such_concept_synthetic-wpp_projection") is None


def test_lines_draw_a_projection_lighter_unjoined_and_write_it_under_its_own_id():
    est, src = _estimates_and_source()
    new_id = series.projection_id(CONCEPT, "synthetic-wpp")
    shown, _ = series.split_after_estimates(est, src, new_id)
    label = series.projection_label("synthetic-wpp")
    chart = charts.lines(est, projection=shown, projection_label=label, title="Synthetic share")
    line = chart.figure.findobj(lambda a: getattr(a, "get_gid", lambda: None)() == "line-IDN-projection")[0]
    part = shown.loc[shown["iso3"] == "IDN"]
    # not joined to the last estimate: the line starts at the first projected year
    assert list(line.get_xdata()) == part["year"].tolist() and np.allclose(line.get_ydata(), part["value"])
    assert line.get_alpha() < 1.0
    data = chart.data
    assert set(data.loc[data["role"] == label, "indicator_id"]) == {new_id}
    assert set(data.loc[data["role"] == "country", "indicator_id"]) == {CONCEPT}
    assert any("Synthetic Population Prospects" in line for line in chart.footer)
    assert label == "projection, Synthetic Population Prospects"


# ----------------------------------------------------------------------------- a published aggregate
def test_banded_bars_draw_a_published_aggregate_with_its_own_source_and_why():
    data = synthetic_series("sp_cov_pension", [2016, 2018, 2020], base=20.0, missing=("MMR", "TLS"))
    published = pd.DataFrame({
        "label": "Synthetic modelled estimate for ASEAN", "why": "the synthetic source imputes missing countries",
        "source_id": "synthetic-wpp", "geo": "x99", "indicator_id": "sp_cov_pension", "year": [2018, 2020],
        "value": [55.5, 57.5], "unit": "%", "vintage": "2098-06-30", "projection": False})
    chart = charts.banded_bars(data, better="higher", published=published)
    row = chart.data.loc[chart.data["role"] == "published aggregate"]
    assert len(row) == 1 and row["year"].iloc[0] == 2020 and row["value"].iloc[0] == 57.5
    assert row["source_id"].iloc[0] == "synthetic-wpp" and row["group"].iloc[0] == "aggregate"
    assert any("the synthetic source imputes missing countries" in n for n in chart.notes)
    assert "synthetic-wpp" in chart.source_ids
    dashed = chart.figure.findobj(lambda a: getattr(a, "get_gid", lambda: None)() == "published-aggregate")
    assert dashed and dashed[0].get_xdata()[0] == 57.5


# ----------------------------------------------------------------------------- periods
def test_a_five_year_period_is_written_as_a_period():
    assert year_label(2015, 5) == "2015–2020" and year_label(2015) == "2015" and year_label(pd.NA) == ""
    assert indicator_year_label("sp_cov_pension", 2018) == "2018"  # period 1 in the catalogue
    assert indicator_year_label("chart_construct", 2018) == "2018"


# ----------------------------------------------------------------------------- the checker over figure CSVs
def _write_chart(folder, name: str, rows: list[dict], comparison: bool = False) -> None:
    frame = pd.DataFrame(rows)
    frame.to_csv(folder / f"{name}.csv", index=False)
    meta = {"name": name, "coverage": {"comparison": True} if comparison else {}}
    (folder / f"{name}.json").write_text(json.dumps(meta), encoding="utf-8")


def _row(ind: str, iso3: str, year: int, value: float, projection: bool = False, group: str = "ASEAN") -> dict:
    return {"iso3": iso3, "country": iso3, "group": group, "indicator_id": ind, "year": year, "value": value,
            "projection": projection}


def test_checker_passes_one_number_per_concept_country_and_year(tmp_path):
    proj = series.projection_id(CONCEPT, "synthetic-wpp")
    _write_chart(tmp_path, "a", [_row(CONCEPT, "IDN", 2020, 5.0), _row(proj, "IDN", 2021, 7.0, True)])
    _write_chart(tmp_path, "b", [_row(series.splice_id(CONCEPT), "IDN", 2020, 5.0000001),
                                 _row(CONCEPT, "ASEAN", 2020, 9.0, group="aggregate")])
    # another source's number for the same year, but in a chart labelled as a comparison of sources
    _write_chart(tmp_path, "c", [_row(CONCEPT, "IDN", 2020, 6.0), _row("remainder_of_x", "IDN", 2020, 1.0)],
                 comparison=True)
    rows = figure_rows(tmp_path)
    assert len(rows) == 6
    assert series.one_number_problems(rows) == []


def test_checker_fails_on_two_estimates_and_on_a_projection_over_an_estimate(tmp_path):
    proj = series.projection_id(CONCEPT, "synthetic-wpp")
    _write_chart(tmp_path, "a", [_row(CONCEPT, "IDN", 2020, 5.0), _row(CONCEPT, "IDN", 2021, 5.5)])
    _write_chart(tmp_path, "b", [_row(CONCEPT, "IDN", 2020, 6.0), _row(proj, "IDN", 2021, 7.0, True)])
    problems = series.one_number_problems(figure_rows(tmp_path))
    assert len(problems) == 2
    assert problems[0].startswith(f"{CONCEPT}, IDN, 2020: different estimates")
    assert problems[1].startswith(f"{CONCEPT}, IDN, 2021: projection shown in an estimated year")


def test_checker_finds_a_projection_over_an_estimate_only_the_store_has(tmp_path):
    proj = series.projection_id(CONCEPT, "synthetic-wpp")
    _write_chart(tmp_path, "a", [_row(proj, "IDN", 2021, 7.0, True)])
    rows = figure_rows(tmp_path)
    assert series.one_number_problems(rows) == []
    stored = pd.DataFrame({"concept": [CONCEPT], "iso3": ["IDN"], "year": [2021]})
    assert len(series.one_number_problems(rows, estimates=stored)) == 1


# ----------------------------------------------------------------------------- the ageing splice
def test_the_spliced_share_is_a_series_of_its_own_with_its_source_line_and_join_note():
    from analysis.rules.crossings import combine_estimates_and_projections
    from analysis.store.ageing import splice_notes

    est, src = _estimates_and_source()
    cols = ["iso3", "year", "value", "projection", "source_id"]
    joined = combine_estimates_and_projections(est.loc[:, cols], src.loc[:, cols])
    joined = joined.assign(indicator_id=series.splice_id(CONCEPT), vintage="synthetic")
    line, how = splice_notes(joined)
    assert line.startswith(f"Series {series.splice_id(CONCEPT)}: Synthetic Publisher A Synthetic Development "
                           "Indicators estimates to 2019–2022")
    assert "ratio-spliced at each join" in line and how.startswith("How joined:")
    chart = charts.share_65_chart(joined, start=2010, end=2040)
    assert set(chart.data["indicator_id"].dropna()) == {series.splice_id(CONCEPT)}
    assert line in chart.footer
    unadjusted = combine_estimates_and_projections(est.loc[:, cols], src.loc[:, cols], splice=None)
    notes = splice_notes(unadjusted.assign(indicator_id=series.splice_id(CONCEPT)))
    assert len(notes) == 1 and "joined without level adjustment" in notes[0]


def test_bars_of_a_five_year_period_say_the_period_in_labels_subtitle_and_csv(monkeypatch):
    from types import SimpleNamespace

    from analysis.store import api

    class FivePeriods:  # a synthetic catalogue in which every indicator is a five-year period
        def __contains__(self, indicator_id):
            return True

        def __getitem__(self, indicator_id):
            return SimpleNamespace(period=5)

    monkeypatch.setattr(api, "catalogue_model", lambda: FivePeriods())
    data = synthetic_series("sp_cov_pension", [2010, 2015], base=20.0)
    data = data.loc[~((data["iso3"] == "IDN") & (data["year"] == 2015))]
    chart = charts.banded_bars(data, better="higher")
    assert "2015–2020" in chart.subtitle
    texts = [t.get_text() for t in chart.figure.findobj(lambda a: hasattr(a, "get_text") and callable(a.get_text))]
    assert any(t.endswith("(2010–2015)") for t in texts)  # Indonesia's older period beside its bar
    csv = chart.data.loc[chart.data["role"] == "country"]
    assert set(csv["period"]) == {"2010–2015", "2015–2020"} and csv["year"].notna().all()
