"""The full store built from the REAL raw files into a tmp dir, checked against the raw files read here.

Expected values are never typed in: each is read from the raw CSV with the csv module in the test and
compared with the store (or recomputed, for derived indicators); which rows to compare (select,
projection years, periods) is read from data/indicators.toml. Needs the pinned files in data/raw
(fetched from the mirror first when incomplete; a missing mirror is an error, not a skip).
"""

from __future__ import annotations

import csv
import math
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from analysis.config.catalogue import load_catalogue
from analysis.config.references import load_members
from analysis.config.registry import load_registry
from analysis.core import paths
from analysis.pipeline.build import build_store
from analysis.pipeline.fetch import fetch_all

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def store(tmp_path_factory, registry):
    raw = paths.raw_dir()
    if not all(f.raw_path(raw).is_file() for f in registry.files):
        fetch_all(download=False, progress=False)  # from the mirror; FetchError says what is missing
    out = tmp_path_factory.mktemp("processed")
    report = build_store(force=True, progress=False, processed_dir=out)
    frame = pd.read_parquet(out / "indicators.parquet")
    return report, frame, out


def raw_rows(registry, file_id: str, skip: int = 0) -> list[dict[str, str]]:
    path = registry.file(file_id).raw_path()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for _ in range(skip):
            next(fh)
        return list(csv.DictReader(fh))


def toml_entry(indicator: str) -> dict:
    """The catalogue entry as written in data/indicators.toml (read here, not through the package)."""
    doc = tomllib.loads(paths.catalogue_file().read_text(encoding="utf-8"))
    return next(e for e in doc["indicator"] if e["id"] == indicator)


def stored(frame: pd.DataFrame, indicator: str, iso3: str, year: int) -> pd.Series:
    hit = frame.loc[(frame["indicator_id"] == indicator) & (frame["iso3"] == iso3) & (frame["year"] == year)]
    assert len(hit) == 1, (indicator, iso3, year)
    return hit.iloc[0]


def test_counts_and_focus_countries(store, registry):
    report, frame, out = store
    catalogue = load_catalogue()
    assert report.indicators == len(catalogue) == frame["indicator_id"].nunique()
    assert report.rows == len(frame) > 100_000
    assert report.economies >= 200
    assert report.rows == len(frame) and report.economies == frame["iso3"].nunique()
    countries = pd.read_parquet(out / "countries.parquet")
    focus = set(countries.loc[countries["focus"], "iso3"])
    assert focus == set(load_members()["iso3"]) and focus <= set(frame["iso3"])
    assert not frame.duplicated(["iso3", "indicator_id", "year"]).any()
    # WDI aggregates (e.g. World) are not economies; every economy with a population value is one
    wdi = raw_rows(registry, "wdi/sp.pop.totl")
    wdi_codes = {r["Country Code"] for r in wdi}
    meta = raw_rows(registry, "wb-api/SP.POP.DPND/metadata-country")
    aggregates = {r["Country Code"] for r in meta if not r["Region"]}
    economies = {r["Country Code"] for r in meta if r["Region"]}
    assert aggregates & wdi_codes and not (aggregates & set(frame["iso3"]))
    with_values = {r["Country Code"] for r in wdi if r["Value"]} & economies
    assert with_values and with_values <= set(frame.loc[frame["indicator_id"] == "pop_total", "iso3"])


def test_wdi_share_65plus(store, registry):
    _, frame, _ = store
    rows = [r for r in raw_rows(registry, "wdi/sp.pop.65up.to.zs") if r["Country Code"] == "JPN" and r["Value"]]
    last = max(rows, key=lambda r: int(r["Year"]))
    assert stored(frame, "pop_65plus_share", "JPN", int(last["Year"]))["value"] == float(last["Value"])


def test_worldbank_api_uhc(store, registry):
    _, frame, _ = store
    rows = raw_rows(registry, "wb-api/SH.UHC.SRVS.CV.XD", skip=4)
    tha = next(r for r in rows if r["Country Code"] == "THA")
    year = max(int(y) for y, v in tha.items() if y and y.isdigit() and v)
    assert stored(frame, "uhc_service_coverage", "THA", year)["value"] == float(tha[str(year)])


def test_ghed_oop_share(store, registry):
    _, frame, _ = store
    entry = toml_entry("oop_share_che")
    rows = [r for r in raw_rows(registry, entry["file"])
            if r["iso3_code"] == "VNM" and r["value"] and all(r[d] == v for d, v in entry["select"].items())]
    row = max(rows, key=lambda r: int(r["year"]))
    assert stored(frame, "oop_share_che", "VNM", int(row["year"]))["value"] == float(row["value"])


@pytest.mark.parametrize("indicator", ["sp_cov_pension", "sp_cov_maternity"])
def test_ilostat_lower_case_codes_follow_the_catalogue_select(store, registry, indicator):
    _, frame, _ = store
    entry = toml_entry(indicator)
    rows = [r for r in raw_rows(registry, entry["file"]) if all(r[d] == v for d, v in entry["select"].items())]
    focus = {r["ref_area"]: r["ref_area"].upper() for r in rows if r["ref_area"].upper() in set(load_members()["iso3"])}
    assert focus, f"no focus country in the raw rows selected for {indicator}"
    for code, iso3 in focus.items():
        row = max((r for r in rows if r["ref_area"] == code), key=lambda r: int(r["time"]))
        got = stored(frame, indicator, iso3, int(row["time"]))
        assert got["value"] == float(row[entry["code"]]) and got["source_id"] == entry["source"]


def test_sdg2020_via_m49(store, registry):
    _, frame, _ = store
    m49 = {r["iso3"]: r["country"] for r in raw_rows(registry, "wpp2019/entities-country")}
    entry = toml_entry("sp_cov_pension_sdg2020")
    rows = [r for r in raw_rows(registry, entry["file"])
            if r["geo_area"] == m49["THA"] and all(r[d] == v for d, v in entry["select"].items())]
    assert rows
    row = rows[-1]
    assert stored(frame, "sp_cov_pension_sdg2020", "THA", int(row["year"]))["value"] == float(row["si_cov_pensn"])


def test_wpp_projection_flag_from_the_catalogue(store, registry):
    _, frame, _ = store
    m49 = {r["iso3"]: r["country"] for r in raw_rows(registry, "wpp2019/entities-country")}
    entry = toml_entry("old_age_dependency_ratio_wpp")
    first_projected = entry["projection_from"]
    rows = {int(r["time"]): float(r[entry["code"]]) for r in raw_rows(registry, entry["file"])
            if r["country"] == m49["KOR"]}
    last = max(rows)
    assert last >= first_projected > min(rows)
    got = stored(frame, "old_age_dependency_ratio_wpp", "KOR", last)
    assert got["value"] == rows[last] and bool(got["projection"])
    assert bool(stored(frame, "old_age_dependency_ratio_wpp", "KOR", first_projected)["projection"])
    assert not bool(stored(frame, "old_age_dependency_ratio_wpp", "KOR", first_projected - 1)["projection"])


def test_wpp_65plus_share_recomputed_from_age_groups(store, registry):
    _, frame, _ = store
    m49 = {r["iso3"]: r["country"] for r in raw_rows(registry, "wpp2019/entities-country")}
    ages = raw_rows(registry, f"wpp2019/population--by--country-{m49['JPN']}--time--age5yearinterval")
    year = max(r["time"] for r in ages)
    older = sum(float(r["population"]) for r in ages if r["time"] == year
                and (r["age5yearinterval"] == "100plus" or int(r["age5yearinterval"].split("_")[0]) >= 65))
    totals = raw_rows(registry, f"wpp2019/population--by--country-{m49['JPN']}--time")
    total = next(float(r["population"]) for r in totals if r["time"] == year)
    got = stored(frame, "pop_65plus_share_wpp", "JPN", int(year))
    assert got["value"] == pytest.approx(older / total * 100)
    assert bool(got["projection"]) == (int(year) >= toml_entry("pop_65plus_wpp")["projection_from"])


def test_derived_old_age_dependency_ratio(store, registry):
    _, frame, _ = store
    def wdi(file_id):
        return {int(r["Year"]): float(r["Value"]) for r in raw_rows(registry, file_id)
                if r["Country Code"] == "THA" and r["Value"]}
    old, work = wdi("wdi/sp.pop.65up.to.zs"), wdi("wdi/sp.pop.1564.to.zs")
    year = max(set(old) & set(work))
    expected = old[year] / work[year] * 100
    assert stored(frame, "old_age_dependency_ratio", "THA", year)["value"] == pytest.approx(expected)


def test_hale_gap(store, registry):
    """Years in less than full health and HALE's share of life expectancy, within the one WHO edition."""
    _, frame, _ = store

    def gho(file_id):
        return {int(r["TimeDim"]): float(r["NumericValue"]) for r in raw_rows(registry, file_id)
                if r["SpatialDimensionValueCode"] == "MYS" and r["DisaggregatingDimension1ValueCode"] == "SEX_BTSX"
                and r["NumericValue"]}
    le, hale = gho("gho2024/whosis_000001"), gho("gho2024/whosis_000002")
    year = max(set(hale) & set(le))
    got = stored(frame, "le_hale_gap_birth_who", "MYS", year)
    assert got["value"] == pytest.approx(le[year] - hale[year])
    assert got["source_id"] == "gho2024"
    share = stored(frame, "hale_share_birth_who", "MYS", year)
    assert share["value"] == pytest.approx(hale[year] / le[year] * 100)
    assert "le_hale_gap" not in set(frame["indicator_id"])  # retired: WDI life expectancy minus WHO 2019 HALE


def test_lex_at_60_period_projection(store, registry):
    """A 5-year period is a projection when it ends in or after the catalogue's projection_from."""
    _, frame, _ = store
    m49 = {r["iso3"]: r["country"] for r in raw_rows(registry, "wpp2019/entities-country")}
    entry = toml_entry("life_expectancy_60_wpp")
    rows = {int(r["time"]): float(r[entry["code"]]) for r in raw_rows(registry, entry["file"])
            if r["country"] == m49["CHN"] and all(r[d] == v for d, v in entry["select"].items())}
    ends_before = [y for y in rows if y + entry["period"] - 1 < entry["projection_from"]]
    ends_after = [y for y in rows if y + entry["period"] - 1 >= entry["projection_from"]]
    assert ends_before and ends_after
    estimate, projected = max(ends_before), min(ends_after)
    assert stored(frame, "life_expectancy_60_wpp", "CHN", estimate)["value"] == rows[estimate]
    assert not bool(stored(frame, "life_expectancy_60_wpp", "CHN", estimate)["projection"])
    assert stored(frame, "life_expectancy_60_wpp", "CHN", projected)["value"] == rows[projected]
    assert bool(stored(frame, "life_expectancy_60_wpp", "CHN", projected)["projection"])


def test_values_finite_and_within_bounds(store):
    _, frame, _ = store
    bounds = load_catalogue().bounds()
    assert frame["value"].map(math.isfinite).all()
    low = frame["indicator_id"].map(lambda i: bounds[i][0])
    high = frame["indicator_id"].map(lambda i: bounds[i][1])
    assert ((frame["value"] >= low) & (frame["value"] <= high)).all()


def test_rebuild_is_skipped(store):
    _, _, out = store
    assert build_store(progress=False, processed_dir=Path(out)).skipped
