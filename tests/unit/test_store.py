"""Reading the store: filters, vintages, declared dtypes, a rebuilt file, StoreError, store_info.

SYNTHETIC store only (made-up values; fake economies beside the 14 of the references file).
``write_synthetic_store`` writes every table through the build's own writer, in the declared layout.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.config import tables
from analysis.config.references import load_members
from analysis.core.errors import StoreError
from analysis.pipeline.build import write_table
from analysis.pipeline.countries import build_countries
from analysis.rules.aggregates import compute_aggregates
from analysis.rules.latest import compute_latest
from analysis.store import api
from analysis.store import reader as store
from analysis.store.info import store_info

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
    data = tables.conform("indicators", pd.concat(frames, ignore_index=True))
    return data.sort_values(list(tables.table("indicators").sort_by)).reset_index(drop=True)


def synthetic_source_aggregates() -> pd.DataFrame:
    """Two made-up source aggregates of pop_total: an ILO-style code and an M49 region code."""
    rows = [("synthetic", geo, scheme, "pop_total", year, 5000.0 + year - 2000, "persons", "2026-01-01")
            for geo, scheme in (("x99", "ilo"), ("999", "m49")) for year in (2000, 2001)]
    frame = pd.DataFrame(rows, columns=["source_id", "geo", "geo_scheme", "indicator_id", "year", "value", "unit",
                                        "vintage"])
    return tables.conform("source_aggregates", frame.assign(projection=False))


def synthetic_age_structure(countries: pd.DataFrame) -> pd.DataFrame:
    focus = sorted(countries.loc[countries["focus"], "iso3"].astype(str))
    rows = [(code, year, f"pop_age_{age}", float(k + year - 2000), "thousand persons", "synthetic", "2019",
             year > 2020) for k, code in enumerate(focus) for year in (2019, 2050) for age in ("0_4", "65_69")]
    return tables.conform("age_structure", pd.DataFrame(rows, columns=tables.table("age_structure").names()))


def write_synthetic_store(directory: Path, *, indicators: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Write a small synthetic store (every declared table and a manifest) into ``directory``.

    Returns the frames written, in the declared layout.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    countries = tables.conform("countries", synthetic_countries())
    indicators = synthetic_indicators(countries) if indicators is None else indicators
    current = indicators.loc[indicators["current"]]
    written = {
        "indicators": indicators, "countries": countries,
        "latest": tables.conform("latest", compute_latest(current, window=10, ref_year=None)),
        "aggregates": tables.conform("aggregates", compute_aggregates(
            current, countries, min_coverage=0.5, groups=("ASEAN", "ASEAN+3"), on="2026-07-01",
            weight_indicator="pop_total")),
        "age_structure": synthetic_age_structure(countries),
        "source_aggregates": synthetic_source_aggregates(),
    }
    assert set(written) == set(tables.TABLES)
    for name, frame in written.items():
        write_table(name, frame, directory / f"{name}.parquet")
    manifest = {"catalogue_sha256": "0" * 64, "inputs": {"synthetic/a": "1" * 64, "synthetic/b": "2" * 64},
                "rows": {"indicators": len(indicators), "countries": len(countries)}}
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return written


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory) -> tuple[Path, dict[str, pd.DataFrame]]:
    directory = tmp_path_factory.mktemp("synthetic_store")
    return directory, write_synthetic_store(directory)


def with_old_vintage(indicators: pd.DataFrame) -> pd.DataFrame:
    """The synthetic indicators plus an earlier, non-current vintage of pop_total for IDN (values + 0.5)."""
    old = indicators.loc[(indicators["indicator_id"] == "pop_total") & (indicators["iso3"] == "IDN")]
    old = old.assign(value=old["value"] + 0.5, vintage="2020-01-01", current=False)
    both = pd.concat([indicators, old], ignore_index=True)
    return both.sort_values(list(tables.table("indicators").sort_by)).reset_index(drop=True)


# ---------------------------------------------------------------- reading indicators


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


def test_no_match_gives_empty_frame_with_declared_columns(synthetic_store):
    directory, _ = synthetic_store
    got = store.read_indicators("share_synth", ["QQA"], (1950, 1960), processed_dir=directory)
    assert got.empty
    pd.testing.assert_series_equal(got.dtypes, tables.empty_frame("indicators").dtypes)


def test_current_vintage_by_default_every_vintage_when_asked(tmp_path):
    written = write_synthetic_store(tmp_path, indicators=with_old_vintage(synthetic_indicators(synthetic_countries())))
    data = written["indicators"]
    current = store.read_indicators("pop_total", "IDN", processed_dir=tmp_path)
    assert current["current"].all() and set(current["vintage"]) == {"2026-01-01"}
    every = store.read_indicators("pop_total", "IDN", processed_dir=tmp_path, vintage="all")
    assert len(every) == 2 * len(current) and set(every["vintage"]) == {"2020-01-01", "2026-01-01"}
    expected = data.loc[(data["indicator_id"] == "pop_total") & (data["iso3"] == "IDN")].reset_index(drop=True)
    pd.testing.assert_frame_equal(every, expected)
    with pytest.raises(ValueError, match="vintage must be"):
        store.read_indicators("pop_total", processed_dir=tmp_path, vintage="newest")


def test_api_load_returns_the_current_vintage_in_its_usual_columns(tmp_path):
    write_synthetic_store(tmp_path, indicators=with_old_vintage(synthetic_indicators(synthetic_countries())))
    got = api.load("pop_total", "IDN", names=False, processed_dir=tmp_path)
    assert list(got.columns) == tables.table("indicators").names(detail=False)
    assert "current" not in got.columns and "lower" not in got.columns
    assert set(got["vintage"]) == {"2026-01-01"} and got["year"].is_unique
    every = api.load("pop_total", "IDN", names=False, vintage="all", processed_dir=tmp_path)
    assert len(every) == 2 * len(got)
    wide = api.panel("pop_total", ["IDN"], processed_dir=tmp_path)  # one value per year: current only
    assert wide["pop_total"].tolist() == got["value"].tolist()


def test_a_rebuilt_file_is_read_at_the_next_call(tmp_path):
    written = write_synthetic_store(tmp_path)
    before = store.read_indicators("pop_total", "IDN", 2010, processed_dir=tmp_path)
    changed = written["indicators"].assign(value=written["indicators"]["value"] + 1)
    write_table("indicators", changed, tmp_path / "indicators.parquet")
    after = store.read_indicators("pop_total", "IDN", 2010, processed_dir=tmp_path)
    assert after["value"].iloc[0] == before["value"].iloc[0] + 1
    countries = written["countries"]
    write_table("countries", countries.assign(name=countries["name"] + " (renamed)"), tmp_path / "countries.parquet")
    assert store.read_table("countries", processed_dir=tmp_path)["name"].str.endswith(" (renamed)").all()


# ---------------------------------------------------------------- the other tables


@pytest.mark.parametrize("name", ["countries", "latest", "aggregates", "age_structure"])
def test_small_tables_come_back_as_written_with_declared_dtypes(synthetic_store, name):
    directory, written = synthetic_store
    got = store.read_table(name, processed_dir=directory)
    pd.testing.assert_frame_equal(got, written[name])
    assert got.dtypes.astype(str).to_dict() == tables.table(name).dtypes()


def test_source_aggregates_by_indicator(synthetic_store):
    directory, written = synthetic_store
    got = store.read_source_aggregates("pop_total", processed_dir=directory)
    pd.testing.assert_frame_equal(got, written["source_aggregates"])
    assert store.read_source_aggregates("share_synth", processed_dir=directory).empty


def test_read_table_returns_a_copy_safe_to_modify(synthetic_store):
    directory, written = synthetic_store
    table = store.read_table("countries", processed_dir=directory)
    table.loc[:, "name"] = "changed"
    pd.testing.assert_frame_equal(store.read_table("countries", processed_dir=directory), written["countries"])


def test_indicator_ids(synthetic_store):
    directory, _ = synthetic_store
    assert store.indicator_ids(directory) == {"share_synth", "pop_total", "proj_synth"}


# ---------------------------------------------------------------- errors


def test_missing_store_raises_store_error_with_the_build_hint(tmp_path):
    with pytest.raises(StoreError, match=r"python -m analysis build"):
        store.read_indicators(processed_dir=tmp_path)
    with pytest.raises(StoreError, match=r"countries\.parquet not found"):
        store.read_table("countries", processed_dir=tmp_path)
    with pytest.raises(StoreError, match=r"indicators\.parquet not found"):
        store.indicator_ids(tmp_path)


def test_a_store_in_an_older_layout_asks_for_a_rebuild(tmp_path):
    written = write_synthetic_store(tmp_path)
    old = written["indicators"].drop(columns=["current", "flag", "flag_reason"])
    pq.write_table(pa.Table.from_pandas(old, preserve_index=False), tmp_path / "indicators.parquet")
    with pytest.raises(StoreError, match=r"lacks the declared column\(s\) current, flag, flag_reason.*analysis build"):
        store.read_indicators(processed_dir=tmp_path)


def test_a_damaged_file_is_a_store_error(tmp_path):
    write_synthetic_store(tmp_path)
    (tmp_path / "latest.parquet").write_bytes(b"not parquet")
    with pytest.raises(StoreError, match=r"latest\.parquet cannot be read"):
        store.read_table("latest", processed_dir=tmp_path)


def test_unknown_table_name(tmp_path):
    with pytest.raises(ValueError, match="unknown store table"):
        store.read_table("indicatorz", processed_dir=tmp_path)


# ---------------------------------------------------------------- python -m analysis info


def test_store_info_describes_the_store_without_machine_paths(synthetic_store):
    directory, written = synthetic_store
    data = written["indicators"]
    text = store_info(processed_dir=directory)
    assert f"{len(data):,} rows" in text
    assert f"{data['indicator_id'].nunique()} indicators x {data['iso3'].nunique()} economies" in text
    assert "synthetic-wpp" in text and "Coverage of the 14 focus countries" in text
    assert "    synthetic/a: 111111111111..." in text and f"    indicators: {len(data)}" in text
    assert str(directory) not in text and str(Path.home()) not in text


def test_store_info_focus_coverage_counts(tmp_path):
    """Only share_synth is short of data since 2015 (first and last economies); count the cells."""
    written = write_synthetic_store(tmp_path)
    data = written["indicators"]
    focus = set(written["countries"].loc[written["countries"]["focus"], "iso3"])
    recent = data.loc[(data["year"] >= 2015) & ~data["projection"] & data["iso3"].isin(focus)]
    cells = recent.drop_duplicates(["indicator_id", "iso3"]).shape[0]
    text = store_info(processed_dir=tmp_path)
    total_line = next(line for line in text.splitlines() if "all indicators" in line)
    assert total_line.split()[-5:-2] == [str(cells), "of", str(3 * len(focus))]
    assert cells < 3 * len(focus)  # the synthetic gaps are seen


# ---------------------------------------------------------------- reads cut to the named indicators' rows


def _filtered(frame: pd.DataFrame, ids: list[str], iso3: str) -> pd.DataFrame:
    keep = frame["indicator_id"].isin(ids) & (frame["iso3"] == iso3) & frame["current"]
    return frame.loc[keep.to_numpy(dtype=bool), tables.table("indicators").names()].reset_index(drop=True)


def test_named_indicators_come_back_in_store_order_whatever_order_they_are_asked_in(synthetic_store):
    directory, written = synthetic_store
    got = store.read_indicators(["share_synth", "pop_total", "share_synth", "no_such_id"], "IDN",
                                processed_dir=directory)
    pd.testing.assert_frame_equal(got, _filtered(written["indicators"], ["pop_total", "share_synth"], "IDN"))
    assert store.read_indicators(["no_such_id"], processed_dir=directory).empty


def test_a_file_whose_indicators_are_not_in_runs_is_filtered_whole(tmp_path):
    written = write_synthetic_store(tmp_path)
    by_country = written["indicators"].sort_values(["iso3", "year", "indicator_id"]).reset_index(drop=True)
    write_table("indicators", by_country, tmp_path / "indicators.parquet")
    got = store.read_indicators(["proj_synth", "pop_total"], "IDN", processed_dir=tmp_path)
    # The rows of the file's own order, not regrouped by indicator.
    pd.testing.assert_frame_equal(got, _filtered(by_country, ["proj_synth", "pop_total"], "IDN"))
    assert got["indicator_id"].iloc[0] == "pop_total" and got["indicator_id"].iloc[1] == "proj_synth"


def test_latest_values_follow_a_rebuilt_store_and_come_back_safe_to_modify(tmp_path):
    written = write_synthetic_store(tmp_path)
    before = api.latest("pop_total", "IDN", window=10, processed_dir=tmp_path)
    before.loc[:, "value"] = -1.0
    again = api.latest("pop_total", "IDN", window=10, processed_dir=tmp_path)
    assert again["value"].iloc[0] == 1000.0 * (sorted(written["countries"]["iso3"]).index("IDN") + 1)
    changed = written["indicators"].assign(value=written["indicators"]["value"] * 2)
    write_table("indicators", changed, tmp_path / "indicators.parquet")
    after = api.latest("pop_total", "IDN", window=10, processed_dir=tmp_path)
    assert after["value"].iloc[0] == 2 * again["value"].iloc[0]
