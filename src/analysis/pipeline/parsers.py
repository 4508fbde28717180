"""Readers for every input format, one function per ``parser`` name in ``data/sources.toml``.

Data parsers return the *raw long frame* of docs/ARCHITECTURE.md::

    geo, geo_scheme, year, series, <dims...>, value, row

with string key columns, ``year`` int64, ``value`` float64 (missing values dropped) and ``row`` the
1-based line of the file the value came from. Entity, concept and metadata parsers return their own
tidy tables (all strings, plus ``row``).

Every parser reads the whole file with pyarrow's CSV reader (no per-row Python on the normal path)
and checks what it relies on. Anything unexpected raises :class:`analysis.errors.InputError` naming
the file by its registry path, the line and the rule broken. When pyarrow rejects a file, a slow
diagnostic pass with the ``csv`` module finds the exact line, so errors stay precise while good
files stay fast.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.config.registry import SourceFile
from analysis.core.errors import InputError
from analysis.pipeline.parse_base import (
    _DDF_NAME,
    _YEAR_HEADER,
    DDF_GEO_KEYS,
    DDF_TIME_KEYS,
    _finish,
    _header_fields,
    _line_numbers,
    _read_table,
    _require_columns,
    _require_rows,
    _strings_frame,
    read_checked_bytes,
)
from analysis.pipeline.parsers_gho import parse_gho_odata

DATAHUB_COLUMNS = ("Country Name", "Country Code", "Year", "Value")


def parse_datahub_tidy(path: Path, source_file: SourceFile) -> pd.DataFrame:
    """datahub.io WDI: ``Country Name,Country Code,Year,Value``; series = the folder name, upper-case."""
    data = read_checked_bytes(path, source_file)
    _require_columns(_header_fields(data), DATAHUB_COLUMNS, source_file, row=1)
    table = _read_table(data, source_file, header_line=1, types={
        "Country Name": pa.string(), "Country Code": pa.string(), "Year": pa.int64(), "Value": pa.float64()})
    _require_rows(table, source_file, 1)
    return _finish(source_file, geo=table.column("Country Code").combine_chunks(), geo_scheme="iso3",
                   year=table.column("Year").combine_chunks(), series=Path(source_file.path).parent.name.upper(),
                   dims={}, value=table.column("Value").combine_chunks(), rows=_line_numbers(table.num_rows, 1))


# ----------------------------------------------------------------------------- World Bank API CSV

WB_PREAMBLE_SOURCE = "Data Source"
WB_PREAMBLE_UPDATED = "Last Updated Date"
WB_KEY_COLUMNS = ("Country Name", "Country Code", "Indicator Name", "Indicator Code")


def read_worldbank_preamble(data: bytes, source_file: SourceFile) -> tuple[str, int, int]:
    """Check the 4 preamble lines; return (last updated date, header line number, header byte offset)."""
    lines = data.split(b"\n", 5)
    if len(lines) < 6:
        raise InputError(source_file.path, "file ends inside the preamble", row=len(lines), rule="preamble")
    first = next(csv.reader([lines[0].decode("utf-8").rstrip("\r")]), [])
    third = next(csv.reader([lines[2].decode("utf-8").rstrip("\r")]), [])
    if not first or first[0] != WB_PREAMBLE_SOURCE:
        raise InputError(source_file.path, f"line 1 should start with \"{WB_PREAMBLE_SOURCE}\", found {first[:2]}",
                         row=1, rule="preamble")
    if not third or third[0] != WB_PREAMBLE_UPDATED or len(third) < 2 or not re.match(r"^\d{4}-\d{2}-\d{2}$", third[1]):
        raise InputError(source_file.path,
                         f"line 3 should be \"{WB_PREAMBLE_UPDATED}\",\"YYYY-MM-DD\", found {third[:2]}",
                         row=3, rule="preamble")
    updated = third[1]
    if source_file.vintage and source_file.vintage != updated:
        raise InputError(source_file.path,
                         f"Last Updated Date is {updated} but the registry pins vintage {source_file.vintage}",
                         row=3, rule="preamble: last updated date")
    if lines[1].strip() or lines[3].strip():
        raise InputError(source_file.path, "lines 2 and 4 of the preamble should be blank", row=2, rule="preamble")
    offset = sum(len(line) + 1 for line in lines[:4])
    return updated, 5, offset


def parse_worldbank_api(path: Path, source_file: SourceFile) -> pd.DataFrame:
    """World Bank API bulk CSV: preamble, then wide year columns; reshaped to long."""
    data = read_checked_bytes(path, source_file)
    _, header_line, offset = read_worldbank_preamble(data, source_file)
    header = _header_fields(data, offset)
    _require_columns(header, WB_KEY_COLUMNS, source_file, row=header_line)
    years = [h for h in header if _YEAR_HEADER.match(h)]
    if not years:
        raise InputError(source_file.path, "no year columns in the header", row=header_line, rule="required columns")
    stray = [h for h in header if h and h not in WB_KEY_COLUMNS and h not in years]
    if stray:
        raise InputError(source_file.path, f"unexpected column(s) {stray}", row=header_line, rule="required columns")
    types = {c: pa.string() for c in WB_KEY_COLUMNS} | {y: pa.float64() for y in years}
    if "" in header:  # the export ends every line with a comma: an unnamed, empty last column
        types[""] = pa.string()
    table = _read_table(data, source_file, header_line=header_line, types=types, offset=offset)
    _require_rows(table, source_file, header_line)
    if "" in table.column_names and table.column("").null_count != table.num_rows:
        first = int(np.flatnonzero(~np.asarray(pc.is_null(table.column("")).to_numpy(zero_copy_only=False)))[0])
        raise InputError(source_file.path, "values found in the unnamed last column",
                         row=header_line + 1 + first, rule="rectangular CSV")
    codes = table.column("Indicator Code").unique().to_pylist()
    if len(codes) != 1 or codes[0] is None:
        raise InputError(source_file.path, f"expected one Indicator Code, found {codes}", rule="one series per file")
    n, k = table.num_rows, len(years)
    matrix = np.column_stack([table.column(y).to_numpy(zero_copy_only=False) for y in years]).astype(np.float64)
    # Long order: country by country, years ascending within each (row-major ravel of the matrix).
    geo = pa.array(np.repeat(np.asarray(table.column("Country Code").to_pylist(), dtype=object), k), pa.string())
    year = pa.array(np.tile(np.asarray(years, dtype=np.int64), n))
    rows = np.repeat(_line_numbers(n, header_line), k)
    return _finish(source_file, geo=geo, geo_scheme="iso3", year=year, series=codes[0], dims={},
                   value=pa.array(matrix.ravel()), rows=rows)


def parse_worldbank_api_metadata_country(path: Path, source_file: SourceFile) -> pd.DataFrame:
    """``Metadata_Country_*.csv``: iso3, name, region, income_group, special_notes, row.

    Aggregates (regions, income groups) have an empty region; they are kept, with region missing.
    """
    data = read_checked_bytes(path, source_file)
    required = ("Country Code", "Region", "IncomeGroup", "TableName")
    header = _header_fields(data)
    _require_columns(header, required, source_file, row=1)
    types = {h: pa.string() for h in header}
    table = _read_table(data, source_file, header_line=1, types=types)
    _require_rows(table, source_file, 1)
    raw = _strings_frame(table, 1)
    frame = pd.DataFrame({
        "iso3": raw["Country Code"], "name": raw["TableName"], "region": raw["Region"],
        "income_group": raw["IncomeGroup"],
        "special_notes": raw["SpecialNotes"] if "SpecialNotes" in raw else pd.array([pd.NA] * len(raw), dtype="str"),
        "row": raw["row"],
    })
    _check_unique_column(frame, "iso3", source_file)
    return frame


def parse_worldbank_api_metadata_indicator(path: Path, source_file: SourceFile) -> pd.DataFrame:
    """``Metadata_Indicator_*.csv``: code, name, source_note, source_organization, row."""
    data = read_checked_bytes(path, source_file)
    required = ("INDICATOR_CODE", "INDICATOR_NAME", "SOURCE_NOTE", "SOURCE_ORGANIZATION")
    header = _header_fields(data)
    _require_columns(header, required, source_file, row=1)
    table = _read_table(data, source_file, header_line=1, types={h: pa.string() for h in header})
    _require_rows(table, source_file, 1)
    raw = _strings_frame(table, 1)
    frame = pd.DataFrame({"code": raw["INDICATOR_CODE"], "name": raw["INDICATOR_NAME"],
                          "source_note": raw["SOURCE_NOTE"], "source_organization": raw["SOURCE_ORGANIZATION"],
                          "row": raw["row"]})
    _check_unique_column(frame, "code", source_file)
    return frame


def _check_unique_column(frame: pd.DataFrame, column: str, source_file: SourceFile) -> None:
    dup = frame[column].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(source_file.path, f"duplicate {column} {frame[column].iloc[i]!r}",
                         row=int(frame["row"].iloc[i]), rule="unique key")


# ----------------------------------------------------------------------------- GHED long CSV

GHED_COLUMNS = ("iso3_code", "year", "value", "unit", "entity_name")


def parse_ghed_long(path: Path, source_file: SourceFile) -> pd.DataFrame:
    """ONE's GHED output: ``iso3_code,year,value,unit[,source],entity_name``; series = file stem.

    Regional rows have no ``iso3_code``; their ``entity_name`` is used as geo so that they are
    kept as source aggregates (and never collide with each other in the key check).
    """
    data = read_checked_bytes(path, source_file)
    header = _header_fields(data)
    _require_columns(header, GHED_COLUMNS, source_file, row=1)
    dims = ["unit"] + (["source"] if "source" in header else [])
    types = {c: pa.string() for c in header} | {"year": pa.int64(), "value": pa.float64()}
    table = _read_table(data, source_file, header_line=1, types=types)
    _require_rows(table, source_file, 1)
    geo = pc.coalesce(table.column("iso3_code"), table.column("entity_name")).combine_chunks()
    return _finish(source_file, geo=geo, geo_scheme="iso3", year=table.column("year").combine_chunks(),
                   series=Path(source_file.path).stem,
                   dims={d: table.column(d).combine_chunks() for d in dims},
                   value=table.column("value").combine_chunks(), rows=_line_numbers(table.num_rows, 1))


# ----------------------------------------------------------------------------- DDF


def ddf_datapoint_keys(file_name: str, source_file: SourceFile) -> tuple[str, list[str]]:
    """Measure and key columns from ``ddf--datapoints--<measure>--by--<k1>--<k2>...csv``.

    A key may carry a partition suffix (``country-104``): the column is the part before the dash.
    """
    match = _DDF_NAME.match(file_name)
    if not match:
        raise InputError(source_file.path, f"file name {file_name!r} is not ddf--datapoints--<measure>--by--<keys>.csv",
                         rule="DDF file name")
    keys = [k.split("-", 1)[0] for k in match["keys"].split("--")]
    return match["measure"], keys


def parse_ddf_datapoints(path: Path, source_file: SourceFile) -> pd.DataFrame:
    """DDF datapoints: keys from the file name; the geo key gives the scheme; other keys are dims."""
    measure, keys = ddf_datapoint_keys(Path(source_file.path).name, source_file)
    geo_keys = [k for k in keys if k in DDF_GEO_KEYS]
    time_keys = [k for k in keys if k in DDF_TIME_KEYS]
    if len(geo_keys) != 1 or len(time_keys) != 1:
        raise InputError(source_file.path, f"keys {keys} need exactly one geo key {sorted(DDF_GEO_KEYS)} "
                         f"and one time key {list(DDF_TIME_KEYS)}", rule="DDF file name")
    geo_key, time_key = geo_keys[0], time_keys[0]
    data = read_checked_bytes(path, source_file)
    header = _header_fields(data)
    _require_columns(header, [*keys, measure], source_file, row=1)
    extra = [h for h in header if h not in keys and h != measure]
    if extra:
        raise InputError(source_file.path, f"unexpected column(s) {extra}", row=1, rule="required columns")
    types = {k: pa.string() for k in keys} | {time_key: pa.int64(), measure: pa.float64()}
    table = _read_table(data, source_file, header_line=1, types=types)
    _require_rows(table, source_file, 1)
    dims = {k: table.column(k).combine_chunks() for k in keys if k not in (geo_key, time_key)}
    return _finish(source_file, geo=table.column(geo_key).combine_chunks(), geo_scheme=DDF_GEO_KEYS[geo_key],
                   year=table.column(time_key).combine_chunks(), series=measure, dims=dims,
                   value=table.column(measure).combine_chunks(), rows=_line_numbers(table.num_rows, 1))


def parse_ddf_entities(path: Path, source_file: SourceFile) -> pd.DataFrame:
    """DDF entity file: all columns as strings, plus ``row``; the first column is the unique key."""
    data = read_checked_bytes(path, source_file)
    header = _header_fields(data)
    if not header or not header[0]:
        raise InputError(source_file.path, "header has no key column", row=1, rule="required columns")
    table = _read_table(data, source_file, header_line=1, types={h: pa.string() for h in header})
    _require_rows(table, source_file, 1)
    frame = _strings_frame(table, 1)
    if frame[header[0]].isna().any():
        i = int(np.flatnonzero(frame[header[0]].isna().to_numpy())[0])
        raise InputError(source_file.path, f"empty {header[0]}", row=int(frame["row"].iloc[i]), rule="complete key")
    _check_unique_column(frame, header[0], source_file)
    return frame


def parse_ddf_concepts(path: Path, source_file: SourceFile) -> pd.DataFrame:
    """DDF concepts file: like an entity file keyed by ``concept``."""
    frame = parse_ddf_entities(path, source_file)
    if "concept" not in frame.columns:
        raise InputError(source_file.path, "missing column concept", row=1, rule="required columns")
    return frame


# ----------------------------------------------------------------------------- Our World in Data


def parse_owid(path: Path, source_file: SourceFile) -> pd.DataFrame:
    """OWID grapher CSV: ``Entity,Code,Year,<one value column>``; series = file stem.

    Rows with an empty Code are aggregates; their Entity is used as geo (kept as a source aggregate).
    ``OWID_*`` codes are kept as they are and are source aggregates too.
    """
    data = read_checked_bytes(path, source_file)
    header = _header_fields(data)
    _require_columns(header, ("Entity", "Code", "Year"), source_file, row=1)
    values = [h for h in header if h not in ("Entity", "Code", "Year")]
    if len(values) != 1:
        raise InputError(source_file.path, f"expected one value column after Entity,Code,Year, found {values}",
                         row=1, rule="required columns")
    types = {"Entity": pa.string(), "Code": pa.string(), "Year": pa.int64(), values[0]: pa.float64()}
    table = _read_table(data, source_file, header_line=1, types=types)
    _require_rows(table, source_file, 1)
    geo = pc.coalesce(table.column("Code"), table.column("Entity")).combine_chunks()
    return _finish(source_file, geo=geo, geo_scheme="iso3", year=table.column("Year").combine_chunks(),
                   series=Path(source_file.path).stem, dims={}, value=table.column(values[0]).combine_chunks(),
                   rows=_line_numbers(table.num_rows, 1))


Parser = Callable[[Path, SourceFile], pd.DataFrame]

PARSERS: dict[str, Parser] = {
    "datahub_tidy": parse_datahub_tidy,
    "worldbank_api": parse_worldbank_api,
    "worldbank_api_metadata_country": parse_worldbank_api_metadata_country,
    "worldbank_api_metadata_indicator": parse_worldbank_api_metadata_indicator,
    "ghed_long": parse_ghed_long,
    "ddf_datapoints": parse_ddf_datapoints,
    "ddf_entities": parse_ddf_entities,
    "ddf_concepts": parse_ddf_concepts,
    "owid": parse_owid,
    "gho_odata": parse_gho_odata,
}

#: Parsers that return the raw long frame (the others return their own tidy tables).
DATA_PARSERS = frozenset({"datahub_tidy", "worldbank_api", "ghed_long", "ddf_datapoints", "owid", "gho_odata"})

#: Columns of a raw long frame that describe its value (uncertainty bounds), never key dims.
VALUE_ATTRIBUTES = ("lower", "upper")
#: Key columns of some sources that describe a value rather than what it measures (UN SDG: at most one
#: per economy, year and series); the store keeps them as row attributes, never as filters.
ROW_ATTRIBUTES = ("observation_status", "nature")


def parse_file(source_file: SourceFile, raw_dir: Path | None = None) -> pd.DataFrame:
    """Parse one registry file from ``raw_dir`` with the parser the registry names."""
    try:
        parser = PARSERS[source_file.parser]
    except KeyError:
        raise InputError(source_file.path, f"no parser named {source_file.parser!r}", rule="known parser") from None
    return parser(source_file.raw_path(raw_dir), source_file)
