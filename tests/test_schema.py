"""Schema validation of indicator rows and stored tables, on synthetic frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.core.errors import InputError, StoreError
from analysis.pipeline import schema

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


def test_valid_rows_come_back_typed_without_row_and_file():
    out = validate(synthetic_rows())
    assert list(out.columns) == schema.STORED_COLUMNS
    assert out["year"].dtype == "int16" and out["value"].dtype == "float64"
    assert out["projection"].dtype == bool
    for col in schema.STRING_COLUMNS:
        assert out[col].dtype == pd.StringDtype(), col
    schema.INDICATORS_SCHEMA.validate(out)  # what validate_indicators returns is storable



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
    dup = frame.iloc[[4]].assign(row=99, value=1.0)
    frame = pd.concat([frame, dup], ignore_index=True)
    with pytest.raises(InputError) as info:
        validate(frame)
    err = info.value
    assert err.rule == "unique_key" and err.row == 99 and err.file == "synthetic/synthetic_pct.csv"
    assert "country QAA, year 2004" in err.problem and "first seen in synthetic/synthetic_pct.csv, row 6" in err.problem


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
    with pytest.raises(InputError, match="lack column"):
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
    with pytest.raises(Exception):
        schema.INDICATORS_SCHEMA.validate(good.assign(year=good["year"].astype("int64")))
    with pytest.raises(Exception):
        schema.INDICATORS_SCHEMA.validate(good.assign(extra=1))


def test_validate_table_raises_store_error_naming_the_table():
    good = validate(synthetic_rows())
    bad = pd.concat([good, good.iloc[[0]]], ignore_index=True)
    with pytest.raises(StoreError, match="indicators table"):
        schema.validate_table("indicators", bad)
    assert len(schema.validate_table("indicators", good)) == len(good)


def test_latest_and_aggregates_schemas_accept_computed_tables():
    from analysis.store.api import compute_aggregates, compute_latest

    data = validate(synthetic_rows())
    latest = compute_latest(data, window=3)
    schema.validate_table("latest", latest)
    countries = pd.DataFrame({"iso3": sorted(KNOWN), "name": ["A", "B", "C"],
                              "m49": pd.array([901, 902, 903], dtype="Int64"), "wb_region": "R",
                              "wb_income_group": "High income", "asean_joined": ["1967-08-08", "1984-01-07", pd.NA],
                              "plus_three": [False, False, True], "focus": True}).astype(
        {c: "string" for c in ("iso3", "name", "wb_region", "wb_income_group", "asean_joined")})
    schema.validate_table("countries", countries)
    aggs = compute_aggregates(data, countries, groups=("ASEAN", "ASEAN+3"), weight_indicator="synthetic_count")
    schema.validate_table("aggregates", aggs)
    with pytest.raises(StoreError, match="aggregates table"):
        schema.validate_table("aggregates", aggs.assign(n=aggs["N"] + 1))
