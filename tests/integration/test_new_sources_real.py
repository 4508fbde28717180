"""Issue 9 sources in the REAL store and mirror: expectations are recomputed from the raw files with the
``csv`` module (no value is typed here). Run after ``python -m analysis fetch`` and ``build``.
"""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import pytest

from analysis.config.registry import Registry, load_registry, sha256_file
from analysis.core import paths
from analysis.pipeline.fetch import fetch_all
from analysis.store import reader

pytestmark = pytest.mark.integration

NEW_DATASETS = ("gho2024", "ilostat-disability", "sdg2023")
WITH, WITHOUT = "dsb_status_dis", "dsb_status_nodis"


def catalogue_entries() -> list[dict]:
    return tomllib.loads(paths.catalogue_file().read_text(encoding="utf-8"))["indicator"]


def raw_rows(file_id: str) -> list[dict[str, str]]:
    path = load_registry().file(file_id).raw_path()
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_new_files_are_copied_from_the_mirror(tmp_path):
    registry = load_registry()
    new = Registry(datasets={k: v for k, v in registry.datasets.items() if k in NEW_DATASETS},
                   files=tuple(f for f in registry.files if f.dataset in NEW_DATASETS),
                   source_path=registry.source_path)
    assert {f.dataset for f in new.files} == set(NEW_DATASETS)
    report = fetch_all(progress=False, download=False, raw_dir=tmp_path / "raw", registry=new)
    assert sorted(report.copied) == sorted(f.id for f in new.files)
    for f in new.files:
        assert sha256_file(f.raw_path(tmp_path / "raw")) == f.sha256, f.id


def _by_status_and_sex() -> dict[str, list[str]]:
    """sex -> ids of the catalogue's ilostat-disability series selected by disability status and sex."""
    out: dict[str, list[str]] = {}
    for e in catalogue_entries():
        select = e.get("select", {})
        if e.get("source") == "ilostat-disability" and select.get("classif1") in (WITH, WITHOUT):
            out.setdefault(select["sex"], []).append(e["id"])
    return out


def test_store_flags_exactly_the_survey_rounds_with_more_persons_with_than_without_a_disability():
    by_sex = _by_status_and_sex()
    assert by_sex, "the catalogue selects no series by disability status"
    values: dict[tuple[str, str, int], dict[str, float]] = {}
    for r in raw_rows("ilostat-disability/pop_xwap_sex_dsb_nb"):
        values.setdefault((r["ref_area"].upper(), r["sex"], int(r["time"])), {})[r["classif1"]] = \
            float(r["pop_xwap_sex_dsb_nb"])
    suspect = {(iso3, sex, year) for (iso3, sex, year), v in values.items()
               if WITH in v and WITHOUT in v and v[WITH] > v[WITHOUT]}
    assert suspect, "no with > without rows in the raw file: this test would prove nothing"
    selected = sorted(i for ids in by_sex.values() for i in ids)
    stored = reader.read_indicators(selected, vintage="all")
    present = set(zip(stored["iso3"], stored["year"].astype(int), stored["indicator_id"]))
    expected = {(iso3, year, i) for iso3, sex, year in suspect for i in by_sex.get(sex, [])} & present
    flagged = stored.loc[stored["flag"] == "suspect"]
    assert set(zip(flagged["iso3"], flagged["year"].astype(int), flagged["indicator_id"])) == expected
    assert flagged["flag_reason"].str.contains("with > without").all()


def test_no_latest_value_or_aggregate_input_is_suspect():
    indicators = reader.read_indicators(vintage="all", columns=["iso3", "indicator_id", "year", "flag"])
    suspect = indicators.loc[indicators["flag"] == "suspect"]
    assert len(suspect), "the store holds no suspect row"
    keys = set(zip(suspect["iso3"], suspect["indicator_id"], suspect["year"].astype(int)))
    latest = reader.read_table("latest").dropna(subset=["year"])
    shown = set(zip(latest["iso3"], latest["indicator_id"], latest["year"].astype(int)))
    assert not keys & shown


def test_gho_bounds_match_low_and_high_of_the_raw_files():
    compared = 0
    for e in (e for e in catalogue_entries() if e.get("source") == "gho2024"):
        raw = {(r["SpatialDimensionValueCode"], int(r["TimeDim"])): (float(r["NumericValue"]), float(r["Low"]),
                                                                     float(r["High"]))
               for r in raw_rows(e["file"])
               if r["SpatialDimension"] == "COUNTRY" and r["DisaggregatingDimension1ValueCode"] == e["select"]["sex"]
               and r["NumericValue"] and r["Low"] and r["High"]}
        got = reader.read_indicators(e["id"], columns=["iso3", "year", "value", "lower", "upper"])
        assert len(got) and got["lower"].notna().any(), e["id"]
        for iso3, year, value, lower, upper in got.itertuples(index=False):
            if (iso3, int(year)) in raw:
                assert (value, lower, upper) == pytest.approx(raw[(iso3, int(year))]), (e["id"], iso3, year)
                compared += 1
    assert compared > 0


def test_at_least_fifteen_female_male_pairs_cover_six_focus_countries():
    """The issue's rule: at least 15 pairs of _female/_male ids with data for at least 6 of the focus countries."""
    countries = reader.read_table("countries")
    focus = set(countries.loc[countries["focus"], "iso3"])
    ids = {e["id"] for e in catalogue_entries()}
    pairs = sorted(i[: -len("_female")] for i in ids if i.endswith("_female") and f"{i[: -len('_female')]}_male" in ids)
    data = reader.read_indicators([f"{p}_{s}" for p in pairs for s in ("female", "male")],
                                  columns=["iso3", "indicator_id"])
    covered = []
    for p in pairs:
        female = set(data.loc[data["indicator_id"] == f"{p}_female", "iso3"]) & focus
        male = set(data.loc[data["indicator_id"] == f"{p}_male", "iso3"]) & focus
        if len(female & male) >= 6:
            covered.append(p)
    assert len(covered) >= 15, covered


def test_sdg2023_series_with_extra_dimensions_match_the_raw_files():
    """DDF files keyed by more dims (observation_status, location, grounds, ...) select one value per key."""
    countries = reader.read_table("countries").dropna(subset=["m49"])
    iso3_of = dict(zip(countries["m49"].astype(int), countries["iso3"]))
    entries = [e for e in catalogue_entries() if e.get("source") == "sdg2023"]
    assert entries
    for e in entries:
        select = e.get("select", {})
        expected = {(iso3_of[int(r["geo_area"])], int(r["year"])): float(r[e["code"]])
                    for r in raw_rows(e["file"])
                    if int(r["geo_area"]) in iso3_of and r[e["code"]] != ""
                    and all(r[k] == v for k, v in select.items())}
        got = reader.read_indicators(e["id"], columns=["iso3", "year", "value"])
        assert expected and len(got) == len(expected), e["id"]
        assert dict(zip(zip(got["iso3"], got["year"].astype(int)), got["value"])) == pytest.approx(expected), e["id"]
