"""Reading the store: filters, caching by mtime/size, StoreError, store_info. Synthetic store only.

``write_synthetic_store`` is also used by tests/test_api.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.core.errors import StoreError
from analysis.groups import build_countries, load_members
from analysis.store import reader as store

# Fake economies beside the 14 of the references file; their codes are not real countries.
SYNTHETIC_OTHERS = {"QQA": ("Synthetic Land A", 901), "QQB": ("Synthetic Land B", 902)}
SYNTHETIC_YEARS = range(2000, 2031)  # 2021..2030 are projections for the WPP-like indicator


def synthetic_countries() -> pd.DataFrame:
    """Countries table from synthetic WPP entities and WB metadata plus the references file."""
    members = load_members()
    focus = members.loc[:, ["iso3", "m49", "name"]].astype({"m49": "string"})
    wpp = pd.DataFrame({
        "country": list(focus["m49"]) + [str(m) for _, m in SYNTHETIC_OTHERS.values()],
        "name": list(focus["name"]) + [n for n, _ in SYNTHETIC_OTHERS.values()],
        "iso3": list(focus["iso3"]) + list(SYNTHETIC_OTHERS),
    })
    regions = ["Synthetic East"] * len(focus) + ["Synthetic West"] * len(SYNTHETIC_OTHERS)
    incomes = ["High income" if i % 2 else "Low income" for i in range(len(wpp))]
    wb = pd.DataFrame({
        "Country Code": list(wpp["iso3"]) + ["QQZ"],  # QQZ: a synthetic aggregate (empty Region)
        "Region": regions + [""],
        "IncomeGroup": incomes + [""],
        "TableName": list(wpp["name"]) + ["Synthetic aggregate"],
    })
    return build_countries(wpp, wb, members)


def synthetic_indicators(countries: pd.DataFrame) -> pd.DataFrame:
    """Deterministic synthetic values: share_synth (%), pop_total, proj_synth (projections after 2020).

    share_synth has deliberate gaps: the last economy in iso3 order has no values after 2005 and
    the first has none at all, so "latest" has something to show as missing.
    """
    iso = sorted(countries["iso3"].astype(str))
    frames = []
    for k, code in enumerate(iso):
        years = np.array([y for y in SYNTHETIC_YEARS if y <= 2020])
        share = pd.DataFrame({"iso3": code, "year": years, "indicator_id": "share_synth",
                              "value": (k + 1) + (years - 2000) * 0.5, "unit": "% of population",
                              "source_id": "synthetic", "vintage": "2026-01-01", "projection": False})
        if k == 0:
            share = share.iloc[0:0]
        if k == len(iso) - 1:
            share = share.loc[share["year"] <= 2005]
        pop = pd.DataFrame({"iso3": code, "year": years, "indicator_id": "pop_total",
                            "value": 1000.0 * (k + 1), "unit": "persons", "source_id": "synthetic",
                            "vintage": "2026-01-01", "projection": False})
        all_years = np.array(list(SYNTHETIC_YEARS))
        proj = pd.DataFrame({"iso3": code, "year": all_years, "indicator_id": "proj_synth",
                             "value": 10.0 + k + (all_years - 2000), "unit": "years",
                             "source_id": "synthetic-wpp", "vintage": "2019", "projection": all_years > 2020})
        frames += [share, pop, proj]
    data = pd.concat(frames, ignore_index=True)
    data = data.astype({"iso3": "string", "indicator_id": "string", "unit": "string", "source_id": "string",
                        "vintage": "string", "year": "int16", "value": "float64", "projection": bool})
    return data.sort_values(["indicator_id", "iso3", "year"]).reset_index(drop=True)


def write_synthetic_store(directory: Path, *, row_group_size: int = 200) -> dict[str, pd.DataFrame]:
    """Write a small synthetic store (all four tables and a manifest) into ``directory``.

    Small row groups so that filter push-down has row groups to skip. Returns the frames written.
    """
    from analysis.store.api import compute_aggregates, compute_latest

    def write(frame: pd.DataFrame, path: Path, **kw) -> None:
        # Like the build: no pandas metadata in the file, so reading must restore the dtypes itself.
        table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
        pq.write_table(table, path, **kw)

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    countries = synthetic_countries()
    indicators = synthetic_indicators(countries)
    latest = compute_latest(indicators, window=10, ref_year=None)
    aggregates = compute_aggregates(indicators, countries, min_coverage=0.5)
    write(indicators, directory / "indicators.parquet", row_group_size=row_group_size)
    write(countries, directory / "countries.parquet")
    write(latest, directory / "latest.parquet")
    write(aggregates, directory / "aggregates.parquet")
    manifest = {"catalogue_sha256": "0" * 64, "inputs": {"synthetic/a": "1" * 64, "synthetic/b": "2" * 64},
                "rows": {"indicators": len(indicators), "countries": len(countries)}}
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return {"indicators": indicators, "countries": countries, "latest": latest, "aggregates": aggregates}


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory) -> tuple[Path, dict[str, pd.DataFrame]]:
    directory = tmp_path_factory.mktemp("synthetic_store")
    return directory, write_synthetic_store(directory)


def test_read_all_matches_what_was_written(synthetic_store):
    directory, written = synthetic_store
    got = store.read_indicators(processed_dir=directory)
    pd.testing.assert_frame_equal(got, written["indicators"])
    assert got["iso3"].dtype == "string" and got["year"].dtype == "int16" and got["projection"].dtype == bool


def test_filters_select_exactly_the_requested_cells(synthetic_store):
    directory, written = synthetic_store
    data = written["indicators"]
    got = store.read_indicators(["share_synth", "pop_total"], ["IDN", "JPN"], (2003, 2006), processed_dir=directory)
    expected = data.loc[data["indicator_id"].isin(["share_synth", "pop_total"]) & data["iso3"].isin(["IDN", "JPN"])
                        & data["year"].between(2003, 2006)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    assert len(got) == 2 * 2 * 4


def test_year_forms_int_list_and_open_ended_tuple(synthetic_store):
    directory, _ = synthetic_store
    one = store.read_indicators("pop_total", "KOR", 2010, processed_dir=directory)
    assert one["year"].tolist() == [2010]
    listed = store.read_indicators("pop_total", "KOR", [2001, 2019], processed_dir=directory)
    assert listed["year"].tolist() == [2001, 2019]
    open_end = store.read_indicators("proj_synth", "KOR", (2028, None), processed_dir=directory)
    assert open_end["year"].tolist() == [2028, 2029, 2030]


def test_columns_subset_and_unknown_column(synthetic_store):
    directory, _ = synthetic_store
    got = store.read_indicators("pop_total", columns=["iso3", "value"], processed_dir=directory)
    assert list(got.columns) == ["iso3", "value"]
    with pytest.raises(KeyError, match="no column"):
        store.read_indicators(columns=["nope"], processed_dir=directory)


def test_no_match_gives_empty_frame_with_store_columns(synthetic_store):
    directory, written = synthetic_store
    got = store.read_indicators("share_synth", ["QQA"], (1950, 1960), processed_dir=directory)
    assert got.empty and list(got.columns) == list(written["indicators"].columns)


def test_cache_picks_up_a_rebuilt_file(tmp_path):
    write_synthetic_store(tmp_path)
    before = store.read_indicators("pop_total", "IDN", 2010, processed_dir=tmp_path)
    path = tmp_path / "indicators.parquet"
    changed = pd.read_parquet(path).assign(value=lambda d: d["value"] + 1)
    changed.to_parquet(path, index=False)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # force a new mtime
    after = store.read_indicators("pop_total", "IDN", 2010, processed_dir=tmp_path)
    assert after["value"].iloc[0] == before["value"].iloc[0] + 1


@pytest.mark.parametrize("name", ["countries", "latest", "aggregates"])
def test_small_tables_come_back_with_their_dtypes(synthetic_store, name):
    directory, written = synthetic_store
    pd.testing.assert_frame_equal(store.read_table(name, processed_dir=directory), written[name])


def test_stored_dtypes_agree_with_the_schemas():
    from analysis.pipeline.schema import SCHEMAS

    for name, dtypes in store.DTYPES.items():
        for column, dtype in dtypes.items():
            if column in SCHEMAS[name].columns:
                assert str(SCHEMAS[name].columns[column].dtype) == dtype, (name, column)


def test_read_table_returns_a_copy_safe_to_modify(synthetic_store):
    directory, written = synthetic_store
    table = store.read_table("countries", processed_dir=directory)
    pd.testing.assert_frame_equal(table, written["countries"])
    table.loc[:, "name"] = "changed"
    assert (store.read_table("countries", processed_dir=directory)["name"] != "changed").all()


def test_indicator_ids(synthetic_store):
    directory, _ = synthetic_store
    assert store.indicator_ids(directory) == {"share_synth", "pop_total", "proj_synth"}


def test_missing_store_raises_store_error_with_the_build_hint(tmp_path):
    with pytest.raises(StoreError, match=r"python -m analysis build"):
        store.read_indicators(processed_dir=tmp_path)
    with pytest.raises(StoreError, match=r"countries\.parquet not found"):
        store.read_table("countries", processed_dir=tmp_path)


def test_unknown_table_name(tmp_path):
    with pytest.raises(ValueError, match="unknown store table"):
        store.read_table("indicatorz", processed_dir=tmp_path)


def test_store_info_describes_the_store_without_machine_paths(synthetic_store):
    directory, written = synthetic_store
    data = written["indicators"]
    text = store.store_info(processed_dir=directory)
    assert f"{len(data):,} rows" in text
    assert f"{data['indicator_id'].nunique()} indicators x {data['iso3'].nunique()} economies" in text
    assert "synthetic-wpp" in text and "Coverage of the 14 focus countries" in text
    assert "    synthetic/a: 111111111111..." in text and "    indicators: 1132" in text
    assert str(directory) not in text and str(Path.home()) not in text


def test_store_info_focus_coverage_counts(tmp_path):
    """Only share_synth is short of data since 2015 (first and last economies); count the cells."""
    written = write_synthetic_store(tmp_path)
    data = written["indicators"]
    focus = set(written["countries"].loc[written["countries"]["focus"], "iso3"])
    recent = data.loc[(data["year"] >= 2015) & ~data["projection"] & data["iso3"].isin(focus)]
    cells = recent.drop_duplicates(["indicator_id", "iso3"]).shape[0]
    text = store.store_info(processed_dir=tmp_path)
    total_line = next(line for line in text.splitlines() if "all indicators" in line)
    assert total_line.split()[-5:-2] == [str(cells), "of", str(3 * len(focus))]
    assert cells < 3 * len(focus)  # the synthetic gaps are seen
