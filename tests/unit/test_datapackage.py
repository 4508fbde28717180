"""The store download on a SYNTHETIC store (conftest's synthetic project, built here): every table as a
file, a Frictionless datapackage.json that the frictionless library validates, fields as the table
declarations say, values equal to the stored ones (read independently with pyarrow), same bytes twice."""

from __future__ import annotations

import gzip
import io
import json

import frictionless
import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.core import paths
from analysis.pipeline.build import build_store
from analysis.presentation import datapackage
from analysis.store import download
from conftest import make_synthetic_project


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = make_synthetic_project(tmp_path_factory.mktemp("dp") / "project")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(paths.ROOT_ENV, str(project.root))
        assert not build_store(progress=False).skipped
    return project


@pytest.fixture
def written(project, tmp_path, monkeypatch):
    monkeypatch.setenv(paths.ROOT_ENV, str(project.root))
    return datapackage.write_data_package(tmp_path / "reports", title="Synthetic", version="0.0.1")


def _descriptor(written) -> dict:
    return json.loads(written.descriptor.read_text(encoding="utf-8"))


def test_frictionless_validates_the_package(written):
    report = frictionless.validate(str(written.descriptor))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])[:10]


def test_every_stored_table_is_a_resource_with_its_declared_fields(written):
    desc = _descriptor(written)
    by_name = {r["name"]: r for r in desc["resources"]}
    declared = download.table_declarations()["tables"]
    for table in download.DOWNLOAD_TABLES:
        resource = by_name[table.replace("_", "-")]
        columns = declared[table]["columns"]
        assert [f["name"] for f in resource["schema"]["fields"]] == [c["name"] for c in columns]
        for field, column in zip(resource["schema"]["fields"], columns, strict=True):
            assert field["description"].startswith(column["description"])
            assert field.get("unit", "") == column["unit"]
        assert resource["schema"]["primaryKey"] == declared[table]["primary_key"]
    assert {"indicator-catalogue", "sources"} <= set(by_name)


def _read(path) -> pd.DataFrame:
    raw = path.read_bytes()
    text = gzip.decompress(raw) if path.suffix == ".gz" else raw
    return pd.read_csv(io.BytesIO(text), keep_default_na=False, na_values=[""])


def test_values_equal_the_stored_ones(project, written):
    stored = pq.read_table(project.processed_dir / "indicators.parquet").to_pandas()
    shipped = _read(written.descriptor.parent / "indicators.csv.gz")
    assert len(shipped) == len(stored) > 0
    key = ["iso3", "indicator_id", "year", "vintage"]
    merged = stored.merge(shipped, on=key, suffixes=("", "_csv"))
    assert len(merged) == len(stored)
    assert (merged["value"] - merged["value_csv"]).abs().max() < 1e-9


def test_licences_and_sources_per_resource_come_from_the_registry(written, project):
    desc = _descriptor(written)
    indicators = next(r for r in desc["resources"] if r["name"] == "indicators")
    stored = pq.read_table(project.processed_dir / "indicators.parquet", columns=["source_id"]).to_pandas()
    used = {part for s in stored["source_id"].unique() for part in s.split("+")}
    assert len(indicators["sources"]) == len(used) > 0
    # conftest's registry gives every synthetic dataset the licence "CC0"
    assert [lic["title"] for lic in indicators["licenses"]] == ["CC0"]


def test_same_store_same_bytes(project, written, tmp_path, monkeypatch):
    monkeypatch.setenv(paths.ROOT_ENV, str(project.root))
    again = datapackage.write_data_package(tmp_path / "again", title="Synthetic", version="0.0.1")
    for first, second in zip(written.files + (written.descriptor,), again.files + (again.descriptor,), strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
