"""Reading the store (``data/processed/``) in the layout :mod:`analysis.config.tables` declares.

A stored table is read from disk once per file version (path, mtime, size) and kept in memory, so a
rebuilt store is seen at the next call. A read of named indicators first slices that table to their
rows: the build writes the rows sorted by indicator_id, so each id's rows are one run, located once
per file version (:func:`_spans`); the remaining filters then touch only those rows instead of the
whole table (filtering ~500k rows cost ~20 ms a read, and charts read hundreds of times). A file whose
ids are not in runs is filtered whole, as before. The small tables and the set of indicator ids,
which the API asks for on every call, are cached per file version too. The declared dtypes are restored on reading
(strings as ``string`` with <NA>, nullable integers where a column may be empty); a file that lacks
a declared column (an older layout) is a StoreError asking for a rebuild.

Tables with vintages (``indicators``, ``source_aggregates``) return their current rows unless asked
for ``vintage="all"``. ``current`` is decided per concept by the build (the catalogue's ``[[concept]]``
rule); an indicator named explicitly that is not its concept's current series (an older vintage or
another source, kept with ``current`` false) returns its own rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from analysis.config import tables
from analysis.core import paths
from analysis.core.errors import StoreError
from analysis.core.fingerprint import file_sha256

INDICATORS = "indicators"
SOURCE_AGGREGATES = "source_aggregates"
#: the tables read whole by :func:`read_table`
TABLES = tuple(name for name in tables.TABLES if name not in (INDICATORS, SOURCE_AGGREGATES))
MANIFEST = "manifest.json"
HINT = "run `python -m analysis build` (or `make all`)"
#: ``vintage`` argument for every vintage; None means the current one
ALL_VINTAGES = "all"

_STRINGS = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype(), pa.string_view(): pd.StringDtype()}


def store_dir(processed_dir: Path | str | None = None) -> Path:
    return Path(processed_dir) if processed_dir is not None else paths.processed_dir()


def table_path(name: str, processed_dir: Path | str | None = None) -> Path:
    return store_dir(processed_dir) / f"{name}.parquet"


def as_list(values: str | Iterable[str] | None) -> list[str] | None:
    """None stays None; one id becomes a one-item list; any other iterable becomes a list of str."""
    if values is None:
        return None
    if isinstance(values, str):
        return [values]
    return [str(v) for v in values]


# --------------------------------------------------------------------------------------------
# Filters


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


def _vintage_filter(vintage: str | None, others: Sequence[str] = ()) -> ds.Expression | None:
    """Current rows (plus every row of ``others``: named series that are not current), or all rows."""
    if vintage is None:
        current = pc.field("current")
        return current | pc.field("indicator_id").isin(list(others)) if others else current
    if vintage == ALL_VINTAGES:
        return None
    raise ValueError(f"vintage must be None (the current vintage) or {ALL_VINTAGES!r}, got {vintage!r}")


def _isin(column: str, values: str | Iterable[str] | None) -> ds.Expression | None:
    items = as_list(values)
    return None if items is None else pc.field(column).isin(items)


def _all_of(*parts: ds.Expression | None) -> ds.Expression | None:
    expr = None
    for part in parts:
        if part is not None:
            expr = part if expr is None else expr & part
    return expr


# --------------------------------------------------------------------------------------------
# Reading


def _read(name: str, processed_dir: Path | str | None, columns: list[str], expr: ds.Expression | None,
          ids: list[str] | None = None) -> pd.DataFrame:
    """Rows of a stored table matching ``expr`` (which must keep only rows of ``ids`` when ``ids`` is
    given), in the declared dtypes; StoreError if missing or stale."""
    signature = _signature(name, processed_dir)
    try:
        table = ds.dataset(_rows_of(name, signature, ids)).to_table(columns=columns, filter=expr)
    except (pa.ArrowInvalid, OSError) as exc:  # e.g. a store written before a declared column existed
        raise _unreadable(name, Path(signature[0]), exc) from None
    frame = table.replace_schema_metadata(None).to_pandas(types_mapper=_STRINGS.get)
    declared = tables.table(name).dtypes()
    changes = {c: declared[c] for c in frame.columns if str(frame[c].dtype) != declared[c]}
    return frame.astype(changes) if changes else frame


@lru_cache(maxsize=8)
def _arrow(name: str, path: str, mtime_ns: int, size: int) -> pa.Table:
    """A stored table as read from disk, kept per file version: a notebook or a report asks for a few
    indicators hundreds of times, and filtering the table in memory costs a fraction of reading it."""
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _unreadable(name, Path(path), exc) from None


def _rows_of(name: str, signature: tuple[str, int, int], ids: list[str] | None) -> pa.Table:
    """The cached table, cut down to the runs of ``ids`` (in store order) where the file keeps each id's
    rows together; the whole table otherwise (``ids`` None, or a file not written by the build)."""
    table = _arrow(name, *signature)
    spans = _spans(name, *signature) if ids is not None else None
    if spans is None:
        return table
    runs = sorted(spans[i] for i in set(ids) if i in spans)  # by offset: the rows keep the store's order
    if not runs:
        return table.slice(0, 0)
    return pa.concat_tables([table.slice(offset, length) for offset, length in runs])


@lru_cache(maxsize=8)
def _spans(name: str, path: str, mtime_ns: int, size: int) -> dict[str, tuple[int, int]] | None:
    """indicator_id -> (offset, length) of its rows in the cached table, per file version; None when
    some id's rows are not one run (then no slice could hold all of them)."""
    column = _arrow(name, path, mtime_ns, size).column("indicator_id").combine_chunks()
    if column.null_count:
        return None
    encoded = pc.dictionary_encode(column)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([], dtype=np.int64)
    if len(starts) != len(encoded.dictionary):  # an id comes back after another: not sorted by id
        return None
    ids = encoded.dictionary.to_pylist()
    stops = np.r_[starts[1:], len(codes)]
    return {ids[codes[start]]: (int(start), int(stop - start)) for start, stop in zip(starts, stops)}


def indicator_spans(name: str, processed_dir: Path | str | None = None) -> dict[str, tuple[int, int]] | None:
    """indicator_id -> (first row, rows) of a stored table the build keeps sorted by indicator, as row positions
    of :func:`read_table`'s frame; None when some id's rows are not one run."""
    return _spans(name, *_signature(name, processed_dir))


def _unreadable(name: str, path: Path, exc: Exception) -> StoreError:
    """Why a file cannot be read: an older layout (declared columns missing) or damage."""
    shown = paths.relative_to_root(path)
    try:
        present = set(pq.read_schema(path).names)
    except (pa.ArrowInvalid, OSError):
        return StoreError(f"{shown} cannot be read ({exc}); {HINT}")
    missing = [c for c in tables.table(name).names() if c not in present]
    if missing:
        return StoreError(f"{shown} lacks the declared column(s) {', '.join(missing)} (built by an older "
                          f"version of the package?); {HINT}")
    return StoreError(f"{shown} cannot be read ({exc}); {HINT}")


def _columns(name: str, columns: Sequence[str] | None) -> list[str]:
    declared = tables.table(name).names()
    if columns is None:
        return declared
    unknown = [c for c in columns if c not in declared]
    if unknown:
        raise KeyError(f"{name}.parquet has no column(s) {unknown}; it has {declared}")
    return list(columns)


def read_indicators(indicators: str | Iterable[str] | None = None, countries: str | Iterable[str] | None = None,
                    years=None, processed_dir: Path | str | None = None,
                    columns: Sequence[str] | None = None, vintage: str | None = None) -> pd.DataFrame:
    """Rows of ``indicators.parquet`` matching the filters (None means all).

    ``countries`` are ISO3 codes (resolve group names with :func:`analysis.store.api.members` first);
    ``years`` is an int, a (start, end) tuple (inclusive) or a list; ``vintage`` None gives the
    current rows, and every row of a named indicator that is not its concept's current series;
    ``"all"`` every vintage. Rows come back in store order (indicator_id, iso3, year, vintage) with
    the declared columns and dtypes (or ``columns``).
    """
    named = as_list(indicators)
    others = [i for i in named if i not in current_indicator_ids(processed_dir)] if named and vintage is None else []
    expr = _all_of(_isin("indicator_id", named), _isin("iso3", countries), _year_filter(years),
                   _vintage_filter(vintage, others))
    return _read(INDICATORS, processed_dir, _columns(INDICATORS, columns), expr, named)


def read_source_aggregates(indicators: str | Iterable[str] | None = None, processed_dir: Path | str | None = None,
                           vintage: str | None = None) -> pd.DataFrame:
    """Aggregates published by the sources themselves (``source_aggregates.parquet``), per indicator
    (current rows, and every row of a named indicator that is not current, as :func:`read_indicators`)."""
    named = as_list(indicators)
    others = [i for i in named if i not in current_indicator_ids(processed_dir)] if named and vintage is None else []
    expr = _all_of(_isin("indicator_id", named), _vintage_filter(vintage, others))
    return _read(SOURCE_AGGREGATES, processed_dir, _columns(SOURCE_AGGREGATES, None), expr, named)


def file_version(name: str, processed_dir: Path | str | None = None) -> tuple[str, int, int]:
    """(path, mtime, size) of a stored table (StoreError when it is missing): a key for results kept
    per version of the store, so that a rebuilt file is seen at the next call."""
    return _signature(name, processed_dir)


def _signature(name: str, processed_dir: Path | str | None) -> tuple[str, int, int]:
    """(path, mtime, size) of a stored table: the key of the caches below, so a rebuild is seen."""
    path = table_path(name, processed_dir)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise StoreError(f"{paths.relative_to_root(path)} not found: the store has not been built; {HINT}") from None
    return str(path), st.st_mtime_ns, st.st_size


# The API asks for the countries table and the indicator ids on every call: those few small reads
# are cached (per file version) as frames; the indicator rows are sliced and filtered at each call.


@lru_cache(maxsize=32)
def _whole(name: str, path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    return _read(name, Path(path).parent, _columns(name, None), None)


def read_table(name: str, processed_dir: Path | str | None = None) -> pd.DataFrame:
    """One of the small stored tables, whole: ``countries``, ``latest``, ``aggregates``, ``age_structure``."""
    if name not in TABLES:
        raise ValueError(f"unknown store table {name!r}; use one of {TABLES} "
                         f"(indicators: read_indicators(); source_aggregates: read_source_aggregates())")
    # A shallow copy: under copy-on-write the caller may modify it without touching the cache.
    return _whole(name, *_signature(name, processed_dir)).copy(deep=False)


@lru_cache(maxsize=8)
def _ids(path: str, mtime_ns: int, size: int) -> frozenset[str]:
    try:
        column = pq.read_table(path, columns=["indicator_id"], read_dictionary=["indicator_id"]).column(0)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _unreadable(INDICATORS, Path(path), exc) from None
    return frozenset(column.unique().to_pylist())


@lru_cache(maxsize=8)
def _current_ids(path: str, mtime_ns: int, size: int) -> frozenset[str]:
    try:
        table = pq.read_table(path, columns=["indicator_id"], filters=pc.field("current"),
                              read_dictionary=["indicator_id"])
    except (pa.ArrowInvalid, OSError) as exc:
        raise _unreadable(INDICATORS, Path(path), exc) from None
    return frozenset(table.column(0).unique().to_pylist())


def clear_cache() -> None:
    """Forget the cached small tables and ids (normally the file version in the key is enough)."""
    _whole.cache_clear()
    _arrow.cache_clear()
    _spans.cache_clear()
    _ids.cache_clear()
    _current_ids.cache_clear()
    _built_together.cache_clear()


def indicator_ids(processed_dir: Path | str | None = None) -> frozenset[str]:
    """The indicator ids present in the store (read dictionary-encoded: only distinct ids become str)."""
    return _ids(*_signature(INDICATORS, processed_dir))


def current_indicator_ids(processed_dir: Path | str | None = None) -> frozenset[str]:
    """The indicator ids with current rows (the current series of their concepts)."""
    return _current_ids(*_signature(INDICATORS, processed_dir))


#: The tables the build computes with the rules (:mod:`analysis.rules`) from the indicators and countries tables.
RULE_TABLES = ("latest", "aggregates")
#: What a rule table is computed from, besides itself.
_RULE_INPUTS = (INDICATORS, "countries")


def rule_table_version(name: str, processed_dir: Path | str | None = None) -> tuple | None:
    """A key for ``latest`` or ``aggregates`` (the versions of it, of the files it was computed from and of the
    manifest) when the store vouches that the build computed it from the indicators and countries tables there
    now; None when it cannot: a file or the manifest missing, or a file other than the one the manifest records
    (written after the build, e.g. by hand or by a test). The API then computes instead of reading it."""
    if name not in RULE_TABLES:
        raise ValueError(f"{name!r} is not one of the rule tables {RULE_TABLES}")
    manifest = store_dir(processed_dir) / MANIFEST
    try:
        versions = tuple(_signature(n, processed_dir) for n in (name, *_RULE_INPUTS))
        st = manifest.stat()
    except (StoreError, FileNotFoundError):
        return None
    key = (*versions, (str(manifest), st.st_mtime_ns, st.st_size))
    return key if _built_together(key) else None


@lru_cache(maxsize=16)
def _built_together(key: tuple) -> bool:
    """Whether every file of ``key`` but the manifest (its last item) has the sha256 the manifest records for it:
    hashed once per version of the files (a few milliseconds for the indicators table)."""
    *versions, manifest = key
    try:
        recorded = read_manifest(Path(manifest[0]).parent).get("outputs", {})
    except StoreError:  # a damaged manifest vouches for nothing
        return False
    for path, _, _ in versions:
        entry = recorded.get(Path(path).stem)
        if not isinstance(entry, dict) or entry.get("sha256") != _sha256(path):
            return False
    return True


def _sha256(path: str) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None


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
