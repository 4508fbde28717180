"""The stored tables of ``data/processed/``, each declared once.

A field dictionary (:data:`FIELDS`) describes every column name the store uses: its type, meaning,
unit and value rules. A table (:data:`TABLES`) lists its columns (by field name, with the table's own
nullability), its primary key, its sort order and the rules that relate columns of a row. Everything
else is derived from these declarations: the pandera schemas (``analysis.pipeline.schema``), the
arrow schema the build writes, the dtypes the reader restores (``analysis.store.reader``), empty
tables (:func:`empty_frame`) and the hash the manifest records (:func:`declaration_sha256`).

The manifest records :data:`TABLES_VERSION` (bumped when a layout changes on purpose) and the hash of
the declarations, so any change here rebuilds the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from analysis.core.errors import StoreError
from analysis.core.fingerprint import bytes_sha256

#: Version of the stored layout; 2 added vintages (key, ``current``), uncertainty bounds, flags and
#: the ``source_aggregates`` table; 3 the sources' row attributes ``observation_status`` and ``nature``
#: and ``current`` decided per concept.
TABLES_VERSION = 3

YEAR_MIN, YEAR_MAX = 1950, 2100
ISO3_PATTERN = r"^[A-Z]{3}$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

#: logical type -> (pandas dtype, pandas dtype when the column may be empty, arrow type)
TYPES: dict[str, tuple[str, str, pa.DataType]] = {
    "string": ("string", "string", pa.string()),
    "int16": ("int16", "Int16", pa.int16()),
    "int64": ("int64", "Int64", pa.int64()),
    "float64": ("float64", "float64", pa.float64()),
    "bool": ("bool", "boolean", pa.bool_()),
}


@dataclass(frozen=True)
class Field:
    """One column meaning, shared by every table that stores it."""

    name: str
    type: str
    description: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    finite: bool = False


@dataclass(frozen=True)
class Column:
    """A field as one table stores it. ``detail`` columns are returned by the API only when asked;
    ``default`` is the value of a row that does not state it (None: none)."""

    field: Field
    nullable: bool = False
    detail: bool = False
    default: object = None

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def dtype(self) -> str:
        plain, nullable, _ = TYPES[self.field.type]
        return nullable if self.nullable else plain

    @property
    def arrow_type(self) -> pa.DataType:
        return TYPES[self.field.type][2]


@dataclass(frozen=True)
class Relation:
    """A rule between two columns of a row.

    ``at_most``: left <= right wherever both are set. ``empty_unless``: left is empty unless right
    is true (or, for a text column, set).
    """

    name: str
    kind: str
    left: str
    right: str


@dataclass(frozen=True)
class Table:
    """One stored table: ``<name>.parquet`` in the store."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    sort_by: tuple[str, ...]
    relations: tuple[Relation, ...] = ()
    #: with a ``current`` column: the primary key without the vintage, unique among current rows
    current_key: tuple[str, ...] = ()

    def names(self, *, detail: bool = True) -> list[str]:
        return [c.name for c in self.columns if detail or not c.detail]

    def dtypes(self) -> dict[str, str]:
        return {c.name: c.dtype for c in self.columns}

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in self.columns])


# --------------------------------------------------------------------------------------------
# The field dictionary


def _fields(*fields: Field) -> dict[str, Field]:
    return {f.name: f for f in fields}


_FINITE = {"finite": True}

FIELDS: dict[str, Field] = _fields(
    Field("iso3", "string", "ISO 3166-1 alpha-3 code of an economy of the countries table", pattern=ISO3_PATTERN),
    Field("year", "int16", "year of the observation (first year of a multi-year period)", "year",
          minimum=YEAR_MIN, maximum=YEAR_MAX),
    Field("indicator_id", "string", "catalogue id of the indicator (data/indicators.toml)"),
    Field("value", "float64", "the observed (or projected) value", "the row's unit", **_FINITE),
    Field("lower", "float64", "lower bound of the value's uncertainty interval, as published", "the row's unit",
          **_FINITE),
    Field("upper", "float64", "upper bound of the value's uncertainty interval, as published", "the row's unit",
          **_FINITE),
    Field("unit", "string", "unit of value, lower and upper (from the catalogue)"),
    Field("source_id", "string", "source dataset id(s) of data/sources.toml, joined by '+' for derived values"),
    Field("vintage", "string", "release of the source the value comes from ('; '-joined for derived values)"),
    Field("current", "bool", "true for the rows of the series that stands for its concept now (the catalogue's "
          "[[concept]] rule) in the newest vintage of that series; other series are kept with false"),
    Field("projection", "bool", "true where the value is a projection, not an estimate"),
    Field("flag", "string", "quality flag of the value (e.g. 'suspect'); empty when none"),
    Field("flag_reason", "string", "why the value is flagged"),
    Field("observation_status", "string", "the source's observation status of the value, as published (UN SDG: "
          "a normal, b break in series, e estimated, u low reliability, ...); an attribute, never a filter"),
    Field("nature", "string", "the source's nature of the value, as published (UN SDG: c country data, ca country "
          "adjusted, e estimated, m modelled, n non-relevant, ...); an attribute, never a filter"),
    # countries
    Field("name", "string", "display name (references table for the focus countries, else World Bank, else WPP)"),
    Field("m49", "int64", "UN M49 numeric code", minimum=1, maximum=999),
    Field("wb_region", "string", "World Bank region (newest metadata vintage)"),
    Field("wb_income_group", "string", "World Bank income group (newest metadata vintage)"),
    Field("asean_joined", "string", "date the economy joined ASEAN (ISO date); empty for non-members",
          pattern=DATE_PATTERN),
    Field("plus_three", "bool", "one of the Plus Three (China, Japan, Republic of Korea)"),
    Field("focus", "bool", "one of the focus countries (ASEAN members and the Plus Three)"),
    Field("in_wb", "bool", "listed as an economy by the World Bank metadata"),
    Field("in_wpp", "bool", "listed as a country by WPP"),
    Field("wb_name", "string", "World Bank table name"),
    Field("wpp_name", "string", "WPP name"),
    Field("wb_metadata_note", "string", "what older World Bank metadata vintages said differently"),
    # latest
    Field("ref_year", "int16", "last year of the window the latest value was looked for in", "year",
          minimum=YEAR_MIN, maximum=YEAR_MAX),
    Field("window", "int16", "length of that window", "years", minimum=1),
    # aggregates
    Field("group", "string", "group of economies (e.g. ASEAN, ASEAN+3)"),
    Field("median", "float64", "unweighted median over the reporting members", "the row's unit", **_FINITE),
    Field("n", "int64", "members with a value", "economies", minimum=0),
    Field("N", "int64", "members of the group", "economies", minimum=0),
    Field("coverage", "string", "'n of N'"),
    Field("coverage_ok", "bool", "enough members report for the median"),
    Field("weighted_mean", "float64", "population-weighted mean over the reporting members", "the row's unit",
          **_FINITE),
    Field("n_weighted", "int64", "members with a value and a population", "economies", minimum=0),
    Field("coverage_weighted", "string", "'n_weighted of N'"),
    Field("coverage_weighted_ok", "bool", "enough members report for the weighted mean"),
    Field("composition", "string", "the members, comma-separated ISO3 codes"),
    # source aggregates
    Field("geo", "string", "the source's code of the aggregate (its entity name where it gives no code)"),
    Field("geo_scheme", "string", "code scheme of the source's geo column", pattern=r"^(iso3|m49|ilo)$"),
)


def _columns(*specs: str | tuple[str, dict]) -> tuple[Column, ...]:
    """Columns by field name; ``(name, {"nullable": True, ...})`` for a table's own settings."""
    out = []
    for spec in specs:
        name, options = (spec, {}) if isinstance(spec, str) else spec
        out.append(Column(FIELDS[name], **options))
    return tuple(out)


_EMPTY = {"nullable": True}
_DETAIL = {"nullable": True, "detail": True}
# A row that does not say otherwise (synthetic stores, source aggregates) is the current one.
_CURRENT = ("current", {"detail": True, "default": True})

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("indicators", "one value per economy, indicator, year and source vintage",
          _columns("iso3", "year", "indicator_id", "value", ("lower", _DETAIL), ("upper", _DETAIL), "unit",
                   "source_id", "vintage", _CURRENT, "projection", ("flag", _DETAIL),
                   ("flag_reason", _DETAIL), ("observation_status", _DETAIL), ("nature", _DETAIL)),
          primary_key=("iso3", "indicator_id", "year", "vintage"),
          sort_by=("indicator_id", "iso3", "year", "vintage"),
          relations=(Relation("lower_at_most_value", "at_most", "lower", "value"),
                     Relation("value_at_most_upper", "at_most", "value", "upper"),
                     Relation("flag_reason_only_when_flagged", "empty_unless", "flag_reason", "flag")),
          current_key=("iso3", "indicator_id", "year")),
    Table("countries", "the economies: codes, names, World Bank classification, ASEAN and Plus Three membership",
          _columns("iso3", "name", ("m49", _EMPTY), ("wb_region", _EMPTY), ("wb_income_group", _EMPTY),
                   ("asean_joined", _EMPTY), "plus_three", "focus", "in_wb", "in_wpp", ("wb_name", _EMPTY),
                   ("wpp_name", _EMPTY), ("wb_metadata_note", _EMPTY)),
          primary_key=("iso3",), sort_by=("iso3",)),
    Table("latest", "each indicator's latest current value per economy within its window (gaps kept)",
          _columns("iso3", "indicator_id", ("year", _EMPTY), ("value", _EMPTY), ("unit", _EMPTY),
                   ("source_id", _EMPTY), ("vintage", _EMPTY), ("projection", _EMPTY), ("ref_year", _EMPTY),
                   "window"),
          primary_key=("iso3", "indicator_id"), sort_by=("indicator_id", "iso3")),
    Table("aggregates", "the project's group statistics per indicator and year (analysis.rules.aggregates)",
          _columns("group", "indicator_id", "year", ("unit", _EMPTY), ("median", _EMPTY), "n", "N", "coverage",
                   "coverage_ok", ("weighted_mean", _EMPTY), "n_weighted", "coverage_weighted",
                   "coverage_weighted_ok", "composition", "projection"),
          primary_key=("group", "indicator_id", "year"), sort_by=("group", "indicator_id", "year"),
          relations=(Relation("n_at_most_N", "at_most", "n", "N"),
                     Relation("n_weighted_at_most_n", "at_most", "n_weighted", "n"),
                     Relation("median_only_when_covered", "empty_unless", "median", "coverage_ok"),
                     Relation("weighted_mean_only_when_covered", "empty_unless", "weighted_mean",
                              "coverage_weighted_ok"))),
    Table("age_structure", "population by 5-year age group (indicator_id pop_age_<group>) of the focus countries",
          _columns("iso3", "year", "indicator_id", "value", "unit", "source_id", "vintage", "projection"),
          primary_key=("iso3", "indicator_id", "year", "vintage"), sort_by=("iso3", "year", "indicator_id")),
    Table("source_aggregates", "aggregates published by the sources themselves (regions, income groups, "
          "ILO and M49 groupings), kept apart from the economies and from the project's own aggregates",
          _columns("source_id", "geo", "geo_scheme", "indicator_id", "year", "value", "unit", "vintage",
                   _CURRENT, "projection"),
          primary_key=("source_id", "geo_scheme", "geo", "indicator_id", "year", "vintage"),
          sort_by=("indicator_id", "geo_scheme", "geo", "year", "vintage"),
          current_key=("source_id", "geo_scheme", "geo", "indicator_id", "year")),
)}


# --------------------------------------------------------------------------------------------
# Derived helpers


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(f"unknown store table {name!r}; the store has {', '.join(TABLES)}") from None


def empty_frame(name: str) -> pd.DataFrame:
    """A table without rows, with the declared columns and dtypes."""
    return pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in table(name).columns})


def filled(column: Column, index: pd.Index) -> pd.Series:
    """The column for rows that do not state it: its default, else empty."""
    return pd.Series(column.default, index=index, dtype=column.dtype)


def required_columns(name: str) -> list[Column]:
    """The columns a frame must bring: neither nullable nor with a default."""
    return [c for c in table(name).columns if not c.nullable and c.default is None]


def conform(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The declared columns of ``frame`` in declared order and dtypes, index reset.

    A missing column is added with its default, or empty where it may be; a missing required one
    is a StoreError (the tables are computed by the package: a bug, not a user's input).
    """
    declared = table(name)
    missing = [c.name for c in required_columns(name) if c.name not in frame.columns]
    if missing:
        raise StoreError(f"{name} table: column(s) {', '.join(missing)} missing; the declaration "
                         f"(analysis.config.tables) requires them")
    index = pd.RangeIndex(len(frame))
    data = {c.name: frame[c.name].reset_index(drop=True) if c.name in frame.columns else filled(c, index)
            for c in declared.columns}
    out = pd.DataFrame(data, index=index)
    changes = {c: t for c, t in declared.dtypes().items() if str(out[c].dtype) != t}
    return out.astype(changes) if changes else out


def declaration() -> dict:
    """Every table declaration as plain data (what the manifest's hash covers)."""
    def column(c: Column) -> dict:
        f = c.field
        return {"name": f.name, "dtype": c.dtype, "nullable": c.nullable, "detail": c.detail, "default": c.default,
                "description": f.description, "unit": f.unit, "minimum": f.minimum, "maximum": f.maximum,
                "pattern": f.pattern, "finite": f.finite}

    return {"version": TABLES_VERSION, "tables": {
        t.name: {"description": t.description, "columns": [column(c) for c in t.columns],
                 "primary_key": list(t.primary_key), "sort_by": list(t.sort_by), "current_key": list(t.current_key),
                 "relations": [[r.name, r.kind, r.left, r.right] for r in t.relations]}
        for t in TABLES.values()}}


def declaration_sha256() -> str:
    return bytes_sha256(json.dumps(declaration(), sort_keys=True).encode())
