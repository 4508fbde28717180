"""The shared checks of every parser: reading a pinned file, its header, the pyarrow table, line
numbers, and the raw long frame (docs/ARCHITECTURE.md) every data parser returns.

Kept apart from the parsers themselves so that format-specific modules (``parsers``, ``parsers_gho``)
build on it without importing each other.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis.config.registry import SourceFile
from analysis.core.errors import InputError

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_YEAR_HEADER = re.compile(r"^\d{4}$")
_DDF_NAME = re.compile(r"^ddf--datapoints--(?P<measure>[a-z0-9_]+)--by--(?P<keys>.+)\.csv$")

#: DDF key column holding the economy, and the code scheme of its values.
DDF_GEO_KEYS = {"geo_area": "m49", "country": "m49", "ref_area": "ilo"}
#: DDF key column holding the (first) year.
DDF_TIME_KEYS = ("year", "time")

#: Columns every raw long frame starts with, before its dims.
RAW_COLUMNS = ("geo", "geo_scheme", "year", "series")


# ----------------------------------------------------------------------------- shared checks


def read_checked_bytes(path: Path, source_file: SourceFile, *, allow_bom: bool = True) -> bytes:
    """The file's bytes without a UTF-8 BOM, after checking it is non-empty UTF-8 text.

    A UTF-16 BOM, NUL bytes (UTF-16 text without a BOM) and undecodable bytes are rejected with the
    line they occur on: pyarrow would otherwise fail with a message that names neither.
    """
    name = source_file.path
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(name, f"file not found at {Path(path).name}; run `python -m analysis fetch`",
                         rule="file present") from None
    if data.startswith(_UTF16_BOMS):
        raise InputError(name, "file starts with a UTF-16 byte-order mark; expected UTF-8 text", row=1,
                         rule="encoding: UTF-8")
    if data.startswith(UTF8_BOM):
        if not allow_bom:
            raise InputError(name, "unexpected UTF-8 byte-order mark", row=1, rule="encoding: UTF-8 without BOM")
        data = data[len(UTF8_BOM):]
    if not data.strip():
        raise InputError(name, "file is empty", row=1, rule="non-empty file")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(name, "file contains NUL bytes (UTF-16 or binary content?); expected UTF-8 text",
                         row=data.count(b"\n", 0, nul) + 1, rule="encoding: UTF-8")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(name, f"bytes {data[exc.start:exc.start + 4]!r} are not valid UTF-8",
                         row=data.count(b"\n", 0, exc.start) + 1, rule="encoding: UTF-8") from None
    return data


def _header_fields(data: bytes, offset: int = 0) -> list[str]:
    end = data.find(b"\n", offset)
    line = data[offset:] if end < 0 else data[offset:end]
    return next(csv.reader([line.decode("utf-8").rstrip("\r")]), [])


def _require_columns(header: Sequence[str], required: Sequence[str], source_file: SourceFile, row: int) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(source_file.path, f"missing column(s) {', '.join(missing)}; header is {list(header)}",
                         row=row, rule="required columns")


def _diagnose(data: bytes, source_file: SourceFile, *, header_line: int, numeric: dict[str, str],
              cause: Exception) -> InputError:
    """Find the line pyarrow choked on: wrong field count, or a non-numeric cell in a numeric column.

    ``numeric`` maps column name -> "float" or "int". Called only after a failed fast read.
    """
    # Split on "\n" only: str.splitlines() also breaks on rarer separators and would shift line numbers.
    lines = [line.rstrip("\r") for line in data.decode("utf-8").rstrip("\r\n").split("\n")]
    reader = csv.reader(lines[header_line - 1:])
    header = next(reader)
    positions = {header.index(c): (c, kind) for c, kind in numeric.items() if c in header}
    for offset, fields in enumerate(reader):
        line = header_line + 1 + offset
        if not fields:
            continue
        if len(fields) != len(header):
            last = line == len(lines)
            what = "truncated file: last line" if last and len(fields) < len(header) else "line"
            return InputError(source_file.path, f"{what} has {len(fields)} fields, the header has {len(header)}",
                              row=line, rule="rectangular CSV")
        for pos, (col, kind) in positions.items():
            text = fields[pos].strip()
            if text == "":
                continue
            try:
                number = float(text)
                if kind == "int" and not number.is_integer():
                    raise ValueError
            except ValueError:
                expected = "an integer" if kind == "int" else "a number"
                return InputError(source_file.path, f"column {col!r} holds {fields[pos]!r}, not {expected}",
                                  row=line, rule=f"numeric {col}")
    return InputError(source_file.path, f"could not be parsed as CSV: {cause}", rule="CSV syntax")


def _read_table(data: bytes, source_file: SourceFile, *, header_line: int, types: dict[str, pa.DataType],
                offset: int = 0) -> pa.Table:
    """Parse ``data[offset:]`` (which starts at ``header_line``) with explicit column types.

    Only ``""`` counts as missing, so texts like ``NA`` in a numeric column are reported, not dropped.
    """
    numeric = {c: ("int" if pa.types.is_integer(t) else "float") for c, t in types.items()
               if pa.types.is_integer(t) or pa.types.is_floating(t)}
    try:
        return pacsv.read_csv(
            io.BytesIO(data[offset:] if offset else data),
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=True,
                                                 quoted_strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        raise _diagnose(data, source_file, header_line=header_line, numeric=numeric, cause=exc) from None


def _line_numbers(n: int, header_line: int) -> np.ndarray:
    return np.arange(header_line + 1, header_line + 1 + n, dtype=np.int64)


def _finish(source_file: SourceFile, *, geo: pa.Array, geo_scheme: str, year: pa.Array, series: str,
            dims: dict[str, pa.Array], value: pa.Array, rows: np.ndarray) -> pd.DataFrame:
    """Assemble the raw long frame: drop missing values, check keys are complete and unique."""
    value = value.cast(pa.float64())
    keep = pc.invert(pc.or_kleene(pc.is_null(value), pc.is_nan(value))).to_numpy(zero_copy_only=False)
    keep &= ~np.asarray(pc.is_null(geo).to_numpy(zero_copy_only=False), dtype=bool)
    if year.null_count:
        first = int(np.flatnonzero(pc.is_null(year).to_numpy(zero_copy_only=False))[0])
        raise InputError(source_file.path, "year is empty", row=int(rows[first]), rule="complete key")
    mask = pa.array(keep)
    n = int(keep.sum())
    kept_rows = rows[keep]
    columns = {
        "geo": geo.filter(mask),
        "geo_scheme": pa.array(np.full(n, geo_scheme, dtype=object), pa.string()),
        "year": year.filter(mask).cast(pa.int64()),
        "series": pa.array(np.full(n, series, dtype=object), pa.string()),
    }
    for name, arr in dims.items():
        col = arr.filter(mask)
        if col.null_count:
            first = int(np.flatnonzero(pc.is_null(col).to_numpy(zero_copy_only=False))[0])
            raise InputError(source_file.path, f"key column {name!r} is empty", row=int(kept_rows[first]),
                             rule="complete key")
        columns[name] = col
    columns["value"] = value.filter(mask)
    columns["row"] = pa.array(kept_rows)
    table = pa.table(columns)
    # One conversion of the whole table: pandas 3 turns arrow strings into its default `str` dtype.
    frame = table.to_pandas()
    keys = [c for c in table.column_names if c not in ("value", "row", "geo_scheme", "series")]
    # Arrow's hash grouping finds whether any key repeats; pandas locates it only when one does.
    if table.group_by(keys).aggregate([]).num_rows != table.num_rows:
        check_unique_keys(frame, source_file)
    return frame


def check_unique_keys(frame: pd.DataFrame, source_file: SourceFile) -> None:
    """Raise on the second occurrence of the same geo/year/dims combination."""
    keys = [c for c in frame.columns if c not in ("value", "row", "geo_scheme", "series")]
    dup = frame.duplicated(keys).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        key = {k: frame[k].iloc[i] for k in keys}
        same = np.ones(len(frame), dtype=bool)
        for k in keys:
            same &= (frame[k] == key[k]).to_numpy(dtype=bool)
        first = int(frame["row"].to_numpy()[np.flatnonzero(same)[0]])
        shown = ", ".join(f"{k}={v}" for k, v in key.items())
        raise InputError(source_file.path, f"duplicate key ({shown}); first on line {first}",
                         row=int(frame["row"].iloc[i]), rule="unique key")


def _strings_frame(table: pa.Table, header_line: int) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.array(table.column(name).to_pandas(), dtype="str")
                          for name in table.column_names if name})
    frame["row"] = _line_numbers(table.num_rows, header_line)
    return frame


def _require_rows(table: pa.Table, source_file: SourceFile, header_line: int) -> None:
    if table.num_rows == 0:
        raise InputError(source_file.path, "file has a header but no data rows", row=header_line + 1,
                         rule="non-empty file")


# ----------------------------------------------------------------------------- datahub tidy CSV
