"""The build on a SYNTHETIC project: selection, derivation, projection flags, ISO3 mapping, determinism, skip."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.pipeline.build import build_store
from conftest import WPP_AGES


@pytest.fixture
def built(synthetic_project):
    report = build_store(progress=False)
    store = pd.read_parquet(synthetic_project.processed_dir / "indicators.parquet")
    return synthetic_project, report, store


def values(store: pd.DataFrame, indicator: str) -> dict[tuple[str, int], float]:
    part = store.loc[store["indicator_id"] == indicator]
    return {(i, int(y)): v for i, y, v in zip(part["iso3"], part["year"], part["value"])}


def test_store_layout_and_dtypes(built):
    project, report, store = built
    assert list(store.columns) == ["iso3", "year", "indicator_id", "value", "unit", "source_id", "vintage", "projection"]
    assert str(store["year"].dtype) == "int16" and str(store["value"].dtype) == "float64"
    assert str(store["projection"].dtype) == "bool"
    assert all(str(store[c].dtype) in ("str", "string") for c in ("iso3", "indicator_id", "unit", "source_id", "vintage"))
    ordered = store.sort_values(["indicator_id", "iso3", "year"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(store, ordered)
    assert not store.duplicated(["iso3", "indicator_id", "year"]).any()
    for name in ("countries", "latest", "aggregates"):
        assert (project.processed_dir / f"{name}.parquet").is_file()


def test_selection_by_code_and_dims(built):
    _, _, store = built
    # GHED: only out-of-pocket in percent (not the USD rows, not the government share).
    assert values(store, "oop_share_che") == {("AAA", 2000): 30.5, ("AAA", 2001): 31.5, ("BBB", 2000): 55.0,
                                              ("BBB", 2001): 56.0}
    # ILOSTAT: sex_t pension rows, lower-case ref_area mapped to ISO3; the sex_f maternity series separately.
    assert values(store, "sp_cov_pension") == {("AAA", 2020): 33.3, ("CCC", 2021): 95.5}
    assert values(store, "sp_cov_maternity") == {("AAA", 2020): 12.5}
    # SDG 2020: bothsex only, M49 901/903 mapped through the WPP country entities.
    assert values(store, "sp_cov_pension_sdg2020") == {("AAA", 2016): 20.5, ("CCC", 2016): 99.0}
    # World Bank wide file reshaped: only non-empty cells.
    assert values(store, "uhc_service_coverage") == {("AAA", 2000): 40.0, ("AAA", 2002): 45.0, ("CCC", 2001): 70.0}


def test_units_sources_and_vintages(built):
    _, _, store = built
    row = store.loc[store["indicator_id"] == "uhc_service_coverage"].iloc[0]
    assert (row["unit"], row["source_id"], row["vintage"]) == ("index (0-100)", "wb-api", "2025-01-28")
    row = store.loc[store["indicator_id"] == "hale_minus_65plus"].iloc[0]
    assert row["source_id"] == "hale+wdi"


def test_derived_ratio_difference_and_sum(built):
    _, _, store = built
    share65, share1564 = values(store, "pop_65plus_share"), values(store, "pop_15_64_share")
    ratio = values(store, "old_age_dependency_ratio")
    assert set(ratio) == set(share65) & set(share1564)
    for key, got in ratio.items():
        assert got == pytest.approx(share65[key] / share1564[key] * 100)
    hale = values(store, "hale_birth")
    diff = values(store, "hale_minus_65plus")
    assert set(diff) == set(hale) & set(share65)
    for key, got in diff.items():
        assert got == pytest.approx(hale[key] - share65[key])
    # WPP: sum of the 65+ age groups of the synthetic file, over the total.
    older = [age for age in WPP_AGES if age[0].isdigit() and int(age.split("_")[0].rstrip("plus")) >= 65]
    expected = sum((WPP_AGES.index(a) + 1) * 10 + 1 for a in older)  # year 2020 adds 1 per group
    assert values(store, "pop_65plus_wpp")[("AAA", 2020)] == expected
    share = values(store, "pop_65plus_share_wpp")[("AAA", 2020)]
    assert share == pytest.approx(expected / values(store, "pop_total_wpp")[("AAA", 2020)] * 100)


def test_projection_flags(built):
    _, _, store = built
    flags = {(r.indicator_id, r.iso3, int(r.year)): bool(r.projection) for r in store.itertuples()}
    assert flags[("pop_total_wpp", "AAA", 2020)] is False
    assert flags[("pop_total_wpp", "AAA", 2021)] is True
    assert flags[("pop_65plus_share_wpp", "AAA", 2050)] is True  # derived inherits the flag
    # 5-year periods: 2015-2019 is an estimate, 2020-2024 reaches into the projections.
    assert flags[("life_expectancy_60_wpp", "AAA", 2015)] is False
    assert flags[("life_expectancy_60_wpp", "AAA", 2020)] is True
    assert not store.loc[store["source_id"] == "wdi", "projection"].any()


def test_aggregates_dropped_and_counted(built):
    _, report, store = built
    assert set(store["iso3"]) == {"AAA", "BBB", "CCC", "DDD"}
    dropped = set(zip(report.unmapped["geo"], report.unmapped["geo_scheme"]))
    assert {("WLD", "iso3"), ("x01", "ilo"), ("1", "m49"), ("9", "m49"), ("OWID_WRL", "iso3"),
            ("Africa (WHO)", "iso3"), ("Low income", "iso3")} == dropped
    assert report.unmapped_codes == 7
    assert "7 codes" in report.summary()


def test_summary_and_manifest(built):
    project, report, _ = built
    text = report.summary()
    assert "indicators: 15" in text and "economies:  4" in text and "files read: 17" in text
    assert str(project.root) not in text
    manifest_text = (project.processed_dir / "manifest.json").read_text()
    assert str(project.root) not in manifest_text
    manifest = json.loads(manifest_text)
    assert manifest["inputs"]["wdi/sp.pop.totl"]["sha256"] == project.files["wdi/sp.pop.totl"]["sha256"]
    assert set(manifest["outputs"]) == {"indicators", "countries", "latest", "aggregates"}
    assert manifest["outputs"]["indicators"]["rows"] == report.rows
    assert {"catalogue_sha256", "code", "references"} <= set(manifest)


def test_row_groups_start_at_each_indicator(built):
    project, _, store = built
    meta = pq.ParquetFile(project.processed_dir / "indicators.parquet").metadata
    assert meta.num_row_groups == store["indicator_id"].nunique()
    col = meta.schema.names.index("indicator_id")
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(col).statistics
        assert stats.min == stats.max


def test_two_builds_are_byte_identical(synthetic_project, tmp_path):
    build_store(progress=False, processed_dir=tmp_path / "a")
    build_store(progress=False, processed_dir=tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["aggregates.parquet", "countries.parquet", "indicators.parquet", "latest.parquet", "manifest.json"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_skip_when_unchanged_then_rebuild_on_change(synthetic_project):
    first = build_store(progress=False)
    assert not first.skipped
    before = synthetic_project.snapshot()
    second = build_store(progress=False)
    assert second.skipped and "up to date" in second.summary()
    assert synthetic_project.snapshot() == before
    forced = build_store(force=True, progress=False)
    assert not forced.skipped and synthetic_project.snapshot() == before  # same inputs, same bytes
    # A catalogue edit (a new title) is an input change: rebuild.
    path = synthetic_project.root / "data" / "indicators.toml"
    path.write_text(path.read_text().replace('title = "HALE"', 'title = "HALE (edited)"'))
    assert not build_store(progress=False).skipped


def test_damaged_output_triggers_rebuild(synthetic_project):
    build_store(progress=False)
    (synthetic_project.processed_dir / "latest.parquet").write_bytes(b"broken")
    report = build_store(progress=False)
    assert not report.skipped
    assert pq.ParquetFile(synthetic_project.processed_dir / "latest.parquet").metadata.num_rows > 0


def test_latest_and_countries_tables(built):
    project, _, _ = built
    countries = pd.read_parquet(project.processed_dir / "countries.parquet")
    assert {"AAA", "BBB", "CCC", "DDD"} <= set(countries["iso3"])
    assert "WLD" not in set(countries["iso3"])
    latest = pd.read_parquet(project.processed_dir / "latest.parquet")
    row = latest.loc[(latest["iso3"] == "AAA") & (latest["indicator_id"] == "uhc_service_coverage")].iloc[0]
    assert (int(row["year"]), row["value"]) == (2002, 45.0)
