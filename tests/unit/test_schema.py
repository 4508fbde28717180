"""Schema validation of indicator rows and stored tables, on synthetic frames; the schemas are
derived from the table declarations (analysis.config.tables)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from pandera.errors import SchemaErrors

from analysis.config import tables
from analysis.core.errors import InputError, StoreError
from analysis.pipeline import schema
from analysis.pipeline.build import write_table
from analysis.rules.aggregates import compute_aggregates
from analysis.rules.latest import compute_latest
from analysis.store import reader

KNOWN = {"QAA", "QAB", "QAC"}
BOUNDS = {"synthetic_pct": (0.0, 100.0), "synthetic_count": (0.0, np.inf)}


def synthetic_rows(n_years: int = 5) -> pd.DataFrame:
    """Valid synthetic indicator rows for 3 economies x 2 indicators; row = line in a synthetic file."""
    parts = []
    for ind in ("synthetic_pct", "synthetic_count"):
        for k, iso in enumerate(sorted(KNOWN)):
            years = np.arange(2000, 2000 + n_years)
            parts.append(pd.DataFrame({"iso3": iso, "year": years, "indicator_id": ind,
                                       "value": 10.0 * (k + 1) + years - 2000, "unit": "%", "source_id": "synthetic",
                                       "vintage": "2026", "projection": False,
                                       "file": f"synthetic/{ind}.csv"}))
    frame = pd.concat(parts, ignore_index=True)
    return frame.assign(row=frame.groupby("file").cumcount() + 2)


def validate(frame: pd.DataFrame, **kw) -> pd.DataFrame:
    return schema.validate_indicators(frame, known_iso3=KNOWN, bounds=BOUNDS, **kw)


def test_valid_rows_come_back_in_the_declared_layout_without_row_and_file():
    out = validate(synthetic_rows())
    assert out.dtypes.astype(str).to_dict() == tables.table("indicators").dtypes()
    assert list(out.columns) == tables.table("indicators").names()
    assert out["current"].all()  # not stated: the default (one vintage per indicator)
    assert out[["lower", "upper", "flag", "flag_reason"]].isna().all().all()
    schema.schema_of("indicators").validate(out)  # what validate_indicators returns is storable


def test_percent_above_100_names_file_row_indicator_country_year():
    frame = synthetic_rows()
    frame.loc[7, "value"] = 104.2  # synthetic_pct, QAB, 2002
    with pytest.raises(InputError) as info:
        validate(frame)
    err = info.value
    assert err.rule == "value_in_bounds"
    assert err.file == "synthetic/synthetic_pct.csv" and err.row == 9
    assert err.problem == "value 104.2 above 100 for indicator synthetic_pct, country QAB, year 2002"
    assert "synthetic/synthetic_pct.csv, row 9" in str(err)


def test_negative_value_below_bound_and_unbounded_indicator_accepts_large_values():
    frame = synthetic_rows()
    frame.loc[frame["indicator_id"] == "synthetic_count", "value"] = 1e12  # only >= 0 required
    validate(frame)
    frame.loc[0, "value"] = -0.5
    with pytest.raises(InputError, match="value -0.5 below 0 for indicator synthetic_pct") as info:
        validate(frame)
    assert info.value.row == 2


def test_indicator_without_bounds_is_only_checked_for_finiteness():
    frame = synthetic_rows().assign(indicator_id=lambda d: d["indicator_id"] + "_unlisted")
    frame.loc[3, "value"] = -5e9
    assert len(validate(frame)) == len(frame)


def test_duplicate_key_reports_the_second_occurrence_and_the_first():
    frame = synthetic_rows()
    dup = frame.iloc[[4]].assign(row=99, value=1.0, file="synthetic/synthetic_pct_again.csv")
    frame = pd.concat([frame, dup], ignore_index=True)
    with pytest.raises(InputError) as info:
        validate(frame)
    err = info.value
    assert err.rule == "unique_key" and err.row == 99 and err.file == "synthetic/synthetic_pct_again.csv"
    assert "duplicate key (iso3, indicator_id, year, vintage)" in err.problem
    assert "country QAA, year 2004, vintage 2026" in err.problem
    assert "first seen in synthetic/synthetic_pct.csv, row 6" in err.problem
    assert str(err).startswith("synthetic/synthetic_pct_again.csv, row 99: ")


def test_the_vintage_is_part_of_the_key_and_one_vintage_is_current():
    frame = synthetic_rows()
    earlier = frame.iloc[[4]].assign(row=99, value=1.0, vintage="2020", current=False)
    out = validate(pd.concat([frame.assign(current=True), earlier], ignore_index=True))
    assert len(out) == len(frame) + 1
    assert out.loc[out["vintage"] == "2020", "current"].tolist() == [False]


def test_two_current_vintages_of_one_series_are_rejected_naming_both_rows():
    frame = synthetic_rows().assign(current=True)
    also_current = frame.iloc[[4]].assign(row=99, value=1.0, vintage="2020")
    with pytest.raises(InputError) as info:
        validate(pd.concat([frame, also_current], ignore_index=True))
    err = info.value
    assert err.rule == "one_current_vintage" and err.row == 99 and err.file == "synthetic/synthetic_pct.csv"
    assert "more than one current vintage for indicator synthetic_pct, country QAA, year 2004" in err.problem
    assert "first seen in synthetic/synthetic_pct.csv, row 6" in err.problem


def test_uncertainty_bounds_must_enclose_the_value_and_a_reason_needs_a_flag():
    frame = synthetic_rows()
    bounded = frame.assign(lower=frame["value"] - 1, upper=frame["value"] + 1, flag=pd.NA, flag_reason=pd.NA)
    assert len(validate(bounded)) == len(frame)
    bad = bounded.copy()
    bad.loc[3, "lower"] = bad.loc[3, "value"] + 5
    with pytest.raises(InputError) as info:
        validate(bad)
    assert info.value.rule == "lower_at_most_value" and info.value.row == 5
    assert "break the rule lower <= value for indicator synthetic_pct, country QAA, year 2003" in info.value.problem
    flagged = bounded.astype({"flag": "string", "flag_reason": "string"})
    flagged.loc[6, ["flag", "flag_reason"]] = ["suspect", "synthetic reason"]
    assert validate(flagged)["flag"].notna().sum() == 1
    flagged.loc[7, "flag_reason"] = "a reason without a flag"
    with pytest.raises(InputError) as info:
        validate(flagged)
    assert info.value.rule == "flag_reason_only_when_flagged" and info.value.row == 9


@pytest.mark.parametrize("year", [1949, 2101])
def test_year_out_of_range(year):
    frame = synthetic_rows()
    frame.loc[12, "year"] = year
    with pytest.raises(InputError) as info:
        validate(frame)
    assert info.value.rule == "year_range" and info.value.row == 14
    assert f"year {year} outside 1950..2100" in info.value.problem


def test_year_that_would_wrap_int16_is_still_caught():
    frame = synthetic_rows()
    frame.loc[0, "year"] = 67536  # 67536 - 65536 = 2000 after a careless int16 cast
    with pytest.raises(InputError, match="year 67536 outside"):
        validate(frame)


def test_unknown_iso3():
    frame = synthetic_rows()
    frame["iso3"] = frame["iso3"].astype("string")
    frame.loc[20, "iso3"] = "QZZ"
    with pytest.raises(InputError) as info:
        validate(frame)
    assert info.value.rule == "iso3_known" and info.value.file == "synthetic/synthetic_count.csv"
    assert info.value.row == 7 and "iso3 QZZ is not an economy" in info.value.problem


def test_badly_formed_iso3():
    frame = synthetic_rows()
    frame["iso3"] = frame["iso3"].astype("string")
    frame.loc[1, "iso3"] = "qaa"
    with pytest.raises(InputError) as info:
        schema.validate_indicators(frame, known_iso3=KNOWN | {"qaa"}, bounds=BOUNDS)
    assert info.value.rule == "iso3_format" and info.value.row == 3


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_value(bad):
    frame = synthetic_rows()
    frame.loc[2, "value"] = bad
    with pytest.raises(InputError) as info:
        validate(frame)
    assert info.value.rule == "value_finite" and info.value.row == 4
    assert "indicator synthetic_pct, country QAA, year 2002" in info.value.problem


def test_year_not_a_number_is_a_types_error():
    frame = synthetic_rows().astype({"year": "object"})
    frame.loc[5, "year"] = "20x1"
    with pytest.raises(InputError) as info:
        validate(frame)
    assert info.value.rule == "types" and info.value.row == 7 and "'20x1' cannot be read as int64" in info.value.problem


def test_first_offending_row_is_reported_and_the_others_counted():
    frame = synthetic_rows()
    frame.loc[9, "value"] = 150.0
    frame.loc[3, "year"] = 1900
    frame.loc[11, "value"] = 101.0
    with pytest.raises(InputError) as info:
        validate(frame)
    err = info.value
    assert err.row == 5 and err.rule == "year_range"
    assert "and 2 more violation(s): 2 value_in_bounds" in err.problem


def test_missing_columns():
    with pytest.raises(InputError, match=r"lack column\(s\) vintage"):
        validate(synthetic_rows().drop(columns=["vintage"]))


def test_file_of_maps_file_ids_to_shown_paths():
    frame = synthetic_rows()
    frame.loc[0, "value"] = 200.0
    with pytest.raises(InputError) as info:
        validate(frame, file_of={"synthetic/synthetic_pct.csv": "data/raw/synthetic_pct_shown.csv"})
    assert info.value.file == "data/raw/synthetic_pct_shown.csv"


def test_validation_is_vectorised_on_a_large_synthetic_frame():
    """100k rows validate (no per-row Python would finish this quickly enough to matter here)."""
    base = synthetic_rows(n_years=100)
    big = pd.concat([base.assign(indicator_id=base["indicator_id"] + f"_{i}") for i in range(170)],
                    ignore_index=True)
    out = schema.validate_indicators(big, known_iso3=KNOWN, bounds={}, file_of=None)
    assert len(out) == len(big) == 3 * 2 * 100 * 170


# ---------------------------------------------------------------- stored tables


def test_indicators_schema_rejects_wrong_dtype_and_extra_columns():
    good = validate(synthetic_rows())
    with pytest.raises(StoreError, match="indicators table.*'year'.*int16"):
        schema.validate_table("indicators", good.assign(year=good["year"].astype("int64")))
    with pytest.raises(StoreError, match="indicators table.*column_in_schema.*'extra'"):
        schema.validate_table("indicators", good.assign(extra=1))


def test_validate_table_raises_store_error_naming_the_table():
    good = validate(synthetic_rows())
    bad = pd.concat([good, good.iloc[[0]]], ignore_index=True)
    with pytest.raises(StoreError, match="indicators table"):
        schema.validate_table("indicators", bad)
    assert len(schema.validate_table("indicators", good)) == len(good)


def synthetic_countries() -> pd.DataFrame:
    return tables.conform("countries", pd.DataFrame({
        "iso3": sorted(KNOWN), "name": ["A", "B", "C"], "m49": pd.array([901, 902, 903], dtype="Int64"),
        "wb_region": "R", "wb_income_group": "High income", "asean_joined": ["1967-08-08", "1984-01-07", pd.NA],
        "plus_three": [False, False, True], "focus": True, "in_wb": True, "in_wpp": True}))


def test_latest_and_aggregates_schemas_accept_computed_tables():
    data = validate(synthetic_rows())
    schema.validate_table("latest", tables.conform("latest", compute_latest(data, window=3)))
    countries = synthetic_countries()
    schema.validate_table("countries", countries)
    aggs = tables.conform("aggregates", compute_aggregates(data, countries, min_coverage=0.5, on="2026-07-01",
                                                           groups=("ASEAN", "ASEAN+3"),
                                                           weight_indicator="synthetic_count"))
    schema.validate_table("aggregates", aggs)
    with pytest.raises(StoreError, match="aggregates table.*n_at_most_N"):
        schema.validate_table("aggregates", aggs.assign(n=aggs["N"] + 1))
    with pytest.raises(StoreError, match="countries table.*asean_joined_format"):
        schema.validate_table("countries", countries.assign(asean_joined="8 August 1967"))


def test_every_declared_table_has_a_schema_and_an_empty_frame_that_passes_it():
    for name in tables.TABLES:
        empty = tables.empty_frame(name)
        assert list(schema.schema_of(name).columns) == tables.table(name).names() == list(empty.columns)
        schema.validate_table(name, empty)


def test_conform_requires_the_columns_without_default():
    with pytest.raises(StoreError, match="source_aggregates table: column.*geo_scheme"):
        tables.conform("source_aggregates", tables.empty_frame("source_aggregates").drop(columns="geo_scheme"))


@pytest.fixture
def extended_declaration(monkeypatch):
    """The aggregates declaration with one more SYNTHETIC column (nullable float, at least 0)."""
    extra = tables.Column(tables.Field("synthetic_extra", "float64", "a column only this test declares", minimum=0),
                          nullable=True)
    declared = tables.TABLES["aggregates"]
    before = tables.declaration_sha256()
    monkeypatch.setitem(tables.TABLES, "aggregates", dataclasses.replace(declared, columns=(*declared.columns, extra)))
    schema.schema_of.cache_clear()
    yield extra, before
    schema.schema_of.cache_clear()


def test_a_column_added_to_the_declaration_appears_everywhere(extended_declaration, tmp_path):
    extra, before = extended_declaration
    name = extra.name
    # pandera schema: dtype, nullability and the check from the field's minimum
    column = schema.schema_of("aggregates").columns[name]
    assert str(column.dtype) == "float64" and column.nullable
    assert [c.name for c in column.checks] == [f"{name}_range"]
    # empty frame, reader dtypes, the stored file and the manifest's hash
    assert tables.empty_frame("aggregates")[name].dtype == "float64"
    assert tables.table("aggregates").dtypes()[name] == "float64"
    aggs = compute_aggregates(validate(synthetic_rows()), synthetic_countries(), min_coverage=0.5, on="2026-07-01",
                              groups=("ASEAN",), weight_indicator="synthetic_count")
    write_table("aggregates", aggs.assign(**{name: 1.5}), tmp_path / "aggregates.parquet")
    got = reader.read_table("aggregates", processed_dir=tmp_path)
    assert list(got.columns)[-1] == name and (got[name] == 1.5).all()
    with pytest.raises(StoreError, match=f"{name}_range"):
        schema.validate_table("aggregates", tables.conform("aggregates", aggs.assign(**{name: -1.0})))
    assert tables.declaration_sha256() != before


def test_the_declaration_hash_is_stable_and_versioned():
    assert tables.declaration_sha256() == tables.declaration_sha256()
    assert tables.declaration()["version"] == tables.TABLES_VERSION
    assert set(tables.declaration()["tables"]) == set(tables.TABLES)


def test_schemas_are_strict_a_frame_of_another_table_fails():
    with pytest.raises(SchemaErrors, match="column_in_schema"):
        schema.schema_of("latest").validate(tables.empty_frame("indicators"), lazy=True)


# ---------------------------------------------------------------- validation chunk by chunk


def by_indicator(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """Consecutive chunks of whole indicators, as the build validates them."""
    return [part for _, part in frame.groupby("indicator_id", sort=False)]


def test_chunks_of_whole_indicators_validate_like_one_call():
    frame = synthetic_rows()
    kept = schema.validate_indicator_chunks(by_indicator(frame), known_iso3=KNOWN, bounds=BOUNDS,
                                            keep=lambda part: part.assign(kept=True))
    assert [len(part) for part in kept] == [15, 15] and all(part["kept"].all() for part in kept)
    pd.testing.assert_frame_equal(pd.concat(kept, ignore_index=True).drop(columns="kept"), validate(frame))


def test_chunks_raise_the_first_violation_and_count_those_of_later_chunks():
    frame = synthetic_rows()
    frame.loc[3, "year"] = 1900       # synthetic_pct: the first violation
    frame.loc[9, "value"] = 150.0     # synthetic_pct
    frame.loc[20, "value"] = -1.0     # synthetic_count: a later chunk
    frame.loc[21, "iso3"] = "QZZ"     # synthetic_count
    with pytest.raises(InputError) as whole:
        validate(frame)
    with pytest.raises(InputError) as chunked:
        schema.validate_indicator_chunks(by_indicator(frame), known_iso3=KNOWN, bounds=BOUNDS)
    assert str(chunked.value) == str(whole.value)
    assert chunked.value.row == 5 and chunked.value.rule == "year_range"
    assert "and 3 more violation(s): 1 iso3_known, 2 value_in_bounds" in chunked.value.problem
