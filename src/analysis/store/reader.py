"""Reading the store (``data/processed/``) and describing it (``python -m analysis info``).

``indicators.parquet`` is sorted by indicator and the build starts a row group at each indicator,
so a request reads only the row groups whose indicator_id statistics can match; the country and
year filters then run in memory (pyarrow compute) on those. The opened file (its footer and
row-group statistics) and the small tables are cached per process, keyed by the file's
modification time and size: a rebuild is picked up at the next call, without a restart.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from analysis.core import paths
from analysis.core.errors import StoreError

INDICATORS = "indicators"
TABLES = ("countries", "latest", "aggregates", "age_structure")
MANIFEST = "manifest.json"
HINT = "run `python -m analysis build` (or `make all`)"

# The pandas dtypes of the stored tables (the same as analysis.schema declares). The build writes
# parquet without pandas metadata, so these are restored on reading: strings as ``string``
# (<NA> for missing), nullable integers where the schema allows gaps.
_STRINGS = {"iso3", "indicator_id", "unit", "source_id", "vintage", "name", "wb_region", "wb_income_group",
            "asean_joined", "wb_name", "wpp_name", "wb_metadata_note", "group", "coverage", "coverage_weighted",
            "composition", "stat"}
DTYPES: dict[str, dict[str, str]] = {
    "indicators": {"year": "int16", "value": "float64", "projection": "bool"},
    "countries": {"m49": "Int64", "plus_three": "bool", "focus": "bool", "in_wb": "bool", "in_wpp": "bool"},
    "latest": {"year": "Int16", "ref_year": "Int16", "window": "int16", "value": "float64", "projection": "boolean"},
    "aggregates": {"year": "int16", "median": "float64", "weighted_mean": "float64", "n": "int64", "N": "int64",
                   "n_weighted": "int64", "coverage_ok": "bool", "coverage_weighted_ok": "bool", "projection": "bool"},
}
_NULLABLE = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype(), pa.string_view(): pd.StringDtype(),
             pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
             pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}

_lock = threading.Lock()
_open_files: dict[Path, tuple[tuple[int, int], _OpenFile]] = {}
_tables: dict[Path, tuple[tuple[int, int], pd.DataFrame]] = {}
_ids: dict[Path, tuple[tuple[int, int], frozenset[str]]] = {}


def store_dir(processed_dir: Path | str | None = None) -> Path:
    return Path(processed_dir) if processed_dir is not None else paths.processed_dir()


def table_path(name: str, processed_dir: Path | str | None = None) -> Path:
    return store_dir(processed_dir) / f"{name}.parquet"


def _signature(path: Path) -> tuple[int, int]:
    """(mtime_ns, size) of a store file; StoreError when it is missing."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise StoreError(f"{paths.relative_to_root(path)} not found: the store has not been built; {HINT}") from None
    return st.st_mtime_ns, st.st_size


@dataclass(frozen=True)
class _OpenFile:
    """An opened parquet file with what filtering needs from its footer, read once."""

    file: pq.ParquetFile
    names: tuple[str, ...]
    id_ranges: tuple[tuple[str, str] | None, ...]  # per row group: (min, max) indicator_id, if known


def _open(path: Path) -> _OpenFile:
    """The opened file, cached per process and keyed by (mtime, size): a rebuild is noticed."""
    sig = _signature(path)
    with _lock:
        hit = _open_files.get(path)
        if hit is not None and hit[0] == sig:
            return hit[1]
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise StoreError(f"{paths.relative_to_root(path)} cannot be read ({exc}); {HINT}") from None
    names = tuple(pf.schema_arrow.names)
    ranges: list[tuple[str, str] | None] = []
    if "indicator_id" in names:
        col = names.index("indicator_id")
        for i in range(pf.metadata.num_row_groups):
            stats = pf.metadata.row_group(i).column(col).statistics
            ok = stats is not None and stats.has_min_max
            ranges.append((str(stats.min), str(stats.max)) if ok else None)
    opened = _OpenFile(pf, names, tuple(ranges))
    with _lock:
        _open_files[path] = (sig, opened)
    return opened


def _row_groups(opened: _OpenFile, indicators: list[str] | None) -> list[int]:
    """Row groups that may hold one of ``indicators`` (by their min/max statistics)."""
    n = opened.file.metadata.num_row_groups
    if indicators is None or not opened.id_ranges:
        return list(range(n))
    wanted = sorted(indicators)
    keep = []
    for i, rng in enumerate(opened.id_ranges):
        if rng is None:
            keep.append(i)
            continue
        lo = bisect.bisect_left(wanted, rng[0])
        if lo < len(wanted) and wanted[lo] <= rng[1]:
            keep.append(i)
    return keep


def clear_cache() -> None:
    """Forget opened datasets and cached tables (tests; normally the mtime/size key is enough)."""
    with _lock:
        _open_files.clear()
        _tables.clear()
        _ids.clear()


def as_list(values: str | Iterable[str] | None) -> list[str] | None:
    """None stays None; one id becomes a one-item list; any other iterable becomes a list of str."""
    if values is None:
        return None
    if isinstance(values, str):
        return [values]
    return [str(v) for v in values]


def _year_filter(years) -> ds.Expression | None:
    """None, an int, a (start, end) tuple (inclusive, either end may be None) or a list of years."""
    if years is None:
        return None
    field = pc.field("year")
    if isinstance(years, int):
        return field == years
    if isinstance(years, range):
        years = list(years)
    if isinstance(years, tuple) and len(years) == 2:
        start, end = years
        parts = ([field >= int(start)] if start is not None else []) + ([field <= int(end)] if end is not None else [])
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else parts[0] & parts[1]
    return field.isin([int(y) for y in years])


def _filter(indicators, countries, years) -> ds.Expression | None:
    parts = []
    ind = as_list(indicators)
    if ind is not None:
        parts.append(pc.field("indicator_id").isin(ind))
    iso = as_list(countries)
    if iso is not None:
        parts.append(pc.field("iso3").isin(iso))
    yf = _year_filter(years)
    if yf is not None:
        parts.append(yf)
    if not parts:
        return None
    expr = parts[0]
    for p in parts[1:]:
        expr = expr & p
    return expr


def read_indicators(indicators: str | Iterable[str] | None = None, countries: str | Iterable[str] | None = None,
                    years=None, processed_dir: Path | str | None = None,
                    columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of ``indicators.parquet`` matching the filters (None means all).

    ``countries`` are ISO3 codes (resolve group names with :func:`analysis.store.api.members` first);
    ``years`` is an int, a (start, end) tuple (inclusive) or a list. Rows come back in store order
    (indicator_id, iso3, year) with the store's dtypes (strings as ``string``, year int16).
    """
    opened = _open(table_path(INDICATORS, processed_dir))
    cols = list(columns) if columns is not None else list(opened.names)
    unknown = [c for c in cols if c not in opened.names]
    if unknown:
        raise KeyError(f"indicators.parquet has no column(s) {unknown}; it has {list(opened.names)}")
    ind = as_list(indicators)
    expr = _filter(ind, countries, years)
    # Filter columns are read too, then dropped: the filter runs in memory on the chosen row groups.
    needed = cols + [c for c in ("indicator_id", "iso3", "year") if c not in cols and expr is not None]
    table = opened.file.read_row_groups(_row_groups(opened, ind), columns=needed)
    if expr is not None:
        table = table.filter(expr).select(cols)
    return _to_pandas(table, INDICATORS)


def _to_pandas(table: pa.Table, name: str) -> pd.DataFrame:
    """Arrow -> pandas with the store's dtypes, whether or not the file carries pandas metadata."""
    frame = table.replace_schema_metadata(None).to_pandas(types_mapper=_NULLABLE.get)
    declared = {c: "string" for c in frame.columns if c in _STRINGS}
    declared.update({c: t for c, t in DTYPES.get(name, {}).items() if c in frame.columns})
    changes = {c: t for c, t in declared.items() if str(frame[c].dtype) != t}
    return frame.astype(changes) if changes else frame


def indicator_ids(processed_dir: Path | str | None = None) -> frozenset[str]:
    """The indicator ids present in the store (read once per build of the file)."""
    path = table_path(INDICATORS, processed_dir)
    opened = _open(path)
    sig = _signature(path)
    with _lock:
        hit = _ids.get(path)
    if hit is not None and hit[0] == sig:
        return hit[1]
    column = opened.file.read(columns=["indicator_id"]).column("indicator_id")
    ids = frozenset(str(v) for v in pc.unique(column).to_pylist())
    with _lock:
        _ids[path] = (sig, ids)
    return ids


def read_table(name: str, processed_dir: Path | str | None = None) -> pd.DataFrame:
    """One of the small stored tables: ``countries``, ``latest`` or ``aggregates`` (cached)."""
    if name not in TABLES:
        raise ValueError(f"unknown store table {name!r}; use one of {TABLES} (indicators: read_indicators())")
    path = table_path(name, processed_dir)
    sig = _signature(path)
    with _lock:
        hit = _tables.get(path)
    if hit is None or hit[0] != sig:
        frame = _to_pandas(_open(path).file.read(), name)
        with _lock:
            _tables[path] = (sig, frame)
    else:
        frame = hit[1]
    # A shallow copy: under copy-on-write the caller may modify it without touching the cache.
    return frame.copy(deep=False)


def has_manifest(processed_dir: Path | str | None = None) -> bool:
    return (store_dir(processed_dir) / MANIFEST).is_file()


def read_manifest(processed_dir: Path | str | None = None) -> dict:
    path = store_dir(processed_dir) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise StoreError(f"{paths.relative_to_root(path)} is not valid JSON ({exc}); {HINT}") from None
