"""Reader of WHO Global Health Observatory (GHO) OData CSV downloads (``parser = "gho_odata"``).

One file holds one indicator (``IndicatorCode``) for countries and WHO's own aggregates. Columns used:
``SpatialDimension`` / ``SpatialDimensionValueCode`` (ISO3 where the dimension is ``COUNTRY``),
``TimeDim`` (year), ``DisaggregatingDimension1ValueCode`` (sex), ``NumericValue`` (the value) and
``Low`` / ``High`` (the published uncertainty interval). ``Value`` is display text ("9.3 [8.8-9.8]")
and is never read as a number.

The raw long frame gains ``lower`` and ``upper`` columns: they are attributes of the value, not
key dimensions (the build carries them into the store's columns of the same names).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.config.registry import SourceFile
from analysis.core.errors import InputError
from analysis.pipeline.parse_base import (
    _finish,
    _header_fields,
    _line_numbers,
    _read_table,
    _require_columns,
    _require_rows,
    read_checked_bytes,
)

GHO_COLUMNS = ("IndicatorCode", "SpatialDimension", "SpatialDimensionValueCode", "TimeDim",
               "DisaggregatingDimension1", "DisaggregatingDimension1ValueCode", "NumericValue", "Low", "High")
#: The one disaggregation the parser understands; any other would leave several values per key.
SEX_DIMENSION = "SEX"
#: Further disaggregations a GHO file may carry; they must be empty.
EXTRA_DIMENSIONS = ("DisaggregatingDimension2", "DisaggregatingDimension3")
COUNTRY = "COUNTRY"
#: Columns of the raw long frame that describe the value rather than key it.
BOUND_COLUMNS = ("lower", "upper")


def _first_row(mask: np.ndarray, rows: np.ndarray) -> int:
    return int(rows[int(np.flatnonzero(mask)[0])])


def _strings(table: pa.Table, column: str) -> np.ndarray:
    return np.asarray(table.column(column).to_pandas().fillna("").astype(str).to_numpy(), dtype=object)


def _check_dimensions(table: pa.Table, source_file: SourceFile, header: list[str], rows: np.ndarray) -> None:
    """Only the sex disaggregation is allowed: another one would make keys ambiguous."""
    dim1 = _strings(table, "DisaggregatingDimension1")
    bad = dim1 != SEX_DIMENSION
    if bad.any():
        row = _first_row(bad, rows)
        raise InputError(source_file.path, f"DisaggregatingDimension1 is {dim1[bad][0]!r}, expected {SEX_DIMENSION!r}",
                         row=row, rule="GHO disaggregation: sex only")
    for column in (c for c in EXTRA_DIMENSIONS if c in header):
        values = _strings(table, column)
        extra = values != ""
        if extra.any():
            raise InputError(source_file.path, f"unexpected extra dimension {column} = {values[extra][0]!r}",
                             row=_first_row(extra, rows), rule="GHO disaggregation: sex only")


def _check_interval(value: np.ndarray, low: np.ndarray, high: np.ndarray, source_file: SourceFile,
                    rows: np.ndarray) -> None:
    """Low <= NumericValue <= High wherever the bounds are given."""
    with np.errstate(invalid="ignore"):
        bad = (low > value) | (value > high) | (low > high)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(source_file.path, f"NumericValue {value[i]:g} is outside [Low {low[i]:g}, High {high[i]:g}]",
                         row=int(rows[i]), rule="Low <= NumericValue <= High")


def _geo(table: pa.Table) -> pa.Array:
    """ISO3 for country rows; WHO's aggregates become ``<dimension>:<code>`` (kept as named aggregates)."""
    spatial = _strings(table, "SpatialDimension")
    code = _strings(table, "SpatialDimensionValueCode")
    named = np.array([f"{s}:{c}" for s, c in zip(spatial, code)], dtype=object)
    geo = np.where(spatial == COUNTRY, code, named)
    return pa.array(np.where(code == "", None, geo), pa.string())


def parse_gho_odata(path: Path, source_file: SourceFile) -> pd.DataFrame:
    """GHO OData CSV -> the raw long frame with a ``sex`` dim and ``lower``/``upper`` bounds."""
    data = read_checked_bytes(path, source_file)
    header = _header_fields(data)
    _require_columns(header, GHO_COLUMNS, source_file, row=1)
    types = {h: pa.string() for h in header if h} | {
        "TimeDim": pa.int64(), "NumericValue": pa.float64(), "Low": pa.float64(), "High": pa.float64()}
    table = _read_table(data, source_file, header_line=1, types=types)
    _require_rows(table, source_file, 1)
    rows = _line_numbers(table.num_rows, 1)
    _check_dimensions(table, source_file, header, rows)
    codes = [c for c in table.column("IndicatorCode").unique().to_pylist() if c]
    if len(codes) != 1:
        raise InputError(source_file.path, f"expected one IndicatorCode, found {codes}", rule="one series per file")
    # Rows without a value are dropped here, before _finish, so the bounds stay aligned with the values.
    value = table.column("NumericValue").combine_chunks()
    keep = pc.and_(pc.is_valid(value), pc.invert(pc.is_nan(pc.fill_null(value, 0.0))))
    table, rows = table.filter(keep), rows[keep.to_numpy(zero_copy_only=False)]
    low = table.column("Low").to_numpy().astype(np.float64)
    high = table.column("High").to_numpy().astype(np.float64)
    _check_interval(table.column("NumericValue").to_numpy().astype(np.float64), low, high, source_file, rows)
    frame = _finish(source_file, geo=_geo(table), geo_scheme="iso3", year=table.column("TimeDim").combine_chunks(),
                    series=codes[0], dims={"sex": table.column("DisaggregatingDimension1ValueCode").combine_chunks()},
                    value=table.column("NumericValue").combine_chunks(), rows=rows)
    # _finish keeps rows in order and drops only rows without geo: align the bounds by line number.
    position = pd.Index(rows).get_indexer(frame["row"].to_numpy())
    return frame.assign(lower=low[position], upper=high[position])
