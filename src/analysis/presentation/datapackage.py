"""The whole store as a download: ``reports/data/`` with one CSV per stored table and a Frictionless
``datapackage.json`` (in the same folder) describing every field (type, description, unit, bounds),
the sources with their pages and the licences of each resource.

Column meanings come from the one declaration of the stored tables (through
:func:`analysis.store.download.table_declarations`); titles, units and directions of the indicators are
the catalogue's own rows (``indicator_catalogue.csv``); sources and licences are the registry's. The
two large tables are gzip-compressed CSV (about a tenth of the size; pandas, R and frictionless read
them as they are). Files are byte-identical for the same store (no dates, fixed gzip header).
"""

from __future__ import annotations

import gzip
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.core import atomic
from analysis.store import api, download

DATA_DIR = "data"
DESCRIPTOR = "datapackage.json"
PACKAGE_NAME = "caring-societies-store"
#: tables large enough to be worth compressing
COMPRESSED = frozenset({"indicators", "source_aggregates"})
CATALOGUE = "indicator_catalogue"
SOURCES = "sources"
#: the catalogue's columns, as data/indicators.toml documents them (others are described by name)
CATALOGUE_FIELDS = {
    "indicator_id": "catalogue id of the indicator", "title": "title shown on charts",
    "definition": "what the indicator measures", "unit": "unit of its values", "group": "population group",
    "domain": "domain (health, social_protection, care, poverty_and_context)",
    "better": "which way is better: higher, lower or neutral (no better or worse)",
    "concept": "the concept measured; ids of other sources or vintages of the same thing share it",
    "window": "latest-value window in years (empty: the project default)",
    "tolerance": "nearest-year tolerance in years (empty: the project default)",
    "min_difference": "smallest difference worth a band colour, in the indicator's unit",
    "headline": "a headline indicator of the chart pack", "profile": "shown in the country profiles",
    "bounds_low": "lowest plausible value (empty: none)", "bounds_high": "highest plausible value (empty: none)",
}


@dataclass(frozen=True)
class DataPackage:
    """What :func:`write_data_package` wrote: the descriptor and the data files (paths under reports/)."""

    descriptor: Path
    files: tuple[Path, ...]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-") or "unspecified"


def _licences(source_ids: set[str]) -> list[dict]:
    """One entry per distinct licence of the sources (Frictionless: a ``name`` and a readable ``title``)."""
    reg = api.registry()
    found = sorted({reg.datasets[s].licence for s in source_ids if s in reg.datasets})
    return [{"name": _slug(text), "title": text} for text in found]


def _sources(source_ids: set[str]) -> list[dict]:
    reg = api.registry()
    return [{"title": reg.datasets[s].citation(), "path": reg.datasets[s].landing_page}
            for s in sorted(source_ids) if s in reg.datasets]


def _ids_in(frame: pd.DataFrame) -> set[str]:
    """Source ids of a table's ``source_id`` column (derived values join several with '+')."""
    if "source_id" not in frame.columns:
        return set()
    return {part for text in frame["source_id"].dropna().unique() for part in str(text).split("+")}


def _table_type(dtype: str) -> str:
    dtype = dtype.lower()
    return ("boolean" if dtype.startswith("bool") else "integer" if dtype.startswith("int")
            else "number" if dtype.startswith("float") else "string")


def _field(column: dict) -> dict:
    kind = _table_type(column["dtype"])
    unit = f" Unit: {column['unit']}." if column["unit"] else ""
    field = {"name": column["name"], "type": kind, "description": column["description"] + "." + unit}
    constraints: dict = {}
    if not column["nullable"] and column["default"] is None:
        constraints["required"] = True
    for key in ("minimum", "maximum"):
        if column[key] is not None:
            constraints[key] = int(column[key]) if kind == "integer" else column[key]
    if column["pattern"] is not None:
        constraints["pattern"] = column["pattern"]
    if constraints:
        field["constraints"] = constraints
    if column["unit"]:
        field["unit"] = column["unit"]
    return field


def _frame_field(name: str, series: pd.Series, description: str) -> dict:
    return {"name": name, "type": _table_type(str(series.dtype)), "description": description}


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _write(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    if name in COMPRESSED:
        target = folder / f"{name}.csv.gz"
        # mtime=0 and no file name in the header: the same table gives the same bytes
        atomic.write_bytes(target, gzip.compress(_csv_bytes(frame), compresslevel=6, mtime=0))
    else:
        target = folder / f"{name}.csv"
        atomic.write_bytes(target, _csv_bytes(frame))
    return target


def _resource(name: str, path: Path, description: str, schema: dict, source_ids: set[str]) -> dict:
    resource = {"name": name.replace("_", "-"), "path": path.name, "profile": "tabular-data-resource",
                "format": "csv", "encoding": "utf-8", "description": description, "schema": schema}
    if path.suffix == ".gz":
        resource["compression"] = "gz"
    if source_ids:
        resource["sources"] = _sources(source_ids)
        resource["licenses"] = _licences(source_ids)
    return resource


def _store_resource(name: str, declared: dict, frame: pd.DataFrame, folder: Path,
                    source_ids: set[str]) -> dict:
    schema = {"fields": [_field(c) for c in declared["columns"]], "primaryKey": list(declared["primary_key"])}
    keys = [(c, target) for c, target in (("iso3", "countries"), ("indicator_id", CATALOGUE))
            if c in frame.columns and name not in (target,)]
    if keys:
        schema["foreignKeys"] = [{"fields": c, "reference": {"resource": t.replace("_", "-"), "fields": c}}
                                 for c, t in keys]
    return _resource(name, _write(folder, name, frame), declared["description"], schema, source_ids)


def _catalogue_frame() -> pd.DataFrame:
    cat = api.catalogue()
    # an unbounded value has no bound: empty, not "inf" (which no CSV reader agrees on)
    for column in ("bounds_low", "bounds_high"):
        if column in cat.columns:
            cat[column] = cat[column].map(lambda v: None if v is None or (isinstance(v, float)
                                                                           and math.isinf(v)) else v)
    return cat


def _catalogue_resource(folder: Path) -> dict:
    cat = _catalogue_frame()
    fields = [_frame_field(c, cat[c], CATALOGUE_FIELDS.get(c, f"catalogue field `{c}` (data/indicators.toml)"))
              for c in cat.columns]
    schema = {"fields": fields, "primaryKey": ["indicator_id"]}
    return _resource(CATALOGUE, _write(folder, CATALOGUE, cat),
                     "the indicator catalogue (data/indicators.toml): title, definition, unit, population group, "
                     "domain, direction, concept, window and tolerance of every indicator", schema, set())


def _sources_resource(folder: Path) -> dict:
    table = api.sources()
    fields = [_frame_field(c, table[c], f"registry field `{c}` (data/sources.toml)") for c in table.columns]
    return _resource(SOURCES, _write(folder, SOURCES, table),
                     "the source datasets (data/sources.toml): publisher, title, vintage, licence and landing page",
                     {"fields": fields, "primaryKey": ["id"]}, set(table["id"].astype(str)))


def _metadata_source_ids() -> set[str]:
    """Datasets whose files describe economies (codes, names, regions): the sources of the countries table."""
    return {f.dataset for f in api.registry().files if f.role != "data"}


def _table_source_ids(name: str, frame: pd.DataFrame, by_indicator: dict[str, set[str]]) -> set[str]:
    if name == "countries":
        return _metadata_source_ids()
    if "source_id" in frame.columns:
        return _ids_in(frame)
    return {s for ind in frame["indicator_id"].dropna().unique() for s in by_indicator.get(str(ind), set())}


def package_descriptor(resources: list[dict], title: str, version: str) -> dict:
    every = sorted({json.dumps(lic, sort_keys=True) for r in resources for lic in r.get("licenses", [])})
    return {"name": PACKAGE_NAME, "title": f"{title}: the indicator store", "version": version or "0.0.0",
            "profile": "tabular-data-package",
            "description": "Every table of the project's indicator store (every source vintage kept; `current` marks "
                           "the one that stands for an indicator now), the indicator catalogue and the sources. "
                           "Each resource lists its own sources and licences; cite each source under its licence.",
            "licenses": [json.loads(lic) for lic in every], "resources": resources}


def write_data_package(reports: Path, *, processed_dir: Path | None = None, title: str = "",
                       version: str = "") -> DataPackage:
    """``reports/data/*.csv[.gz]`` (every stored table, the catalogue, the sources) and
    ``reports/data/datapackage.json`` describing them (paths relative to that folder, so the folder
    travels alone); returns what was written."""
    folder = reports / DATA_DIR
    declared = download.table_declarations()["tables"]
    frames = {name: download.store_table(name, processed_dir) for name in download.DOWNLOAD_TABLES}
    indicators = frames["indicators"].loc[:, ["indicator_id", "source_id"]].drop_duplicates()
    by_indicator: dict[str, set[str]] = {}
    for ind, sid in zip(indicators["indicator_id"].astype(str), indicators["source_id"].astype(str)):
        by_indicator.setdefault(ind, set()).update(sid.split("+"))
    resources = [_store_resource(name, declared[name], frame, folder, _table_source_ids(name, frame, by_indicator))
                 for name, frame in frames.items()]
    resources.append(_catalogue_resource(folder))
    resources.append(_sources_resource(folder))
    descriptor = folder / DESCRIPTOR
    atomic.write_text(descriptor, json.dumps(package_descriptor(resources, title, version), indent=2,
                                             ensure_ascii=False) + "\n")
    return DataPackage(descriptor=descriptor, files=tuple(folder / r["path"] for r in resources))
