"""The public API: latest and aggregates on hand-checked synthetic numbers, and the API on a synthetic store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.store import api
from analysis.store import reader as store
from test_store import write_synthetic_store  # the synthetic store shared with tests/test_store.py

# ---------------------------------------------------------------- synthetic frames


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
    return frame.assign(unit=np.where(frame["indicator_id"] == "pop_total", "persons", "%"),
                        source_id="synthetic", vintage="2026", projection=projection)


def synthetic_aggregate_input() -> pd.DataFrame:
    values = [("QAA", "x", 2010, 10.0), ("QAB", "x", 2010, 20.0), ("QAC", "x", 2010, 60.0),
              ("QPA", "x", 2010, 40.0), ("QZZ", "x", 2010, 1000.0),
              ("QAA", "x", 2011, 5.0),
              ("QZZ", "x", 2012, 7.0)]
    pop = [("QAA", "pop_total", 2010, 1.0), ("QAB", "pop_total", 2010, 3.0), ("QPA", "pop_total", 2010, 4.0),
           ("QZZ", "pop_total", 2010, 100.0), ("QAA", "pop_total", 2011, 1.0)]
    return long_frame(values + pop)


def agg_row(result: pd.DataFrame, group: str, year: int, indicator: str = "x") -> pd.Series:
    hit = result.loc[(result["group"] == group) & (result["year"] == year) & (result["indicator_id"] == indicator)]
    assert len(hit) == 1
    return hit.iloc[0]


# ---------------------------------------------------------------- compute_aggregates


def test_median_and_weighted_mean_by_hand():
    out = api.compute_aggregates(synthetic_aggregate_input(), synthetic_countries(), min_coverage=0.5,
                                 groups=("ASEAN",), on="2026-01-01")
    r = agg_row(out, "ASEAN", 2010)
    # members QAA, QAB, QAC, QAD (N=4); values 10, 20, 60; QAD missing; QZZ is not a member
    assert r["median"] == 20.0 and r["n"] == 3 and r["N"] == 4 and r["coverage"] == "3 of 4"
    # QAC has no population: weighted over QAA (w=1) and QAB (w=3): (10*1 + 20*3) / 4
    assert r["weighted_mean"] == pytest.approx(17.5) and r["n_weighted"] == 2
    assert r["coverage_weighted"] == "2 of 4" and r["coverage_ok"] and r["coverage_weighted_ok"]
    assert r["composition"] == "QAA,QAB,QAC,QAD" and r["unit"] == "%"


def test_below_min_coverage_the_value_is_missing_not_computed():
    out = api.compute_aggregates(synthetic_aggregate_input(), synthetic_countries(), min_coverage=0.6,
                                 groups=("ASEAN",), on="2026-01-01")
    r = agg_row(out, "ASEAN", 2010)
    assert r["median"] == 20.0 and r["coverage_ok"]  # 3/4 >= 0.6
    assert np.isnan(r["weighted_mean"]) and not r["coverage_weighted_ok"]  # 2/4 < 0.6
    r11 = agg_row(out, "ASEAN", 2011)  # only QAA reports: 1 of 4
    assert r11["n"] == 1 and r11["coverage"] == "1 of 4" and not r11["coverage_ok"] and np.isnan(r11["median"])


def test_years_without_any_member_value_are_shown_with_zero_coverage():
    out = api.compute_aggregates(synthetic_aggregate_input(), synthetic_countries(), groups=("ASEAN",),
                                 on="2026-01-01")
    r = agg_row(out, "ASEAN", 2012)  # only the non-member QZZ has a value in 2012
    assert r["n"] == 0 and r["coverage"] == "0 of 4" and np.isnan(r["median"]) and np.isnan(r["weighted_mean"])


def test_composition_follows_the_on_date_and_plus_three():
    data = synthetic_aggregate_input()
    before = api.compute_aggregates(data, synthetic_countries(), groups=("ASEAN", "ASEAN+3"), on="2025-10-25")
    r = agg_row(before, "ASEAN", 2010)
    assert r["N"] == 3 and r["coverage"] == "3 of 3" and r["composition"] == "QAA,QAB,QAC"
    r3 = agg_row(before, "ASEAN+3", 2010)
    # values 10, 20, 40, 60 -> median 30; weights 1, 3, 4 (QAC none): (10 + 60 + 160) / 8
    assert r3["median"] == 30.0 and r3["weighted_mean"] == pytest.approx(28.75)
    assert (r3["n"], r3["n_weighted"], r3["N"]) == (4, 3, 4)


def test_zero_or_missing_population_does_not_count_for_the_weighted_mean():
    data = synthetic_aggregate_input()
    data.loc[(data["indicator_id"] == "pop_total") & (data["iso3"] == "QAB"), "value"] = 0.0
    out = api.compute_aggregates(data, synthetic_countries(), min_coverage=0.25, groups=("ASEAN",), on="2026-01-01")
    r = agg_row(out, "ASEAN", 2010)
    assert r["n_weighted"] == 1 and r["weighted_mean"] == 10.0 and r["median"] == 20.0


def test_projection_flag_and_min_coverage_validation():
    data = pd.concat([synthetic_aggregate_input(), long_frame([("QAA", "x", 2030, 1.0)], projection=True)])
    out = api.compute_aggregates(data, synthetic_countries(), min_coverage=0.0, groups=("ASEAN",), on="2026-01-01")
    assert agg_row(out, "ASEAN", 2030)["projection"] and not agg_row(out, "ASEAN", 2010)["projection"]
    with pytest.raises(ValueError, match="min_coverage"):
        api.compute_aggregates(data, synthetic_countries(), min_coverage=1.5, groups=("ASEAN",))


def test_aggregates_long_layout():
    wide = api.compute_aggregates(synthetic_aggregate_input(), synthetic_countries(), groups=("ASEAN",),
                                  on="2026-01-01")
    long = api.aggregates_long(wide, "both")
    assert len(long) == 2 * len(wide)
    w = long.loc[(long["stat"] == "weighted_mean") & (long["year"] == 2010) & (long["indicator_id"] == "x")].iloc[0]
    assert w["value"] == pytest.approx(17.5) and w["n"] == 2 and w["coverage"] == "2 of 4"
    with pytest.raises(ValueError, match="stat must be"):
        api.aggregates_long(wide, "mean")


# ---------------------------------------------------------------- compute_latest


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
    out = api.compute_latest(data, window=10)
    # ref_year = 2012 (latest estimate of y; projections ignored); window 2003..2012
    a, b = latest_row(out, "QAA"), latest_row(out, "QAB")
    assert (a["year"], a["value"], a["ref_year"]) == (2012, 3.0, 2012) and not a["projection"]
    assert (b["year"], b["value"]) == (2003, 4.0)  # the first year of the window is inside
    narrower = api.compute_latest(data, window=9)  # 2004..2012: QAB's 2003 falls out
    nb = latest_row(narrower, "QAB")
    assert pd.isna(nb["year"]) and np.isnan(nb["value"]) and nb["unit"] == "%"


def test_latest_gaps_are_rows_not_dropped():
    out = api.compute_latest(synthetic_latest_input(), window=10, iso3=["QAA", "QAC", "QAD"])
    assert set(out["iso3"]) == {"QAA", "QAC", "QAD"}
    assert len(out) == 3 * 2  # every country x every indicator of the frame
    gaps = out.loc[out["value"].isna()]
    assert set(zip(gaps["iso3"], gaps["indicator_id"])) == {("QAC", "y"), ("QAD", "y"), ("QAA", "other"),
                                                               ("QAC", "other"), ("QAD", "other")}
    assert gaps["year"].isna().all()
    assert out["year"].dtype == "Int16" and out["projection"].dtype == "boolean"


def test_latest_explicit_ref_year_and_projections():
    data = synthetic_latest_input()
    r = latest_row(api.compute_latest(data, window=10, ref_year=2010), "QAA")
    assert (r["year"], r["value"]) == (2005, 2.0)
    no_proj = latest_row(api.compute_latest(data, window=5, ref_year=2025), "QAA")
    assert np.isnan(no_proj["value"])  # 2021..2025 has projections only
    with_proj = latest_row(api.compute_latest(data, window=5, ref_year=2025, include_projections=True), "QAA")
    assert (with_proj["year"], with_proj["value"]) == (2025, 104.0) and with_proj["projection"]


def test_latest_ref_year_is_per_indicator():
    out = api.compute_latest(synthetic_latest_input(), window=1)
    assert latest_row(out, "QZZ", "other")["ref_year"] == 2018 and latest_row(out, "QAA", "y")["ref_year"] == 2012


def test_latest_window_must_be_positive():
    with pytest.raises(ValueError, match="window"):
        api.compute_latest(synthetic_latest_input(), window=0)


# ---------------------------------------------------------------- the API on a synthetic store


@pytest.fixture(scope="module")
def sdir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("synthetic_api_store")
    write_synthetic_store(directory)
    return directory


def test_load_group_names_and_projections(sdir):
    focus = api.members("FOCUS")
    got = api.load("proj_synth", countries="FOCUS", processed_dir=sdir)
    assert sorted(got["iso3"].unique()) == focus
    assert list(got.columns) == ["iso3", "name", "year", "indicator_id", "value", "unit", "source_id", "vintage",
                                 "projection"]
    names = store.read_table("countries", sdir).set_index("iso3")["name"]
    assert (got["name"] == got["iso3"].map(names)).all()
    assert got["projection"].any()
    est = api.load("proj_synth", countries="FOCUS", include_projections=False, processed_dir=sdir)
    assert not est["projection"].any() and len(est) == (got["year"] <= 2020).sum()


def test_load_mixed_codes_and_groups_and_years(sdir):
    got = api.load(["pop_total"], countries=["QQA", "PLUS_THREE"], years=(2010, 2011), names=False,
                   processed_dir=sdir)
    assert sorted(got["iso3"].unique()) == sorted(["QQA"] + api.members("PLUS_THREE"))
    assert set(got["year"]) == {2010, 2011} and "name" not in got.columns


def test_load_world_bank_group(sdir):
    got = api.load("pop_total", countries="region:Synthetic West", years=2010, processed_dir=sdir)
    assert sorted(got["iso3"]) == ["QQA", "QQB"]


def test_unknown_indicator_or_country_is_an_error_not_a_gap(sdir):
    with pytest.raises(ValueError, match="not in the store: nope"):
        api.load("nope", processed_dir=sdir)
    with pytest.raises(ValueError, match="unknown country code"):
        api.load("pop_total", countries=["IDN", "XXX"], processed_dir=sdir)


def test_panel_shows_gaps(sdir):
    wide = api.panel(["share_synth", "pop_total"], countries="FOCUS", years=(2015, 2020), processed_dir=sdir)
    assert list(wide.columns) == ["share_synth", "pop_total"]
    assert wide.index.names == ["iso3", "year"] and len(wide) == 14 * 6
    # The synthetic store gives the first economy (iso3 order) no share_synth at all and the last
    # none after 2005: both stay in the panel as NaN rows.
    all_iso = sorted(store.read_table("countries", sdir)["iso3"])
    for gap in (all_iso[0], all_iso[-1]):
        assert wide.loc[gap, "share_synth"].isna().all() and wide.loc[gap, "pop_total"].notna().all()
    data = store.read_indicators("share_synth", processed_dir=sdir)
    for iso in api.members("FOCUS"):
        has = data.loc[(data["iso3"] == iso) & data["year"].between(2015, 2020)]
        assert wide.loc[iso, "share_synth"].notna().sum() == len(has)


def test_latest_api_matches_the_stored_table(sdir):
    stored = store.read_table("latest", sdir)
    got = api.latest(countries="FOCUS", processed_dir=sdir)
    focus = set(api.members("FOCUS"))
    expected = stored.loc[stored["iso3"].isin(focus)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got.drop(columns="name").reset_index(drop=True), expected)
    assert got["value"].isna().any()  # the synthetic gaps are shown


def test_aggregate_api_matches_the_stored_table(sdir):
    stored = api.aggregates_long(store.read_table("aggregates", sdir), "both")
    got = api.aggregate(["share_synth", "proj_synth"], group="ASEAN", stat="both", processed_dir=sdir)
    expected = stored.loc[(stored["group"] == "ASEAN") & stored["indicator_id"].isin(["share_synth", "proj_synth"])]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))


def test_aggregate_api_years_and_single_stat(sdir):
    got = api.aggregate("share_synth", group="ASEAN+3", years=(2010, 2012), stat="weighted_mean", processed_dir=sdir)
    assert set(got["year"]) == {2010, 2011, 2012} and set(got["stat"]) == {"weighted_mean"}
    data = store.read_indicators(["share_synth", "pop_total"], api.members("ASEAN+3"), 2010, processed_dir=sdir)
    wide = data.pivot(index="iso3", columns="indicator_id", values="value").dropna()
    expected = (wide["share_synth"] * wide["pop_total"]).sum() / wide["pop_total"].sum()
    assert got.loc[got["year"] == 2010, "value"].iloc[0] == pytest.approx(expected)


def test_countries_and_names(sdir):
    table = api.countries(processed_dir=sdir)
    assert table["iso3"].is_unique
    asean = api.countries("ASEAN", on="2025-10-25", processed_dir=sdir)
    assert sorted(asean["iso3"]) == api.members("ASEAN", on="2025-10-25")
    names = api.country_names(["QQA"], processed_dir=sdir)
    assert names == {"QQA": "Synthetic Land A"}


def test_sources_lists_the_registry_datasets():
    from analysis.config.registry import load_registry

    got = api.sources()
    reg = load_registry()
    assert list(got["id"]) == list(reg.datasets)
    assert (got["files"] == [len(reg.files_of(i)) for i in got["id"]]).all()


def test_catalogue_is_the_catalogue_frame():
    catalogue = pytest.importorskip("analysis.indicators")
    pd.testing.assert_frame_equal(api.catalogue(), catalogue.load_catalogue().to_frame())


def test_project_root_environment_is_honoured(tmp_path, monkeypatch):
    write_synthetic_store(tmp_path / "data" / "processed")
    monkeypatch.setenv("ANALYSIS_PROJECT_ROOT", str(tmp_path))
    got = api.load("pop_total", countries="QQB", years=2000)
    assert got["value"].tolist() == [store.read_indicators("pop_total", "QQB", 2000,
                                                           processed_dir=tmp_path / "data" / "processed")["value"].iloc[0]]


def test_package_reexports_the_public_api():
    assert analysis.load is api.load and analysis.latest is api.latest and analysis.aggregate is api.aggregate
    assert analysis.members("PLUS_THREE") == api.members("PLUS_THREE")
    assert {"load", "panel", "latest", "aggregate", "catalogue", "sources", "countries", "members"} <= set(dir(analysis))
    with pytest.raises(AttributeError):
        analysis.not_a_function  # noqa: B018


def test_package_level_catalogue_stays_callable_after_importing_the_catalogue_module():
    # The API function analysis.catalogue must not be shadowed by a submodule of the same name.
    import importlib

    import analysis

    importlib.import_module("analysis.indicators")
    first = analysis.catalogue()
    second = analysis.catalogue()
    pd.testing.assert_frame_equal(first, second)
    assert callable(analysis.catalogue)


def test_catalogue_gaps_lists_every_recorded_gap():
    from analysis.config.catalogue import load_catalogue

    gaps = api.catalogue_gaps()
    expected = load_catalogue().gaps
    assert len(gaps) == len(expected) > 0
    assert list(gaps.columns) == ["group", "domain", "reason"]
    assert set(zip(gaps["group"], gaps["domain"])) == {(g.group, g.domain) for g in expected}
