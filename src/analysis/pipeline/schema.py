"""Pandera schemas of the stored tables, and the validation of indicator rows before they are stored.

The schemas are derived from the declarations in :mod:`analysis.config.tables` (:func:`schema_of`);
nothing about a column is written here. :func:`validate_indicators` checks the rows the build is
about to store against the indicators schema plus the catalogue's value bounds and the countries
table, and turns the first violation into an :class:`~analysis.core.errors.InputError` that names
the source file, its line and the rule (the count of further violations is added). All checks are
vectorised (pandera runs them column-wise), so a million rows take well under a second.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import cache

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from analysis.config import tables
from analysis.config.tables import YEAR_MAX, YEAR_MIN
from analysis.core.errors import InputError, StoreError

INDICATORS = "indicators"

# Rule names shown in messages ([rule: ...]); checks derived from a field are named
# <field>_range, <field>_finite and <field>_format, so "year_range", "value_finite", "iso3_format".
RULE_TYPES = "types"
RULE_NOT_NULL = "not_null"
RULE_UNIQUE = "unique_key"
RULE_CURRENT = "one_current_vintage"
RULE_YEAR = "year_range"
RULE_FINITE = "value_finite"
RULE_BOUNDS = "value_in_bounds"
RULE_ISO3_FORMAT = "iso3_format"
RULE_ISO3_KNOWN = "iso3_known"
_DERIVED_SUFFIXES = ("_range", "_finite", "_format")


def _finite(series: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(series.to_numpy(dtype="float64", na_value=np.nan)), index=series.index)


# Checks are named functions (not pandera built-ins) so that failure cases carry our rule names.


def _range_check(field: tables.Field) -> pa.Check:
    low = -np.inf if field.minimum is None else field.minimum
    high = np.inf if field.maximum is None else field.maximum
    return pa.Check(lambda s: (s >= low) & (s <= high), name=f"{field.name}_range")


def _pattern_check(field: tables.Field) -> pa.Check:
    pattern = field.pattern
    return pa.Check(lambda s: s.str.fullmatch(pattern).fillna(False).astype(bool), name=f"{field.name}_format")


def field_checks(field: tables.Field) -> list[pa.Check]:
    """The column checks a field's declaration asks for."""
    checks = []
    if field.minimum is not None or field.maximum is not None:
        checks.append(_range_check(field))
    if field.finite:
        checks.append(pa.Check(_finite, name=f"{field.name}_finite"))
    if field.pattern is not None:
        checks.append(_pattern_check(field))
    return checks


def _column(column: tables.Column) -> pa.Column:
    return pa.Column(pd.api.types.pandas_dtype(column.dtype), field_checks(column.field),
                     nullable=column.nullable, name=column.name)


def _relation_check(rel: tables.Relation) -> pa.Check:
    def holds(df: pd.DataFrame) -> pd.Series:
        left, right = df[rel.left], df[rel.right]
        if rel.kind == "at_most":
            return (left.isna() | right.isna() | (left <= right)).fillna(True).astype(bool)
        is_set = right.fillna(False).astype(bool) if pd.api.types.is_bool_dtype(right.dtype) else right.notna()
        return (left.isna() | is_set).astype(bool)

    if rel.kind not in ("at_most", "empty_unless"):
        raise ValueError(f"relation {rel.name}: unknown kind {rel.kind!r}")
    return pa.Check(holds, name=rel.name)


def _current_check(declared: tables.Table) -> pa.Check:
    """Among current rows, the key without the vintage is unique: one current vintage per series."""
    key = list(declared.current_key)

    def one_current(df: pd.DataFrame) -> pd.Series:
        current = df["current"].to_numpy(dtype=bool)
        repeated = np.zeros(len(df), dtype=bool)
        repeated[current] = df.loc[current, key].duplicated(keep="first").to_numpy()
        return pd.Series(~repeated, index=df.index)

    return pa.Check(one_current, name=RULE_CURRENT)


def table_checks(declared: tables.Table) -> list[pa.Check]:
    checks = [_relation_check(r) for r in declared.relations]
    if declared.current_key:
        checks.append(_current_check(declared))
    return checks


@cache
def schema_of(name: str) -> pa.DataFrameSchema:
    """The pandera schema of a stored table, from its declaration: dtypes, nullability, value rules,
    relations between columns, a unique primary key and no undeclared column."""
    declared = tables.table(name)
    return pa.DataFrameSchema({c.name: _column(c) for c in declared.columns}, checks=table_checks(declared),
                              unique=list(declared.primary_key), report_duplicates="exclude_first", strict=True,
                              name=name)


def validate_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Check a derived table (countries, latest, aggregates, ...) before it is stored.

    These tables are computed by the package itself, so a violation is a bug or a stale store,
    reported as :class:`StoreError` naming the table, the rule and the first failing value.
    """
    try:
        return schema_of(name).validate(df, lazy=True)
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

    stored = schema_of(INDICATORS)
    declared = tables.table(INDICATORS)
    columns = dict(stored.columns)
    year = tables.FIELDS["year"]
    columns["year"] = pa.Column("int64", _range_check(year), coerce=True)
    columns["value"] = pa.Column("float64", [pa.Check(_finite, name=RULE_FINITE),
                                             pa.Check(in_bounds, name=RULE_BOUNDS)], coerce=True)
    columns["iso3"] = pa.Column(pd.StringDtype(), [*field_checks(tables.FIELDS["iso3"]),
                                                   pa.Check(lambda s: s.isin(known), name=RULE_ISO3_KNOWN)])
    for name in ("current", "projection"):
        columns[name] = pa.Column(bool, coerce=True)
    columns["row"] = pa.Column("int64", coerce=True, required=False)
    columns["file"] = pa.Column(nullable=True, required=False)
    return pa.DataFrameSchema(columns, checks=table_checks(declared), unique=list(declared.primary_key),
                              report_duplicates="exclude_first", strict=False, name="indicators (input)")


def validate_indicators(df: pd.DataFrame, *, known_iso3: set[str],
                        bounds: Mapping[str, tuple[float, float]],
                        file_of: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Validate indicator rows before they are stored; return them typed for the store.

    ``df`` has the required columns of the declared indicators table (iso3, year, indicator_id,
    value, unit, source_id, vintage, projection; absent columns that may be empty, such as lower,
    upper, flag, flag_reason, are added empty, and ``current`` is added with its default) plus
    ``row`` (1-based line in the source file) and ``file`` (the source file). ``bounds`` maps
    indicator_id to (low, high) inclusive; ``known_iso3`` are the economies of the countries table.
    ``file_of`` optionally maps the values of ``file`` (e.g. registry file ids) to the path shown in
    messages; without a ``file`` column it maps indicator_id to the file.

    On the first violation raises ``InputError(file, row, problem, rule)``; the message gives the
    number of further violations per rule. Returns the rows in the declared columns, order and
    dtypes (without ``row``/``file``), index reset.
    """
    frame, cases = _checked_indicators(df, known_iso3, bounds, file_of)
    if cases is not None:
        raise _to_input_error(frame, cases, bounds, file_of) from None
    return frame


def validate_indicator_chunks(chunks: Iterable[pd.DataFrame], *, known_iso3: set[str],
                              bounds: Mapping[str, tuple[float, float]], file_of: Mapping[str, str] | None = None,
                              keep: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> list[pd.DataFrame]:
    """:func:`validate_indicators` over consecutive chunks of whole indicators, one chunk in memory at a time.

    Every rule is checked within a row, or within one indicator (the primary key and the current-vintage
    key both hold ``indicator_id``), so chunks that never split an indicator find exactly the violations
    of one call on their concatenation, and raise the same error: the first violation in order, with the
    further ones counted over all chunks. Each valid chunk is passed through ``keep`` (e.g. a more compact
    form) before the next is read; the kept chunks are returned in order.
    """
    kept: list[pd.DataFrame] = []
    first: tuple[pd.DataFrame, pd.DataFrame] | None = None
    later: Counter = Counter()
    for chunk in chunks:
        frame, cases = _checked_indicators(chunk, known_iso3, bounds, file_of)
        if cases is None:
            if first is None:
                kept.append(keep(frame) if keep is not None else frame)
        elif first is None:
            first = (frame, cases)
            kept.clear()  # nothing will be stored: free the memory
        else:
            later.update(_violations(cases)["rule"])
    if first is not None:
        raise _to_input_error(*first, bounds, file_of, later=later) from None
    return kept


def _checked_indicators(df: pd.DataFrame, known_iso3: set[str], bounds: Mapping[str, tuple[float, float]],
                        file_of: Mapping[str, str] | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(rows typed for the store, None) when valid, else (the rows as checked, pandera's failure cases)."""
    declared = tables.table(INDICATORS)
    missing = [c.name for c in tables.required_columns(INDICATORS) if c.name not in df.columns]
    if missing:
        raise InputError(_first_file(df, file_of), f"indicator rows lack column(s) {', '.join(missing)}",
                         rule=RULE_TYPES)
    frame = df.reset_index(drop=True)
    absent = {c.name: tables.filled(c, frame.index) for c in declared.columns if c.name not in frame.columns}
    strings = {c.name: frame[c.name].astype(c.dtype)
               for c in declared.columns if c.field.type == "string" and c.name in frame.columns}
    frame = frame.assign(**absent, **strings)
    try:
        _input_schema(frame, set(known_iso3), bounds).validate(frame, lazy=True)
    except SchemaErrors as exc:
        return frame, exc.failure_cases
    except SchemaError as exc:  # non-lazy failures (e.g. a column that cannot be coerced at all)
        raise InputError(_first_file(df, file_of), str(exc).splitlines()[0], rule=RULE_TYPES) from None
    # int64 first: a year held as text or object casts to int16 only through a plain integer.
    return tables.conform(INDICATORS, frame.assign(year=frame["year"].astype("int64"))), None


def _first_file(df: pd.DataFrame, file_of: Mapping[str, str] | None) -> str:
    if "file" in df.columns and len(df):
        value = str(df["file"].iloc[0])
        return (file_of or {}).get(value, value)
    return "indicator rows"


def _rule_of(check: str, column: str | None) -> str:
    """The rule name for a pandera failure: our own check names, else a category."""
    if check in {RULE_BOUNDS, RULE_ISO3_KNOWN, RULE_CURRENT, *_relations()} or check.endswith(_DERIVED_SUFFIXES):
        return check
    if "uniqueness" in check or check.startswith("unique") or "duplicates" in check:
        return RULE_UNIQUE
    if check == "not_nullable":
        return RULE_FINITE if column == "value" else RULE_NOT_NULL
    return RULE_TYPES


def _violations(cases: pd.DataFrame) -> pd.DataFrame:
    """One row per (row position, rule) of pandera's located failure cases, in row order."""
    cases = cases.assign(rule=[_rule_of(str(c), col) for c, col in zip(cases["check"], cases["column"])])
    located = cases.loc[cases["index"].notna()]
    # One violation per (row, rule): a dataframe-level check reports each column of a failing row.
    per_row = located.assign(pos=located["index"].astype("int64")).drop_duplicates(["pos", "rule"])
    return per_row.sort_values(["pos"], kind="stable")


def _to_input_error(frame: pd.DataFrame, cases: pd.DataFrame, bounds: Mapping[str, tuple[float, float]],
                    file_of: Mapping[str, str] | None, later: Counter | None = None) -> InputError:
    """The first offending row (in frame order) as an InputError; other violations counted per rule
    (``later``: those of rows after the frame, already counted)."""
    per_row = _violations(cases)
    if per_row.empty:  # a schema-level problem (missing column, wrong dtype of a whole column)
        first = cases.iloc[0]
        return InputError(_first_file(frame, file_of),
                          f"column {first['column']}: {first['check']} failed ({first['failure_case']!r})",
                          rule=_rule_of(str(first["check"]), first["column"]))
    first = per_row.iloc[0]
    pos, rule = int(first["pos"]), str(first["rule"])
    problem = _problem(frame, pos, rule, first, bounds, file_of)
    others = Counter(per_row["rule"].iloc[1:]) + (later or Counter())
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


# One message per rule: (frame, pos, failure case, bounds, file_of) -> the problem text.


def _bounds_problem(frame, pos, case, bounds, file_of) -> str:
    value = float(frame["value"].iloc[pos])
    low, high = bounds[str(frame["indicator_id"].iloc[pos])]
    side = f"above {high:g}" if value > high else f"below {low:g}"
    return f"value {value:g} {side} for {_where(frame, pos)}"


def _finite_problem(frame, pos, case, bounds, file_of) -> str:
    value = pd.to_numeric(pd.Series([frame["value"].iloc[pos]]), errors="coerce").iloc[0]
    shown = "is missing" if pd.isna(value) else f"{float(value)} is not a finite number"
    return f"value {shown} for {_where(frame, pos)}"


def _year_problem(frame, pos, case, bounds, file_of) -> str:
    r = frame.iloc[pos]
    return f"year {r['year']} outside {YEAR_MIN}..{YEAR_MAX} for indicator {r['indicator_id']}, country {r['iso3']}"


def _iso3_format_problem(frame, pos, case, bounds, file_of) -> str:
    r = frame.iloc[pos]
    return f"iso3 {r['iso3']!r} is not three upper-case letters (indicator {r['indicator_id']}, year {r['year']})"


def _iso3_known_problem(frame, pos, case, bounds, file_of) -> str:
    r = frame.iloc[pos]
    return (f"iso3 {r['iso3']} is not an economy of the countries table "
            f"(indicator {r['indicator_id']}, year {r['year']})")


def _unique_problem(frame, pos, case, bounds, file_of) -> str:
    key = tables.table(INDICATORS).primary_key
    return (f"duplicate key ({', '.join(key)}) for {_where(frame, pos)}, vintage {frame['vintage'].iloc[pos]}"
            f"{_earlier(frame, pos, key, file_of)}")


def _current_problem(frame, pos, case, bounds, file_of) -> str:
    key = tables.table(INDICATORS).current_key
    return (f"more than one current vintage for {_where(frame, pos)} (this one: {frame['vintage'].iloc[pos]})"
            f"{_earlier(frame, pos, key, file_of, among=frame['current'].to_numpy(dtype=bool))}")


def _relations() -> dict[str, tables.Relation]:
    return {r.name: r for r in tables.table(INDICATORS).relations}


def _relation_problem(frame, pos, rel: tables.Relation) -> str:
    left, right = frame[rel.left].iloc[pos], frame[rel.right].iloc[pos]
    rule = f"{rel.left} <= {rel.right}" if rel.kind == "at_most" else f"{rel.left} only when {rel.right} is set"
    return f"{rel.left} {left!r} and {rel.right} {right!r} break the rule {rule} for {_where(frame, pos)}"


def _not_null_problem(frame, pos, case, bounds, file_of) -> str:
    return f"column {case['column']} is empty (missing value) in an indicator row"


_PROBLEMS = {RULE_BOUNDS: _bounds_problem, RULE_FINITE: _finite_problem, RULE_YEAR: _year_problem,
             RULE_ISO3_FORMAT: _iso3_format_problem, RULE_ISO3_KNOWN: _iso3_known_problem,
             RULE_UNIQUE: _unique_problem, RULE_CURRENT: _current_problem, RULE_NOT_NULL: _not_null_problem}


def _problem(frame: pd.DataFrame, pos: int, rule: str, case: pd.Series,
             bounds: Mapping[str, tuple[float, float]], file_of: Mapping[str, str] | None) -> str:
    if rule in _PROBLEMS:
        return _PROBLEMS[rule](frame, pos, case, bounds, file_of)
    if rule in _relations():
        return _relation_problem(frame, pos, _relations()[rule])
    check = str(case["check"])
    if check.startswith("coerce_dtype"):
        wanted = check[len("coerce_dtype("):-1].strip("'")
        return f"column {case['column']}: {case['failure_case']!r} cannot be read as {wanted}"
    return f"column {case['column']}: {case['failure_case']!r} fails {check}"


def _earlier(frame: pd.DataFrame, pos: int, key: tuple[str, ...], file_of: Mapping[str, str] | None,
             among: np.ndarray | None = None) -> str:
    """Where the first row with the key of row ``pos`` is (among the rows ``among`` marks; only
    evaluated on the error path). The year is compared as a number: the input may hold it as text."""
    same = np.ones(len(frame), dtype=bool) if among is None else among.copy()
    for column in key:
        if column == "year":
            years = pd.to_numeric(frame["year"], errors="coerce")
            wanted = pd.to_numeric(pd.Series([frame["year"].iloc[pos]]), errors="coerce").iloc[0]
            same &= (years == wanted).fillna(False).to_numpy(dtype=bool)
        else:
            same &= (frame[column] == frame[column].iloc[pos]).fillna(False).to_numpy(dtype=bool)
    first = int(np.flatnonzero(same)[0])
    if first == pos:
        return ""
    row = _row_at(frame, first)
    return f"; first seen in {_file_at(frame, first, file_of)}" + (f", row {row}" if row is not None else "")
