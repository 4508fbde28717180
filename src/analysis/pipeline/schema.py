"""Schemas of the stored tables, and the validation of indicator rows before they are stored.

The declared schemas (``INDICATORS_SCHEMA``, ``COUNTRIES_SCHEMA``, ``LATEST_SCHEMA``,
``AGGREGATES_SCHEMA``) describe ``data/processed/*.parquet``. :func:`validate_indicators` checks
the rows the build is about to store against the same rules plus the catalogue's value bounds and
the countries table, and turns the first violation into an :class:`~analysis.errors.InputError`
that names the source file, its line and the rule (the count of further violations is added).
All checks are vectorised (pandera runs them column-wise), so a million rows take well under a second.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from analysis.core.errors import InputError, StoreError

YEAR_MIN, YEAR_MAX = 1950, 2100
ISO3_PATTERN = r"^[A-Z]{3}$"
KEY = ["iso3", "indicator_id", "year"]
STRING = pd.StringDtype()
STORED_COLUMNS = ["iso3", "year", "indicator_id", "value", "unit", "source_id", "vintage", "projection"]
STRING_COLUMNS = ["iso3", "indicator_id", "unit", "source_id", "vintage"]

# Rule names shown in messages ([rule: ...]); also the pandera check names.
RULE_TYPES = "types"
RULE_NOT_NULL = "not_null"
RULE_UNIQUE = "unique_key"
RULE_YEAR = "year_range"
RULE_FINITE = "value_finite"
RULE_BOUNDS = "value_in_bounds"
RULE_ISO3_FORMAT = "iso3_format"
RULE_ISO3_KNOWN = "iso3_known"


def _finite(series: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(series.to_numpy(dtype="float64", na_value=np.nan)), index=series.index)


# Checks are named functions (not pandera built-ins) so that failure cases carry our rule names.


def _iso3_format_check() -> pa.Check:
    return pa.Check(lambda s: s.str.fullmatch(ISO3_PATTERN).fillna(False).astype(bool), name=RULE_ISO3_FORMAT)


def _iso3_column(**kw) -> pa.Column:
    return pa.Column(STRING, _iso3_format_check(), **kw)


def _year_check() -> pa.Check:
    return pa.Check(lambda s: (s >= YEAR_MIN) & (s <= YEAR_MAX), name=RULE_YEAR)


# --------------------------------------------------------------------------------------------
# Declared schemas of the stored tables

INDICATORS_SCHEMA = pa.DataFrameSchema(
    {
        "iso3": _iso3_column(),
        "year": pa.Column("int16", _year_check()),
        "indicator_id": pa.Column(STRING),
        "value": pa.Column("float64", pa.Check(_finite, name=RULE_FINITE)),
        "unit": pa.Column(STRING),
        "source_id": pa.Column(STRING),
        "vintage": pa.Column(STRING),
        "projection": pa.Column(bool),
    },
    unique=KEY,
    report_duplicates="exclude_first",
    strict=True,
    name="indicators",
)

COUNTRIES_SCHEMA = pa.DataFrameSchema(
    {
        "iso3": _iso3_column(unique=True),
        "name": pa.Column(STRING),
        "m49": pa.Column("Int64", pa.Check.in_range(1, 999), nullable=True),
        "wb_region": pa.Column(STRING, nullable=True),
        "wb_income_group": pa.Column(STRING, nullable=True),
        "asean_joined": pa.Column(STRING, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$"), nullable=True),
        "plus_three": pa.Column(bool),
        "focus": pa.Column(bool),
    },
    strict=False,  # further descriptive columns (wb_name, wpp_name, notes) are allowed
    name="countries",
)

LATEST_SCHEMA = pa.DataFrameSchema(
    {
        "iso3": _iso3_column(),
        "indicator_id": pa.Column(STRING),
        "value": pa.Column("float64", pa.Check(_finite, name=RULE_FINITE), nullable=True),
        "year": pa.Column("Int16", _year_check(), nullable=True),
        "ref_year": pa.Column("Int16", _year_check(), nullable=True),
        "window": pa.Column("int16", pa.Check.ge(1)),
        "unit": pa.Column(STRING, nullable=True),
        "source_id": pa.Column(STRING, nullable=True),
        "vintage": pa.Column(STRING, nullable=True),
        "projection": pa.Column("boolean", nullable=True),
    },
    unique=["iso3", "indicator_id"],
    strict=False,
    name="latest",
)

AGGREGATES_SCHEMA = pa.DataFrameSchema(
    {
        "group": pa.Column(STRING),
        "indicator_id": pa.Column(STRING),
        "year": pa.Column("int16", _year_check()),
        "unit": pa.Column(STRING, nullable=True),
        "median": pa.Column("float64", pa.Check(_finite, name=RULE_FINITE), nullable=True),
        "n": pa.Column("int64", pa.Check.ge(0)),
        "N": pa.Column("int64", pa.Check.ge(0)),
        "coverage": pa.Column(STRING),
        "coverage_ok": pa.Column(bool),
        "weighted_mean": pa.Column("float64", pa.Check(_finite, name=RULE_FINITE), nullable=True),
        "n_weighted": pa.Column("int64", pa.Check.ge(0)),
        "coverage_weighted": pa.Column(STRING),
        "coverage_weighted_ok": pa.Column(bool),
        "composition": pa.Column(STRING),
        "projection": pa.Column(bool),
    },
    checks=[
        pa.Check(lambda df: (df["n"] <= df["N"]) & (df["n_weighted"] <= df["n"]), name="n_at_most_N"),
        pa.Check(lambda df: df["median"].isna() | df["coverage_ok"], name="median_only_when_covered"),
        pa.Check(lambda df: df["weighted_mean"].isna() | df["coverage_weighted_ok"],
                 name="weighted_mean_only_when_covered"),
    ],
    unique=["group", "indicator_id", "year"],
    strict=False,
    name="aggregates",
)

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "indicators": INDICATORS_SCHEMA,
    "countries": COUNTRIES_SCHEMA,
    "latest": LATEST_SCHEMA,
    "aggregates": AGGREGATES_SCHEMA,
}


def validate_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Check a derived table (countries, latest, aggregates, indicators) before it is stored.

    These tables are computed by the package itself, so a violation is a bug or a stale store,
    reported as :class:`StoreError` naming the table, the rule and the first failing value.
    """
    try:
        return SCHEMAS[name].validate(df, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        first = cases.iloc[0]
        raise StoreError(
            f"{name} table: {len(cases)} schema violation(s); first: column {first['column']!r} "
            f"check {first['check']!r} failed for {first['failure_case']!r} at row {first['index']}"
        ) from None


# --------------------------------------------------------------------------------------------
# Validating indicator rows from the sources


def _bounds_arrays(ids: pd.Series, bounds: Mapping[str, tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Per-row (low, high) from the indicator's bounds; indicators without bounds are unbounded."""
    lo = {k: float(v[0]) for k, v in bounds.items()}
    hi = {k: float(v[1]) for k, v in bounds.items()}
    codes, uniques = pd.factorize(ids)
    # Map the few distinct ids, then broadcast by code: cheap on a million rows.
    low_u = np.array([lo.get(u, -np.inf) for u in uniques] + [-np.inf])
    high_u = np.array([hi.get(u, np.inf) for u in uniques] + [np.inf])
    return low_u[codes], high_u[codes]


def _input_schema(frame: pd.DataFrame, known_iso3: set[str],
                  bounds: Mapping[str, tuple[float, float]]) -> pa.DataFrameSchema:
    """The stored indicators schema with the input-only checks: bounds and known economies.

    Built for one frame (the bounds check is a column check on ``value`` that reads the per-row
    bounds of that frame, aligned by position). ``year`` is checked as int64, before the cast to
    int16 that could wrap out-of-range years.
    """
    low, high = _bounds_arrays(frame["indicator_id"], bounds)
    known = np.array(sorted(known_iso3), dtype=object)

    def in_bounds(value: pd.Series) -> pd.Series:
        pos = value.index.to_numpy()
        v = value.to_numpy(dtype="float64", na_value=np.nan)
        # Non-finite values are the finiteness rule's, not this one's.
        ok = ~np.isfinite(v) | ((v >= low[pos]) & (v <= high[pos]))
        return pd.Series(ok, index=value.index)

    columns = dict(INDICATORS_SCHEMA.columns)
    columns["year"] = pa.Column("int64", _year_check(), coerce=True)
    columns["value"] = pa.Column("float64", [pa.Check(_finite, name=RULE_FINITE),
                                             pa.Check(in_bounds, name=RULE_BOUNDS)], coerce=True)
    columns["iso3"] = pa.Column(STRING, [_iso3_format_check(),
                                         pa.Check(lambda s: s.isin(known), name=RULE_ISO3_KNOWN)])
    columns["projection"] = pa.Column(bool, coerce=True)
    columns["row"] = pa.Column("int64", coerce=True, required=False)
    columns["file"] = pa.Column(nullable=True, required=False)
    return pa.DataFrameSchema(columns, unique=KEY, report_duplicates="exclude_first", strict=False,
                              name="indicators (input)")


def validate_indicators(df: pd.DataFrame, *, known_iso3: set[str],
                        bounds: Mapping[str, tuple[float, float]],
                        file_of: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Validate indicator rows before they are stored; return them typed for the store.

    ``df`` has the stored columns (iso3, year, indicator_id, value, unit, source_id, vintage,
    projection) plus ``row`` (1-based line in the source file) and ``file`` (the source file).
    ``bounds`` maps indicator_id to (low, high) inclusive; ``known_iso3`` are the economies of the
    countries table. ``file_of`` optionally maps the values of ``file`` (e.g. registry file ids)
    to the path shown in messages; without a ``file`` column it maps indicator_id to the file.

    On the first violation raises ``InputError(file, row, problem, rule)``; the message gives the
    number of further violations per rule. Returns the frame without ``row``/``file``: year int16,
    value float64, strings as ``string`` dtype, projection bool, index reset.
    """
    missing = [c for c in STORED_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(_first_file(df, file_of), f"indicator rows lack column(s) {', '.join(missing)}",
                         rule=RULE_TYPES)
    frame = df.reset_index(drop=True)
    frame = frame.assign(**{c: frame[c].astype(STRING) for c in STRING_COLUMNS})
    try:
        _input_schema(frame, set(known_iso3), bounds).validate(frame, lazy=True)
    except SchemaErrors as exc:
        raise _to_input_error(frame, exc.failure_cases, bounds, file_of) from None
    except SchemaError as exc:  # non-lazy failures (e.g. a column that cannot be coerced at all)
        raise InputError(_first_file(df, file_of), str(exc).splitlines()[0], rule=RULE_TYPES) from None
    return _typed(frame)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "iso3": frame["iso3"].astype(STRING),
        "year": frame["year"].astype("int64").astype("int16"),
        "indicator_id": frame["indicator_id"].astype(STRING),
        "value": frame["value"].astype("float64"),
        "unit": frame["unit"].astype(STRING),
        "source_id": frame["source_id"].astype(STRING),
        "vintage": frame["vintage"].astype(STRING),
        "projection": frame["projection"].astype(bool),
    })


def _first_file(df: pd.DataFrame, file_of: Mapping[str, str] | None) -> str:
    if "file" in df.columns and len(df):
        value = str(df["file"].iloc[0])
        return (file_of or {}).get(value, value)
    return "indicator rows"


def _rule_of(check: str, column: str | None) -> str:
    """The rule name for a pandera failure: our own check names, else a category."""
    if check in {RULE_YEAR, RULE_FINITE, RULE_BOUNDS, RULE_ISO3_FORMAT, RULE_ISO3_KNOWN}:
        return check
    if "uniqueness" in check or check.startswith("unique") or "duplicates" in check:
        return RULE_UNIQUE
    if check == "not_nullable":
        return RULE_FINITE if column == "value" else RULE_NOT_NULL
    return RULE_TYPES


def _to_input_error(frame: pd.DataFrame, cases: pd.DataFrame, bounds: Mapping[str, tuple[float, float]],
                    file_of: Mapping[str, str] | None) -> InputError:
    """The first offending row (in frame order) as an InputError; other violations counted per rule."""
    cases = cases.assign(rule=[_rule_of(str(c), col) for c, col in zip(cases["check"], cases["column"])])
    located = cases.loc[cases["index"].notna()]
    if located.empty:  # a schema-level problem (missing column, wrong dtype of a whole column)
        first = cases.iloc[0]
        return InputError(_first_file(frame, file_of),
                          f"column {first['column']}: {first['check']} failed ({first['failure_case']!r})",
                          rule=first["rule"])
    # One violation per (row, rule): a dataframe-level check reports each column of a failing row.
    per_row = located.assign(pos=located["index"].astype("int64")).drop_duplicates(["pos", "rule"])
    per_row = per_row.sort_values(["pos"], kind="stable")
    first = per_row.iloc[0]
    pos, rule = int(first["pos"]), str(first["rule"])
    problem = _problem(frame, pos, rule, first, bounds, file_of)
    others = Counter(per_row["rule"].iloc[1:])
    if others:
        detail = ", ".join(f"{n} {r}" for r, n in sorted(others.items()))
        problem += f" (and {sum(others.values())} more violation(s): {detail})"
    return InputError(_file_at(frame, pos, file_of), problem, row=_row_at(frame, pos), rule=rule)


def _file_at(frame: pd.DataFrame, pos: int, file_of: Mapping[str, str] | None) -> str:
    mapping = file_of or {}
    if "file" in frame.columns:
        value = str(frame["file"].iloc[pos])
        return mapping.get(value, value)
    indicator = str(frame["indicator_id"].iloc[pos])
    return mapping.get(indicator, f"indicator {indicator}")


def _row_at(frame: pd.DataFrame, pos: int) -> int | None:
    if "row" not in frame.columns:
        return None
    value = pd.to_numeric(pd.Series([frame["row"].iloc[pos]]), errors="coerce").iloc[0]
    return None if pd.isna(value) else int(value)


def _where(frame: pd.DataFrame, pos: int) -> str:
    r = frame.iloc[pos]
    return f"indicator {r['indicator_id']}, country {r['iso3']}, year {r['year']}"


def _problem(frame: pd.DataFrame, pos: int, rule: str, case: pd.Series,
             bounds: Mapping[str, tuple[float, float]], file_of: Mapping[str, str] | None) -> str:
    r = frame.iloc[pos]
    if rule == RULE_BOUNDS:
        value = float(r["value"])
        low, high = bounds[str(r["indicator_id"])]
        side = f"above {high:g}" if value > high else f"below {low:g}"
        return f"value {value:g} {side} for {_where(frame, pos)}"
    if rule == RULE_FINITE:
        value = pd.to_numeric(pd.Series([r["value"]]), errors="coerce").iloc[0]
        shown = "is missing" if pd.isna(value) else f"{float(value)} is not a finite number"
        return f"value {shown} for {_where(frame, pos)}"
    if rule == RULE_YEAR:
        return (f"year {r['year']} outside {YEAR_MIN}..{YEAR_MAX} for indicator {r['indicator_id']}, "
                f"country {r['iso3']}")
    if rule == RULE_ISO3_FORMAT:
        return f"iso3 {r['iso3']!r} is not three upper-case letters (indicator {r['indicator_id']}, year {r['year']})"
    if rule == RULE_ISO3_KNOWN:
        return (f"iso3 {r['iso3']} is not an economy of the countries table "
                f"(indicator {r['indicator_id']}, year {r['year']})")
    if rule == RULE_UNIQUE:
        return f"duplicate key (iso3, indicator_id, year) for {_where(frame, pos)}{_earlier(frame, pos, file_of)}"
    if rule == RULE_NOT_NULL:
        return f"column {case['column']} is empty (missing value) in an indicator row"
    check = str(case["check"])
    if check.startswith("coerce_dtype"):
        wanted = check[len("coerce_dtype("):-1].strip("'")
        return f"column {case['column']}: {case['failure_case']!r} cannot be read as {wanted}"
    return f"column {case['column']}: {case['failure_case']!r} fails {check}"


def _earlier(frame: pd.DataFrame, pos: int, file_of: Mapping[str, str] | None) -> str:
    """Where the first occurrence of a duplicated key is (only evaluated on the error path)."""
    key = frame.loc[frame.index[pos], KEY]
    same = (frame["iso3"] == key["iso3"]) & (frame["indicator_id"] == key["indicator_id"]) & (
        pd.to_numeric(frame["year"], errors="coerce") == pd.to_numeric(pd.Series([key["year"]])).iloc[0])
    first = int(np.flatnonzero(same.to_numpy(dtype=bool))[0])
    if first == pos:
        return ""
    row = _row_at(frame, first)
    return f"; first seen in {_file_at(frame, first, file_of)}" + (f", row {row}" if row is not None else "")
