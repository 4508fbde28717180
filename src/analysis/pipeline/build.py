"""Build the indicator store: parse -> select/derive -> map to ISO3 -> validate -> write, all or nothing.

``build_store()`` reads every raw file the catalogue needs (each once), checks it against the sha256
pinned in ``data/sources.toml``, selects each catalogue indicator's series, computes the derived ones,
maps source geo codes to ISO3 economies (the aggregates the sources publish themselves, such as
``EAS``, ``x84`` or M49 region codes, go to the separate ``source_aggregates`` table), validates the
rows (``schema.validate_indicator_chunks``) and writes ``data/processed/`` through a staging directory so
that a failed build leaves the previous store exactly as it was. Every table is written in the
layout :mod:`analysis.config.tables` declares, after a check against the schema derived from it.

``manifest.json`` records the sha256 of every input, of the catalogue, of the references table, of
the build code and of the table declarations; when none of them changed (and the outputs are
intact) the build is skipped. Outputs are deterministic: sorted rows, fixed parquet writer settings,
no timestamps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from analysis.config import tables
from analysis.config.catalogue import Catalogue, Indicator, load_catalogue
from analysis.config.references import load_members
from analysis.config.registry import Registry, SourceFile, load_registry, sha256_file
from analysis.core import paths, settings
from analysis.core.atomic import staged_directory
from analysis.core.errors import FetchError, InputError, StoreError
from analysis.core.fingerprint import code_sha256
from analysis.pipeline import age_structure, flags
from analysis.pipeline.countries import GEO_SCHEMES, build_countries, iso3_of_rows
from analysis.pipeline.derive import derive, projection
from analysis.pipeline.parsers import DDF_GEO_KEYS, ROW_ATTRIBUTES, VALUE_ATTRIBUTES, parse_file
from analysis.pipeline.schema import validate_indicator_chunks, validate_table
from analysis.rules.aggregates import compute_aggregates
from analysis.rules.latest import compute_latest

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 2
#: the stored tables, as declared
OUTPUTS = tuple(tables.TABLES)
MEMBERS_FILE = Path("references") / "asean_members.csv"
#: Parquet writer settings, fixed so that two builds give byte-identical files.
PARQUET_OPTIONS = dict(compression="zstd", compression_level=3, use_dictionary=True, write_statistics=True,
                       data_page_version="2.0", version="2.6")
#: Rows per row group of indicators.parquet; each indicator also starts a new row group, so a
#: filter on indicator_id skips whole row groups by their statistics.
ROW_GROUP_ROWS = 32_768
FETCH_HINT = "run `python -m analysis fetch`"
GEO_SCHEME_DTYPE = pd.CategoricalDtype(GEO_SCHEMES)
#: The columns of the indicators table that latest values and group aggregates read.
RULE_COLUMNS = ("iso3", "indicator_id", "year", "value", "unit", "source_id", "vintage", "projection")
#: Rows per chunk (of whole indicators) in the steps whose temporaries grow with the rows they hold:
#: validation, latest values and group aggregates. Bounds their memory whatever the size of the inputs.
CHUNK_ROWS = 1 << 19
#: The columns of the rows mapped to an economy that the indicator rows are made of.
MAPPED_COLUMNS = ("iso3", "year", "value", *VALUE_ATTRIBUTES, *ROW_ATTRIBUTES, "projection", "row", "file", "ind")


# ----------------------------------------------------------------------------- report


@dataclass
class BuildReport:
    """What a build did; ``summary()`` is what the CLI prints (no absolute paths)."""

    skipped: bool
    indicators: int = 0
    economies: int = 0
    rows: int = 0
    year_min: int | None = None
    year_max: int | None = None
    files_read: int = 0
    unmapped_codes: int = 0
    unmapped_rows: int = 0
    seconds: float = 0.0
    processed_dir: str = "data/processed"
    unmapped: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def summary(self) -> str:
        if self.skipped:
            return (f"store in {self.processed_dir} is up to date (inputs, catalogue and code unchanged); "
                    f"nothing rebuilt ({self.seconds:.2f} s). Use --force to rebuild.")
        years = f"{self.year_min}-{self.year_max}" if self.year_min is not None else "none"
        return "\n".join([
            f"built the store in {self.processed_dir} in {self.seconds:.1f} s",
            f"  indicators: {self.indicators}",
            f"  economies:  {self.economies}",
            f"  rows:       {self.rows:,}",
            f"  years:      {years}",
            f"  files read: {self.files_read}",
            f"  source aggregates kept apart (source_aggregates): {self.unmapped_codes} codes "
            f"({self.unmapped_rows:,} rows)",
        ])


# ----------------------------------------------------------------------------- hashing and manifest


def code_fingerprint() -> dict[str, str]:
    """The hash over the whole package (:func:`analysis.core.fingerprint.code_sha256`)."""
    return {"sha256": code_sha256()}


def _verify_inputs(files: list[SourceFile], raw_dir: Path) -> dict[str, dict[str, str]]:
    """sha256 of every needed raw file, checked against the registry's pin."""
    inputs: dict[str, dict[str, str]] = {}
    for sf in files:
        path = sf.raw_path(raw_dir)
        if not path.is_file():
            raise FetchError(f"{sf.path}: raw file missing (needed by the catalogue); {FETCH_HINT}")
        actual = sha256_file(path)
        if actual != sf.sha256:
            raise FetchError(f"{sf.path}: sha256 {actual[:12]}... does not match the pinned {sf.sha256[:12]}... "
                             f"in data/sources.toml (file changed or damaged); {FETCH_HINT}")
        inputs[sf.id] = {"path": sf.path, "sha256": actual}
    return inputs


def _read_manifest(processed_dir: Path) -> dict | None:
    try:
        return json.loads((processed_dir / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _outputs_intact(manifest: dict, processed_dir: Path) -> bool:
    for name, info in manifest.get("outputs", {}).items():
        path = processed_dir / f"{name}.parquet"
        if not path.is_file() or sha256_file(path) != info.get("sha256"):
            return False
    return set(manifest.get("outputs", {})) == set(OUTPUTS)


# ----------------------------------------------------------------------------- which files


def _needed_files(catalogue: Catalogue, registry: Registry) -> list[SourceFile]:
    """Data files of the catalogue, the country metadata and the geo entity files of the datasets used."""
    ids = catalogue.needed_files()
    datasets = {registry.file(i).dataset for i in ids}
    extra = [f.id for f in registry.files if f.parser == "worldbank_api_metadata_country"]
    extra += [f.id for f in registry.files if f.parser == "ddf_entities" and f.dataset in (datasets | {"wpp2019"})]
    return [registry.file(i) for i in dict.fromkeys(ids + extra)]


def _wpp_country_file(registry: Registry) -> SourceFile:
    """The WPP entity file that maps M49 country codes to ISO3 (its key column is ``country``)."""
    for f in registry.files_of("wpp2019"):
        if f.parser == "ddf_entities" and Path(f.path).name.startswith("ddf--entities--geo--country"):
            return f
    raise StoreError("data/sources.toml: no wpp2019 ddf--entities--geo--country file registered")


# ----------------------------------------------------------------------------- selection


def _select(ind: Indicator, frames: dict[str, pd.DataFrame], registry: Registry) -> pd.DataFrame:
    """Rows of one selected indicator: geo, geo_scheme, year, value, lower, upper, observation_status, nature,
    row, file (registry file id).

    A selected indicator keeps its source's uncertainty bounds and row attributes (empty where the source
    has none). ``geo_scheme`` and ``file`` are categoricals with fixed categories (one value per file), and
    every column has the same dtype whatever the file, so that concatenating indicators keeps them compact
    instead of falling back to per-row Python objects.
    """
    parts = []
    for fid in ind.file_ids:
        frame = frames[fid]
        path = registry.file(fid).path
        missing = [d for d in ind.select if d not in frame.columns]
        if missing:
            raise InputError(path, f"indicator {ind.id}: select names dim(s) {missing} the file does not have "
                             f"(its dims: {_dims(frame)})", rule="catalogue select")
        mask = (frame["series"] == ind.code).to_numpy(dtype=bool, copy=True)
        if not mask.any():
            raise InputError(path, f"indicator {ind.id}: series {ind.code!r} not found "
                             f"(file has {sorted(frame['series'].unique().tolist())[:5]})", rule="catalogue code")
        for dim, wanted in ind.select.items():
            values = list(wanted) if isinstance(wanted, tuple) else [wanted]
            mask &= frame[dim].isin(values).to_numpy(dtype=bool)
        # Only the columns the store needs (plus dims when summing): taking rows of string columns costs.
        bounds = [c for c in (*VALUE_ATTRIBUTES, *ROW_ATTRIBUTES) if c in frame.columns and not ind.combine]
        columns = ["geo", "year", "value", *bounds, "row"] + (_dims(frame) if ind.combine else [])
        picked = frame.loc[mask, columns]
        if picked.empty:
            raise InputError(path, f"indicator {ind.id}: no rows match select {ind.select}", rule="catalogue select")
        # geo_scheme is one value per file: set it after the row selection, not through it.
        parts.append(picked.assign(geo_scheme=_constant(frame["geo_scheme"].iloc[0], len(picked), GEO_SCHEME_DTYPE),
                                   file=_constant(fid, len(picked), _file_dtype(registry))))
    picked = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    if ind.combine == "sum":
        picked = _combine_sum(ind, picked, registry)
    _check_unambiguous(ind, picked, frames, registry)
    return _selected_layout(picked)


def _constant(value: str, n: int, dtype: pd.CategoricalDtype) -> pd.Categorical:
    if value not in dtype.categories:
        raise ValueError(f"{value!r} is not one of {list(dtype.categories)}")
    return pd.Categorical.from_codes(np.full(n, dtype.categories.get_loc(value), dtype=np.int16), dtype=dtype)


def _file_dtype(registry: Registry) -> pd.CategoricalDtype:
    """Every registry file id as a category: one small integer per row instead of a repeated string."""
    return pd.CategoricalDtype([f.id for f in registry.files])


def _selected_layout(picked: pd.DataFrame) -> pd.DataFrame:
    """The columns of :func:`_select` in order; bounds and row attributes a file lacks are added empty
    (summed rows too: their bounds do not add), with one dtype per column whatever the file."""
    out = picked.reindex(columns=["geo", "geo_scheme", "year", "value", *VALUE_ATTRIBUTES, *ROW_ATTRIBUTES, "row",
                                  "file"])
    dtypes = {c: "float64" for c in VALUE_ATTRIBUTES} | {c: "str" for c in ROW_ATTRIBUTES}
    changes = {c: t for c, t in dtypes.items() if str(out[c].dtype) != t}
    return out.astype(changes) if changes else out


def _dims(frame: pd.DataFrame) -> list[str]:
    not_dims = ("geo", "geo_scheme", "year", "series", "value", "row", "file", *VALUE_ATTRIBUTES)
    return [c for c in frame.columns if c not in not_dims]


def _combine_sum(ind: Indicator, picked: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Add the rows of the listed values (e.g. 5-year age groups); every listed value must be present."""
    listed = {d: v for d, v in ind.select.items() if isinstance(v, tuple)}
    keys = ["geo", "geo_scheme", "year"] + [d for d in _dims(picked) if d not in listed]
    grouped = picked.groupby(keys, sort=False, dropna=False)
    out = grouped.agg(value=("value", "sum"), row=("row", "min"), file=("file", "first"),
                      n=("value", "size")).reset_index()
    expected = int(np.prod([len(v) for v in listed.values()]))
    short = out["n"] != expected
    if short.any():
        bad = out.loc[short].iloc[0]
        raise InputError(registry.file(bad["file"]).path,
                         f"indicator {ind.id}: {bad['geo']} {bad['year']} has {bad['n']} of the {expected} "
                         f"{'/'.join(listed)} values to add up; a missing part would understate the sum",
                         row=int(bad["row"]), rule="complete sum")
    return out.drop(columns="n")


def _check_unambiguous(ind: Indicator, picked: pd.DataFrame, frames: dict[str, pd.DataFrame],
                       registry: Registry) -> None:
    """After selection each geo and year must have one value; otherwise a dim is left unselected."""
    dup = picked.duplicated(["geo", "geo_scheme", "year"]).to_numpy()
    if dup.any():
        bad = picked.iloc[int(np.flatnonzero(dup)[0])]
        source = frames[bad["file"]]
        same = source.loc[(source["geo"] == bad["geo"]) & (source["year"] == bad["year"])
                          & (source["series"] == ind.code)]
        varying = [d for d in _dims(source) if same[d].nunique(dropna=False) > 1 and d not in ind.select]
        raise InputError(registry.file(bad["file"]).path,
                         f"indicator {ind.id}: {bad['geo']} {bad['year']} has several values after select "
                         f"{ind.select}; add {varying or 'a dim'} to select", row=int(bad["row"]),
                         rule="unique after select")


# ----------------------------------------------------------------------------- geo mapping


def _known_geo_codes(frames: dict[str, pd.DataFrame], registry: Registry) -> dict[str, set[str]]:
    """Codes the sources themselves list, per scheme: anything unmapped outside these is an error.

    World Bank metadata lists its aggregates (empty Region); DDF entity files list every geo code
    of their dataset (countries, regions, ILO ``x..`` aggregates).
    """
    known: dict[str, set[str]] = {"iso3": set(), "m49": set(), "ilo": set()}
    for fid, frame in frames.items():
        sf = registry.file(fid)
        if sf.parser == "worldbank_api_metadata_country":
            known["iso3"].update(frame["iso3"].dropna().astype(str))
        elif sf.parser == "ddf_entities" and frame.columns[0] in DDF_GEO_KEYS:
            known[DDF_GEO_KEYS[frame.columns[0]]].update(frame[frame.columns[0]].dropna().astype(str).str.lstrip("0"))
    return known


def _map_geo(long: pd.DataFrame, countries: pd.DataFrame, known: dict[str, set[str]],
             registry: Registry) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """ISO3 for every row of an economy; the rest are the sources' own aggregates; unknown codes are an error.

    Returns (rows of economies with ``iso3`` and the columns of :data:`MAPPED_COLUMNS`, rows of source aggregates,
    per aggregate code its row count).
    """
    iso3, unmapped = iso3_of_rows(long, countries)
    ok = iso3.notna().to_numpy(dtype=bool)
    if len(unmapped):
        geo = unmapped["geo"].astype(str)
        scheme = unmapped["geo_scheme"].astype(str)
        # Rows without a code carry the entity name as geo (GHED, OWID): named aggregates.
        named = (scheme == "iso3") & ~geo.str.fullmatch(r"[A-Z]{3}")
        listed = np.array([g.lstrip("0") in known.get(s, set()) if s == "m49" else g in known.get(s, set())
                           for g, s in zip(geo, scheme)], dtype=bool)
        unknown = unmapped.loc[~(named.to_numpy() | listed)]
        if len(unknown):
            code, sch = str(unknown["geo"].iloc[0]), str(unknown["geo_scheme"].iloc[0])
            hit = long.loc[(long["geo"] == code) & (long["geo_scheme"] == sch)].iloc[0]
            raise InputError(registry.file(hit["file"]).path,
                             f"unknown {sch} country code {code!r}: not an economy of the countries table and "
                             f"not an aggregate listed by the source ({len(unknown)} such code(s))",
                             row=int(hit["row"]), rule="known economy")
    # Only the columns the indicator rows keep: the source codes of millions of rows are not copied.
    mapped = long.loc[ok, [c for c in MAPPED_COLUMNS if c != "iso3"]].assign(iso3=iso3[ok])
    return mapped, long.loc[~ok], unmapped


# ----------------------------------------------------------------------------- writing


def _to_arrow(name: str, frame: pd.DataFrame) -> pa.Table:
    """The table's columns as arrow arrays, in declared order, without pandas metadata: the file depends
    on the data only. Categorical columns (the build's compact strings) stay dictionary arrays here;
    :func:`write_table` casts each row group to the declared schema, so the strings are never all in
    memory at once. A frame without categoricals is conformed first (tests write synthetic tables)."""
    if not any(isinstance(dtype, pd.CategoricalDtype) for dtype in frame.dtypes):
        frame = tables.conform(name, frame)
    declared = tables.table(name).columns
    return pa.Table.from_arrays([_arrow_column(frame[c.name], c.arrow_type) for c in declared],
                                names=[c.name for c in declared])


def _arrow_column(column: pd.Series, arrow_type: pa.DataType) -> pa.Array:
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0),
                                              pa.array(column.cat.categories.astype(str), arrow_type))
    return pa.array(column, type=arrow_type, from_pandas=True)


def _row_groups(frame: pd.DataFrame) -> list[tuple[int, int]]:
    """(start, stop) of each row group: a new one at each indicator and every ROW_GROUP_ROWS rows, so
    a read filtered on indicator_id skips whole row groups by their statistics."""
    return [(start, min(hi, start + ROW_GROUP_ROWS)) for lo, hi in _runs(pd.factorize(frame["indicator_id"])[0])
            for start in range(lo, hi, ROW_GROUP_ROWS)]


def _runs(codes: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of equal values."""
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([], dtype=int)
    return list(zip(starts.tolist(), np.r_[starts[1:], len(codes)].tolist()))


def _chunks(codes: np.ndarray, limit: int = CHUNK_ROWS) -> list[tuple[int, int]]:
    """(start, stop) of consecutive runs of equal codes joined up to about ``limit`` rows (a run is never split)."""
    chunks: list[tuple[int, int]] = []
    for lo, hi in _runs(codes):
        if chunks and hi - chunks[-1][0] <= limit:
            chunks[-1] = (chunks[-1][0], hi)
        else:
            chunks.append((lo, hi))
    return chunks


def write_table(name: str, frame: pd.DataFrame, path: Path) -> None:
    """Write one stored table in its declared layout with the fixed writer settings (deterministic bytes).

    ``frame`` is conformed first (declared columns, order and dtypes; columns that may be empty or
    have a default are added when absent), so tests can write a synthetic store the reader accepts.
    Each row group is cast to the declared schema on its own (see :func:`_to_arrow`).
    """
    schema = tables.table(name).arrow_schema()
    sorting = [pq.SortingColumn(schema.get_field_index(c)) for c in tables.table(name).sort_by]
    groups = _row_groups(frame) if name == "indicators" and len(frame) else [(0, len(frame))]
    table = _to_arrow(name, frame)
    with pq.ParquetWriter(path, schema, sorting_columns=sorting, **PARQUET_OPTIONS) as writer:
        for start, stop in groups:
            writer.write_table(table.slice(start, stop - start).cast(schema))


def _checked(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The table in its declared layout, checked against the schema derived from the declaration."""
    return validate_table(name, tables.conform(name, frame))


# ----------------------------------------------------------------------------- freshness


def _fingerprint(files: list[SourceFile], catalogue: Catalogue, registry: Registry, raw_dir: Path,
                 as_of: date) -> dict:
    """What the manifest records of a build's inputs (raw files checked against their pins on the way)."""
    if not (raw_dir / MEMBERS_FILE).is_file():
        raise FetchError(f"{MEMBERS_FILE.as_posix()}: references table missing from data/raw; {FETCH_HINT}")
    return {
        "format": MANIFEST_FORMAT,
        "inputs": _verify_inputs(files, raw_dir),
        "references": {f"references/{p.name}": sha256_file(p)
                       for p in sorted((raw_dir / "references").glob("*.csv"))},
        "catalogue_sha256": sha256_file(catalogue.source_path),
        "sources_sha256": sha256_file(registry.source_path),
        "code": code_fingerprint(),
        "as_of": as_of.isoformat(),
        "tables": {"version": tables.TABLES_VERSION, "sha256": tables.declaration_sha256()},
    }


def _is_current(fingerprint: dict, processed_dir: Path) -> bool:
    """The store in ``processed_dir`` was built from exactly these inputs and is intact: nothing to rebuild."""
    previous = _read_manifest(processed_dir)
    return (previous is not None and {k: previous.get(k) for k in fingerprint} == fingerprint
            and _outputs_intact(previous, processed_dir))


def store_up_to_date(raw_dir: Path | None = None, processed_dir: Path | None = None,
                     as_of: date | None = None) -> bool:
    """Whether ``build_store()`` (without ``force``) would skip, decided as it decides, without building.
    Raises what it would raise before parsing (a raw file missing or failing its pin)."""
    raw_dir = Path(raw_dir) if raw_dir is not None else paths.raw_dir()
    registry = load_registry()
    catalogue = load_catalogue(registry=registry)
    files = _needed_files(catalogue, registry)
    fingerprint = _fingerprint(files, catalogue, registry, raw_dir, as_of or settings.AS_OF)
    return _is_current(fingerprint, Path(processed_dir) if processed_dir is not None else paths.processed_dir())


# ----------------------------------------------------------------------------- the build


def build_store(force: bool = False, progress: bool = True, raw_dir: Path | None = None,
                processed_dir: Path | None = None, as_of: date | None = None) -> BuildReport:
    """Build ``data/processed/`` from ``data/raw/`` (see the module docstring); skip when unchanged.

    ``as_of`` dates group membership for the stored aggregates (default: the pinned setting); it is
    recorded in the manifest, so a different date rebuilds.
    """
    as_of = as_of or settings.AS_OF
    start = time.perf_counter()
    raw_dir = Path(raw_dir) if raw_dir is not None else paths.raw_dir()
    processed_dir = Path(processed_dir) if processed_dir is not None else paths.processed_dir()
    shown_dir = paths.relative_to_root(processed_dir)

    registry = load_registry()
    catalogue = load_catalogue(registry=registry)
    files = _needed_files(catalogue, registry)
    fingerprint = _fingerprint(files, catalogue, registry, raw_dir, as_of)
    if not force and _is_current(fingerprint, processed_dir):
        return BuildReport(skipped=True, seconds=time.perf_counter() - start, processed_dir=shown_dir)

    frames = _parse_all(files, raw_dir, progress)
    outputs, stats = assemble(catalogue, registry, frames, raw_dir / MEMBERS_FILE, as_of=as_of)
    manifest = dict(fingerprint)
    manifest["summary"] = stats
    _commit(outputs, manifest, processed_dir)

    ind = outputs["indicators"]
    return BuildReport(
        skipped=False, indicators=int(ind["indicator_id"].nunique()), economies=int(ind["iso3"].nunique()),
        rows=len(ind), year_min=int(ind["year"].min()) if len(ind) else None,
        year_max=int(ind["year"].max()) if len(ind) else None, files_read=len(files),
        unmapped_codes=stats["unmapped_codes"], unmapped_rows=stats["unmapped_rows"],
        seconds=time.perf_counter() - start, processed_dir=shown_dir, unmapped=outputs["_unmapped"],
    )


def _parse_all(files: list[SourceFile], raw_dir: Path, progress: bool) -> dict[str, pd.DataFrame]:
    return {sf.id: parse_file(sf, raw_dir) for sf in tqdm(files, desc="parse", unit="file", disable=not progress,
                                                           leave=False)}


def assemble(catalogue: Catalogue, registry: Registry, frames: dict[str, pd.DataFrame],
             members_path: Path, *, as_of: date) -> tuple[dict[str, pd.DataFrame], dict]:
    """Parsed files -> the store tables (validated). Pure apart from reading the members file and
    emptying ``frames``.

    Rows travel with a small integer ``ind`` (position in the catalogue) instead of repeated strings;
    the descriptive columns (indicator_id, unit, source_id, vintage, current) are attached once at the
    end. ``current`` marks the series that stands for its concept (the catalogue's ``[[concept]]``
    rule); the other series stay in the store, and only current rows make latest values and aggregates.

    Peak memory grows with the inputs, so each intermediate is released as soon as the next step has
    what it needs: ``frames`` is emptied once the countries, the age structure and the selected rows
    are taken from it, and the long and mapped rows are dropped once they are turned into the next form.
    """
    countries = _countries(frames, registry, load_members(members_path))
    long = _selected_rows(catalogue, frames, registry)
    known = _known_geo_codes(frames, registry)
    ages = age_structure.from_frames(frames, registry, catalogue, countries)
    frames.clear()
    _release_freed()
    mapped, aggregate_rows, unmapped = _map_geo(long, countries, known, registry)
    del long
    _release_freed()
    source_aggregates = _source_aggregates(aggregate_rows, catalogue)
    del aggregate_rows
    blocks = _indicator_blocks(mapped, catalogue, registry)
    del mapped
    # The blocks are emptied as validation takes them: the rows never exist as one more full frame.
    indicators = _validated(blocks, catalogue, registry, countries)
    _release_freed()
    indicators = _sorted(indicators, "indicators")
    _release_freed()
    latest, aggregates = _rule_tables(indicators, catalogue, countries, as_of)
    present = set(indicators["indicator_id"].unique().tolist())
    stats = {
        "indicators": len(present),
        "economies": int(indicators["iso3"].nunique()),
        "year_min": int(indicators["year"].min()), "year_max": int(indicators["year"].max()),
        "unmapped_codes": int(len(unmapped)), "unmapped_rows": int(unmapped["rows"].sum()) if len(unmapped) else 0,
        "empty_indicators": sorted(set(catalogue.ids) - present),
    }
    outputs = {"indicators": indicators, "countries": countries, "latest": latest, "aggregates": aggregates,
               "age_structure": ages, "source_aggregates": source_aggregates, "_unmapped": unmapped}
    return outputs, stats


def _release_freed() -> None:
    """Give the memory of the arrow frames just dropped back to the system. Arrow's allocator keeps freed
    memory for its own later use, but the next steps allocate mostly numpy arrays (another allocator):
    kept, it would add to the peak instead of being reused."""
    pa.default_memory_pool().release_unused()


def _selected_rows(catalogue: Catalogue, frames: dict[str, pd.DataFrame], registry: Registry) -> pd.DataFrame:
    """The rows of every selected indicator, indicator after indicator, with ``projection`` and ``ind``."""
    position = {ind.id: i for i, ind in enumerate(catalogue)}
    selected = []
    for ind in catalogue:
        if ind.is_derived:
            continue
        rows = _select(ind, frames, registry)
        selected.append(rows.assign(projection=projection(ind, rows["year"]), ind=np.int32(position[ind.id])))
    return pd.concat(selected, ignore_index=True)


def _indicator_blocks(mapped: pd.DataFrame, catalogue: Catalogue, registry: Registry) -> list[pd.DataFrame]:
    """Mapped rows -> the rows of every indicator, derived ones included, with their quality flags: one
    block per indicator, in catalogue order."""
    position = {ind.id: i for i, ind in enumerate(catalogue)}
    mapped = mapped.loc[:, list(MAPPED_COLUMNS)]
    _check_unique_iso3(mapped, catalogue, registry)
    splits = flags.status_splits(catalogue)
    blocks = _split_blocks(mapped, catalogue)
    del mapped
    flags.check_totals(blocks, splits, registry)
    blocks = flags.flag_suspect(blocks, splits)
    for ind in catalogue.derivation_order():
        a_id, b_id = ind.derive.of
        blocks[ind.id] = derive(ind, position[ind.id], blocks[a_id], blocks[b_id])
    return [blocks.pop(i) for i in catalogue.ids if i in blocks]


def _source_aggregates(rows: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The sources' own aggregate rows in the declared ``source_aggregates`` layout (current per concept)."""
    described = _describe(rows.loc[:, ["geo", "geo_scheme", "year", "value", "projection", "file", "ind"]],
                          catalogue)
    table = tables.conform("source_aggregates", described)
    return _sorted(table, "source_aggregates")


def _validated(blocks: list[pd.DataFrame], catalogue: Catalogue, registry: Registry,
               countries: pd.DataFrame) -> pd.DataFrame:
    """The indicator blocks described and validated chunk by chunk, each kept in compact form
    (:func:`_compact_dtypes`): the store's string columns exist for one chunk at a time. ``blocks``
    is emptied on the way, so the memory of the blocks already validated can be given back."""
    file_of = {f.id: f.path for f in registry.files}
    known = set(countries["iso3"].astype(str))
    compact = _compact_dtypes(catalogue, known)
    chunks = (_describe(rows, catalogue) for rows in _block_chunks(blocks))

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(**{c: _categorical(frame[c], dtype) for c, dtype in compact.items()})

    kept = validate_indicator_chunks(chunks, known_iso3=known, bounds=catalogue.bounds(), file_of=file_of, keep=keep)
    return pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0]


def _block_chunks(blocks: list[pd.DataFrame], limit: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Consecutive blocks joined up to about ``limit`` rows (the chunks :func:`_chunks` makes of their
    concatenation), each block dropped from ``blocks`` once it is joined. No rows at all: one empty chunk,
    so that an empty store is still validated, as it was in one call."""
    groups = _block_groups([len(b) for b in blocks], limit)
    if not groups:
        yield pd.concat(blocks, ignore_index=True)
        return
    for group in groups:
        part = [blocks[i] for i in group]
        for i in group:
            blocks[i] = None
        yield pd.concat(part, ignore_index=True) if len(part) > 1 else part[0].reset_index(drop=True)
        del part


def _block_groups(lengths: list[int], limit: int = CHUNK_ROWS) -> list[list[int]]:
    """Positions of the non-empty blocks, grouped as :func:`_chunks` groups runs of rows: a group grows
    while it stays within ``limit`` rows, and a block is never split."""
    groups: list[list[int]] = []
    group_start = row = 0
    for i, n in enumerate(lengths):
        if not n:
            continue
        if groups and row + n - group_start <= limit:
            groups[-1].append(i)
        else:
            groups.append([i])
            group_start = row
        row += n
    return groups


def _compact_dtypes(catalogue: Catalogue, known_iso3: set[str]) -> dict[str, pd.CategoricalDtype]:
    """Categoricals for the indicators table's repeated strings, their categories sorted so that sorting
    and factorizing give the order of the strings. Every value is known before the rows are read:
    economies from the countries table (validation rejects others), the rest from the catalogue.
    Writing turns them back into the declared strings (:func:`write_table` conforms each row group)."""
    inds = catalogue.indicators

    def sorted_dtype(values) -> pd.CategoricalDtype:
        return pd.CategoricalDtype(sorted(set(values)))

    return {"iso3": sorted_dtype(known_iso3), "indicator_id": sorted_dtype(i.id for i in inds),
            "unit": sorted_dtype(i.unit for i in inds),
            "source_id": sorted_dtype(catalogue.series[i.id][0] for i in inds),
            "vintage": sorted_dtype(catalogue.series[i.id][1] for i in inds)}


def _rule_tables(indicators: pd.DataFrame, catalogue: Catalogue, countries: pd.DataFrame,
                 as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``latest.parquet`` and ``aggregates.parquet`` from the current, usable rows, chunk by chunk of whole
    indicators: both rules work per indicator (group aggregates also read the weight indicator, which
    every chunk is given), so the chunks' results put together are those of one call on all rows."""
    # Suspect rows stay in the store but take no part in latest values or group statistics.
    use = indicators["current"].to_numpy(dtype=bool) & flags.usable_mask(indicators)
    economies = sorted(indicators.loc[use, "iso3"].astype(str).unique())
    windows = {ind.id: ind.window or settings.DEFAULT_WINDOW for ind in catalogue}
    is_weight = (indicators["indicator_id"] == settings.WEIGHT_INDICATOR).to_numpy(dtype=bool)
    weights = _rule_rows(indicators, use & is_weight)
    latest, aggregates = [], []
    for lo, hi in _chunks(pd.factorize(indicators["indicator_id"])[0]):
        part = _rule_rows(indicators.iloc[lo:hi], use[lo:hi])
        if part.empty:
            continue
        latest.append(compute_latest(part, window=windows, ref_year=None, iso3=economies))
        has_weights = bool(is_weight[lo:hi].any())
        groups = compute_aggregates(part if has_weights else pd.concat([part, weights], ignore_index=True), countries,
                                    min_coverage=settings.MIN_COVERAGE, groups=settings.AGGREGATE_GROUPS, on=as_of,
                                    weight_indicator=settings.WEIGHT_INDICATOR)
        aggregates.append(groups if has_weights else
                          groups.loc[(groups["indicator_id"] != settings.WEIGHT_INDICATOR).to_numpy(dtype=bool)])
    if not latest:  # no usable row at all: the rules' own empty tables
        empty = _rule_rows(indicators, np.zeros(len(indicators), dtype=bool))
        latest = [compute_latest(empty, window=windows, ref_year=None, iso3=economies)]
        aggregates = [compute_aggregates(empty, countries, min_coverage=settings.MIN_COVERAGE,
                                         groups=settings.AGGREGATE_GROUPS, on=as_of,
                                         weight_indicator=settings.WEIGHT_INDICATOR)]
    aggregates = pd.concat(aggregates, ignore_index=True).sort_values(list(tables.table("aggregates").sort_by),
                                                                      kind="stable")
    return _sorted(pd.concat(latest, ignore_index=True), "latest"), aggregates.reset_index(drop=True)


def _rule_rows(indicators: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """The rows the rules read, with the store's dtypes (the compact categoricals turned back into strings)."""
    rows = indicators.loc[mask, list(RULE_COLUMNS)]
    compact = {c: _strings(rows[c]) for c in RULE_COLUMNS if isinstance(rows[c].dtype, pd.CategoricalDtype)}
    return rows.assign(**compact) if compact else rows


def _strings(column: pd.Series) -> pd.Series:
    """A categorical of strings as the store's ``string`` dtype, cast in arrow (no per-row Python objects)."""
    array = _arrow_column(column, pa.string()).cast(pa.large_string())
    return pd.Series(pd.array(array, dtype=pd.StringDtype()), index=column.index, name=column.name)


def _categorical(column: pd.Series, dtype: pd.CategoricalDtype) -> pd.Series:
    """Strings as a categorical of known categories, matched in arrow; a value outside them is an error."""
    codes = pc.index_in(pa.array(column.array), value_set=pa.array(dtype.categories.astype(str), pa.string()))
    if codes.null_count != column.isna().sum():
        raise StoreError(f"{column.name}: a value outside the expected {len(dtype.categories)} categories")
    codes = pc.fill_null(codes, -1).to_numpy(zero_copy_only=False).astype(np.int32)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), index=column.index, name=column.name)


def _countries(frames: dict[str, pd.DataFrame], registry: Registry, members: pd.DataFrame) -> pd.DataFrame:
    """The countries table from the WPP country entities and every World Bank Metadata_Country file."""

    wb_meta = [frame.rename(columns={"name": "wb_name"}).assign(vintage=registry.vintage_of(registry.file(fid)))
               for fid, frame in frames.items()
               if registry.file(fid).parser == "worldbank_api_metadata_country"]
    if not wb_meta:
        raise StoreError("data/sources.toml: no World Bank Metadata_Country file registered (regions, income groups)")
    return build_countries(frames[_wpp_country_file(registry).id], pd.concat(wb_meta, ignore_index=True), members)


def _split_blocks(mapped: pd.DataFrame, catalogue: Catalogue) -> dict[str, pd.DataFrame]:
    """Per indicator id, its rows: contiguous slices, since rows were concatenated indicator by indicator."""
    codes = mapped["ind"].to_numpy()
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([], dtype=int)
    ends = np.r_[starts[1:], len(codes)]
    blocks = {catalogue.indicators[int(codes[lo])].id: mapped.iloc[lo:hi] for lo, hi in zip(starts, ends)}
    empty = mapped.iloc[0:0]
    return {ind.id: blocks.get(ind.id, empty) for ind in catalogue if not ind.is_derived}


def _describe(rows: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Attach indicator_id, unit, source_id, vintage and current from the ``ind`` code (no per-row strings)."""
    codes = rows["ind"].to_numpy()
    inds = catalogue.indicators

    def column(values: list[str]) -> pd.api.extensions.ExtensionArray:
        # Built in arrow (dictionary -> string cast), already in the store's `string` dtype.
        categories = list(dict.fromkeys(values))
        lookup = np.array([categories.index(v) for v in values], dtype=np.int32)
        dictionary = pa.DictionaryArray.from_arrays(pa.array(lookup[codes]), pa.array(categories, pa.string()))
        return pd.array(dictionary.cast(pa.string()), dtype=pd.StringDtype())

    return rows.assign(
        indicator_id=column([i.id for i in inds]),
        unit=column([i.unit for i in inds]),
        source_id=column([catalogue.series[i.id][0] for i in inds]),
        vintage=column([catalogue.series[i.id][1] for i in inds]),
        current=np.array([i.id in catalogue.current_ids for i in inds], dtype=bool)[codes],
        file=rows["file"].astype("category"),
    ).drop(columns="ind")


def _sorted(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Rows in the table's declared sort order (one lexsort on integer codes: faster than sorting strings)."""
    keys = [pd.factorize(frame[c], sort=True)[0] for c in tables.table(name).sort_by]
    order = np.lexsort(keys[::-1])
    return frame.take(order).reset_index(drop=True)


def _check_unique_iso3(mapped: pd.DataFrame, catalogue: Catalogue, registry: Registry) -> None:
    """Two source codes mapping to one economy (e.g. an M49 code and its alias) would collide."""
    dup = mapped.duplicated(["ind", "iso3", "year"]).to_numpy()
    if dup.any():
        bad = mapped.iloc[int(np.flatnonzero(dup)[0])]
        raise InputError(registry.file(bad["file"]).path,
                         f"indicator {catalogue.indicators[int(bad['ind'])].id}: two source codes map to "
                         f"{bad['iso3']} for {bad['year']}", row=int(bad["row"]), rule="unique key")


def _commit(outputs: dict[str, pd.DataFrame], manifest: dict, processed_dir: Path) -> None:
    """Check every output, stage it, hash it into the manifest, then replace the previous store in one go.

    The indicators were checked by validate_indicators (the stored schema and more); the other tables
    are checked here, before anything is written.
    """
    checked = {name: outputs[name] if name == "indicators" else _checked(name, outputs[name]) for name in OUTPUTS}
    with staged_directory(processed_dir) as stage:
        for name in OUTPUTS:
            write_table(name, checked[name], stage / f"{name}.parquet")
        manifest["outputs"] = {name: {"rows": int(len(checked[name])), "sha256": sha256_file(stage / f"{name}.parquet")}
                               for name in OUTPUTS}
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
