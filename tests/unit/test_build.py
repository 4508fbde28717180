"""The build on a SYNTHETIC project: selection, derivation, projection flags, ISO3 mapping, the declared
layout of every table, source aggregates kept apart, determinism, skip. The last tests read the REAL store
in data/processed (integration) and compare it with the raw files read here."""

from __future__ import annotations

import csv
import json
import tomllib

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.config import tables
from analysis.config.registry import load_registry
from analysis.core import paths
from analysis.core.errors import InputError
from analysis.pipeline.build import build_store
from analysis.store import reader
from conftest import WPP_AGES, synthetic_ilostat


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
    declared = tables.table("indicators")
    assert list(store.columns) == declared.names()
    assert str(store["year"].dtype) == "int16" and str(store["value"].dtype) == "float64"
    assert str(store["projection"].dtype) == "bool" and str(store["current"].dtype) == "bool"
    strings = ("iso3", "indicator_id", "unit", "source_id", "vintage")
    assert all(str(store[c].dtype) in ("str", "string") for c in strings)
    ordered = store.sort_values(list(declared.sort_by)).reset_index(drop=True)
    pd.testing.assert_frame_equal(store, ordered)
    assert not store.duplicated(list(declared.primary_key)).any()
    # One vintage per indicator for now: every row is current; no bounds or flags yet.
    assert store["current"].all() and store.groupby("indicator_id")["vintage"].nunique().max() == 1
    assert store[["lower", "upper", "flag", "flag_reason"]].isna().all().all()


def test_every_table_is_written_in_its_declared_arrow_schema(built):
    project, _, _ = built
    for name, declared in tables.TABLES.items():
        schema = pq.read_schema(project.processed_dir / f"{name}.parquet")
        assert schema.equals(declared.arrow_schema()), name
        assert schema.metadata is None  # no pandas metadata: the bytes depend on the data only
    for name in reader.TABLES:
        assert reader.read_table(name).dtypes.astype(str).to_dict() == tables.table(name).dtypes(), name


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


def test_source_aggregates_kept_apart_and_counted(built):
    project, report, store = built
    assert set(store["iso3"]) == {"AAA", "BBB", "CCC", "DDD"}
    kept = {("WLD", "iso3"), ("x01", "ilo"), ("1", "m49"), ("9", "m49"), ("OWID_WRL", "iso3"),
            ("Africa (WHO)", "iso3"), ("Low income", "iso3")}
    assert set(zip(report.unmapped["geo"], report.unmapped["geo_scheme"])) == kept
    assert report.unmapped_codes == 7
    assert "source aggregates kept apart (source_aggregates): 7 codes" in report.summary()
    aggregates = reader.read_source_aggregates()
    assert set(zip(aggregates["geo"], aggregates["geo_scheme"])) == kept
    assert len(aggregates) == report.unmapped_rows
    # The synthetic ILO aggregate x01, selected like the indicator (sex_t pensions), with its metadata.
    x01 = aggregates.loc[aggregates["geo"] == "x01"].iloc[0]
    assert (x01["indicator_id"], int(x01["year"]), x01["value"]) == ("sp_cov_pension", 2020, 77.7)
    assert (x01["source_id"], x01["vintage"], x01["unit"]) == ("ilostat", "2025-06-02",
                                                               "% of population above retirement age")
    # M49 regions of the SDG file: bothsex only, as the indicator selects.
    m49 = aggregates.loc[aggregates["geo_scheme"] == "m49"]
    assert dict(zip(m49["geo"], m49["value"])) == {"1": 60.0, "9": 50.0}
    assert set(m49["indicator_id"]) == {"sp_cov_pension_sdg2020"}
    assert aggregates["current"].all()


def test_summary_and_manifest(built):
    project, report, _ = built
    text = report.summary()
    assert "indicators: 15" in text and "economies:  4" in text and "files read: 17" in text
    assert str(project.root) not in text
    manifest_text = (project.processed_dir / "manifest.json").read_text()
    assert str(project.root) not in manifest_text
    manifest = json.loads(manifest_text)
    assert manifest["inputs"]["wdi/sp.pop.totl"]["sha256"] == project.files["wdi/sp.pop.totl"]["sha256"]
    assert set(manifest["outputs"]) == set(tables.TABLES)
    assert manifest["outputs"]["indicators"]["rows"] == report.rows
    assert {"catalogue_sha256", "code", "references"} <= set(manifest)
    assert manifest["tables"] == {"version": tables.TABLES_VERSION, "sha256": tables.declaration_sha256()}


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
    assert names == sorted([f"{name}.parquet" for name in tables.TABLES] + ["manifest.json"])
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


def test_a_changed_table_declaration_rebuilds(synthetic_project, monkeypatch):
    assert not build_store(progress=False).skipped
    assert build_store(progress=False).skipped
    monkeypatch.setattr(tables, "TABLES_VERSION", tables.TABLES_VERSION + 1)
    assert not build_store(progress=False).skipped


# ---------------------------------------------------------------- the real store (integration)


def raw_csv(file_id: str) -> list[dict[str, str]]:
    """Rows of a pinned raw file, read with the csv module (not the package's parsers)."""
    with open(load_registry().file(file_id).raw_path(), encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def sdg_131_indicators() -> dict[str, dict]:
    """Catalogue entries (as written in data/indicators.toml) that select from ILOSTAT's SDG 1.3.1 file."""
    doc = tomllib.loads(paths.catalogue_file().read_text(encoding="utf-8"))
    return {e["id"]: e for e in doc["indicator"] if e.get("code") == "sdg_0131_sex_soc_rt"}


@pytest.mark.integration
def test_real_store_keeps_ilo_asean_aggregate_x84_for_sdg_131():
    entries = sdg_131_indicators()
    assert entries, "the catalogue selects no SDG 1.3.1 series from ILOSTAT"
    aggregates = reader.read_source_aggregates(list(entries))
    compared = 0
    for indicator, entry in entries.items():
        raw = [r for r in raw_csv(entry["file"])
               if r["ref_area"] == "x84" and all(r[dim] == want for dim, want in entry.get("select", {}).items())
               and r[entry["code"]] != ""]
        expected = {int(r["time"]): float(r[entry["code"]]) for r in raw}
        got = aggregates.loc[(aggregates["indicator_id"] == indicator) & (aggregates["geo"] == "x84")]
        assert set(got["geo_scheme"]) <= {"ilo"} and set(got["source_id"]) <= {entry["source"]}
        assert dict(zip(got["year"].astype(int), got["value"])) == pytest.approx(expected), indicator
        compared += len(expected)
    assert compared > 0, "no x84 rows in the raw file for the selected series"


@pytest.mark.integration
def test_real_store_indicators_hold_economies_only():
    countries = set(reader.read_table("countries")["iso3"])
    indicators = reader.read_indicators(columns=["iso3"], vintage="all")
    assert set(indicators["iso3"]) <= countries
    aggregates = reader.read_source_aggregates(vintage="all")
    codes = set(aggregates.loc[aggregates["geo_scheme"] != "m49", "geo"].str.upper())
    assert codes and not codes & set(indicators["iso3"])


def test_two_source_codes_of_one_economy_are_an_input_error(synthetic_project):
    lines = synthetic_ilostat().splitlines()
    # The same economy twice: ILO's lower-case code and an upper-case spelling that also maps to AAA.
    text = "\n".join([*lines, "AAA,sex_t,soc_contig_pension,2020,34.4"])
    synthetic_project.write_raw("ilostat/sdg_0131_sex_soc_rt", text)
    with pytest.raises(InputError) as info:
        build_store(progress=False)
    err = info.value
    assert err.rule == "unique key" and err.row == len(lines) + 1
    assert "indicator sp_cov_pension: two source codes map to AAA for 2020" in err.problem
    assert err.file.endswith("ddf--datapoints--sdg_0131_sex_soc_rt--by--ref_area--sex--classif1--time.csv")


def test_chunked_steps_build_the_same_store_as_one_chunk(synthetic_project, tmp_path, monkeypatch):
    """Validation, latest values and aggregates run chunk by chunk of whole indicators (bounded memory);
    chunks of a few rows must give byte-identical tables to a single chunk."""
    from analysis.pipeline import build as build_module

    one = tmp_path / "one"
    build_store(force=True, progress=False, processed_dir=one)
    monkeypatch.setattr(build_module, "CHUNK_ROWS", 1)
    many = tmp_path / "many"
    build_store(force=True, progress=False, processed_dir=many)
    for name in tables.TABLES:
        assert (many / f"{name}.parquet").read_bytes() == (one / f"{name}.parquet").read_bytes(), name


def test_chunks_join_whole_runs_up_to_the_limit():
    from analysis.pipeline.build import _chunks

    codes = pd.Series([0, 0, 0, 1, 1, 2, 3, 3, 3, 3]).to_numpy()
    assert _chunks(codes, limit=5) == [(0, 5), (5, 10)]
    assert _chunks(codes, limit=4) == [(0, 3), (3, 6), (6, 10)]
    assert _chunks(codes, limit=1) == [(0, 3), (3, 5), (5, 6), (6, 10)]
    assert _chunks(codes[:0], limit=5) == []


@pytest.mark.parametrize("limit", [1, 4, 5, 20])
def test_block_chunks_are_the_chunks_of_the_concatenated_blocks(limit):
    import numpy as np

    from analysis.pipeline.build import _block_chunks, _chunks

    sizes = [3, 0, 2, 1, 0, 4]
    blocks = [pd.DataFrame({"ind": np.full(n, i, dtype=np.int32), "value": np.arange(n, dtype=float)})
              for i, n in enumerate(sizes)]
    rows = pd.concat(blocks, ignore_index=True)
    expected = [rows.iloc[lo:hi].reset_index(drop=True) for lo, hi in _chunks(rows["ind"].to_numpy(), limit=limit)]
    chunks = list(_block_chunks(blocks, limit=limit))
    assert len(chunks) == len(expected)
    for got, want in zip(chunks, expected):
        pd.testing.assert_frame_equal(got, want)
    # every non-empty block was handed over (and dropped from the list)
    assert all(b is None for b, n in zip(blocks, sizes) if n)


def test_block_chunks_of_no_rows_is_one_empty_chunk():
    from analysis.pipeline.build import _block_chunks

    blocks = [pd.DataFrame({"ind": pd.Series([], dtype="int32")})] * 2
    chunks = list(_block_chunks(blocks))
    assert len(chunks) == 1 and chunks[0].empty and list(chunks[0].columns) == ["ind"]
