"""The indicator catalogue (``data/indicators.toml``): what each stored indicator is and how it is made.

An indicator is either *selected* from one or more pinned files (by series code and exact values of
the file's other key columns) or *derived* from other indicators (ratio, difference, product).
``[[gap]]`` entries record population group x domain cells the sources cannot fill, and why.
Loading validates everything against the source registry, so a typo fails here with the entry named,
not deep inside the build.
"""

from __future__ import annotations

import fnmatch
import math
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from analysis.config.registry import Registry, load_registry
from analysis.core import paths
from analysis.core.errors import AnalysisError

GROUPS = ("older_persons", "children", "mothers", "persons_with_disabilities", "whole_population")
DOMAINS = ("social_protection", "health", "care", "poverty_and_context")
BETTER = ("higher", "lower", "neutral")
DERIVE_METHODS = {"ratio": 2, "difference": 2, "product": 2}
COMBINE = ("sum",)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")

_INDICATOR_KEYS = {"id", "title", "definition", "unit", "group", "domain", "better", "source", "file", "code",
                   "select", "combine", "bounds", "period", "projection_from", "derive", "note",
                   "concept", "window", "tolerance", "min_difference", "headline", "profile", "aliases"}
_REQUIRED = ("id", "title", "definition", "unit", "group", "domain", "better")


class CatalogueError(AnalysisError, ValueError):
    """The catalogue is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Derive:
    method: str
    of: tuple[str, ...]
    scale: float = 1.0


@dataclass(frozen=True)
class Indicator:
    id: str
    title: str
    definition: str
    unit: str
    group: str
    domain: str
    better: str
    source: str | None = None
    file: str | None = None
    code: str | None = None
    select: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    combine: str | None = None
    bounds: tuple[float, float] = (0.0, math.inf)
    period: int = 1
    projection_from: int | None = None
    derive: Derive | None = None
    note: str = ""
    file_ids: tuple[str, ...] = ()
    #: what the indicator measures, shared by ids that measure the same thing from other sources
    concept: str = ""
    #: latest-value window in years (None: the project default in analysis.core.settings)
    window: int | None = None
    #: nearest-year tolerance in years (None: the project default)
    tolerance: int | None = None
    #: the smallest difference worth a band colour, in the indicator's unit
    min_difference: float = 0.0
    headline: bool = False
    profile: bool = False
    #: earlier ids of this indicator (renamed series), accepted wherever an id is asked for
    aliases: tuple[str, ...] = ()

    @property
    def is_derived(self) -> bool:
        return self.derive is not None


@dataclass(frozen=True)
class Gap:
    group: str
    domain: str
    reason: str


@dataclass(frozen=True)
class Catalogue:
    indicators: tuple[Indicator, ...]
    gaps: tuple[Gap, ...]
    source_path: Path = Path("data/indicators.toml")

    @cached_property
    def by_id(self) -> dict[str, Indicator]:
        return {ind.id: ind for ind in self.indicators}

    def __getitem__(self, indicator_id: str) -> Indicator:
        try:
            return self.by_id[indicator_id]
        except KeyError:
            raise KeyError(f"{self.source_path.name}: no indicator {indicator_id!r}") from None

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self.by_id

    def __iter__(self):
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    @property
    def ids(self) -> list[str]:
        return [ind.id for ind in self.indicators]

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Plausible range of every indicator, for the schema check."""
        return {ind.id: ind.bounds for ind in self.indicators}

    def needed_files(self) -> list[str]:
        """File ids read by selected indicators, in catalogue order, without repeats."""
        return list(dict.fromkeys(f for ind in self.indicators for f in ind.file_ids))

    def derivation_order(self) -> list[Indicator]:
        """Derived indicators ordered so that each comes after the indicators it is made from."""
        done = {ind.id for ind in self.indicators if not ind.is_derived}
        pending = [ind for ind in self.indicators if ind.is_derived]
        order: list[Indicator] = []
        while pending:
            ready = [ind for ind in pending if all(i in done for i in ind.derive.of)]
            if not ready:  # validated at load time; kept as a guard
                raise CatalogueError(f"{self.source_path.name}: derive cycle among {[i.id for i in pending]}")
            for ind in ready:
                order.append(ind)
                done.add(ind.id)
            pending = [ind for ind in pending if ind.id not in done]
        return order

    def to_frame(self) -> pd.DataFrame:
        """One row per indicator with its metadata (select and derive as readable text)."""
        rows = []
        for ind in self.indicators:
            rows.append({
                "indicator_id": ind.id, "title": ind.title, "definition": ind.definition, "unit": ind.unit,
                "group": ind.group, "domain": ind.domain, "better": ind.better,
                "source": ind.source, "file": ind.file, "code": ind.code,
                "select": ", ".join(f"{k}={'+'.join(v) if isinstance(v, tuple) else v}" for k, v in ind.select.items()),
                "derive": (f"{ind.derive.method}({', '.join(ind.derive.of)})"
                           + (f" x {ind.derive.scale:g}" if ind.derive.scale != 1 else "")) if ind.derive else "",
                "bounds_low": ind.bounds[0], "bounds_high": ind.bounds[1],
                "period": ind.period, "projection_from": ind.projection_from, "note": ind.note,
                "concept": ind.concept, "window": ind.window, "tolerance": ind.tolerance,
                "min_difference": ind.min_difference, "headline": ind.headline, "profile": ind.profile,
            })
        frame = pd.DataFrame(rows)
        return frame.astype({"projection_from": "Int64", "window": "Int64", "tolerance": "Int64"})

    def coverage_matrix(self) -> pd.DataFrame:
        """Group x domain: the indicator ids of each cell, or ``gap: <reason>`` where there are none.

        A gap recorded for a cell that also has indicators is appended (it names what is missing).
        """
        cells: dict[tuple[str, str], list[str]] = {(g, d): [] for g in GROUPS for d in DOMAINS}
        for ind in self.indicators:
            cells[(ind.group, ind.domain)].append(ind.id)
        gaps = {(g.group, g.domain): g.reason for g in self.gaps}
        frame = pd.DataFrame(index=pd.Index(GROUPS, name="group"), columns=list(DOMAINS), dtype="str")
        for (g, d), ids in cells.items():
            parts = [", ".join(ids)] if ids else []
            if (g, d) in gaps:
                parts.append(f"gap: {gaps[(g, d)]}")
            frame.loc[g, d] = "; ".join(parts)
        return frame

    def uncovered_cells(self) -> list[tuple[str, str]]:
        """Cells with neither an indicator nor a gap (load_catalogue rejects these)."""
        filled = {(i.group, i.domain) for i in self.indicators} | {(g.group, g.domain) for g in self.gaps}
        return [(g, d) for g in GROUPS for d in DOMAINS if (g, d) not in filled]


def _fail(path: Path, where: str, problem: str) -> CatalogueError:
    return CatalogueError(f"{path.name}: {where}: {problem}")


def _parse_select(raw: object, path: Path, where: str) -> dict[str, str | tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise _fail(path, where, "select must be a table of dim = value")
    select: dict[str, str | tuple[str, ...]] = {}
    for dim, value in raw.items():
        if isinstance(value, str):
            select[dim] = value
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            if len(set(value)) != len(value):
                raise _fail(path, where, f"select {dim} lists a value twice")
            select[dim] = tuple(value)
        else:
            raise _fail(path, where, f"select {dim} must be a string or a non-empty list of strings")
    return select


def _parse_bounds(raw: object, unit: str, path: Path, where: str) -> tuple[float, float]:
    if raw is None:
        return (0.0, 100.0) if unit.startswith("%") else (0.0, math.inf)
    if (not isinstance(raw, list) or len(raw) != 2
            or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in raw) or raw[0] >= raw[1]):
        raise _fail(path, where, "bounds must be [low, high] numbers with low < high")
    return float(raw[0]), float(raw[1])


def _parse_indicator(entry: dict, number: int, registry: Registry, path: Path) -> Indicator:
    where = f"[[indicator]] #{number}" + (f" ({entry['id']})" if isinstance(entry.get("id"), str) else "")
    unknown = set(entry) - _INDICATOR_KEYS
    if unknown:
        raise _fail(path, where, f"unknown key(s) {sorted(unknown)}")
    for key in _REQUIRED:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise _fail(path, where, f"missing or empty {key!r}")
    if not _ID.match(entry["id"]):
        raise _fail(path, where, "id must be snake_case (a-z, 0-9, _)")
    for key, allowed in (("group", GROUPS), ("domain", DOMAINS), ("better", BETTER)):
        if entry[key] not in allowed:
            raise _fail(path, where, f"unknown {key} {entry[key]!r}; one of {', '.join(allowed)}")
    derive = None
    file_ids: tuple[str, ...] = ()
    select = _parse_select(entry.get("select", {}), path, where)
    combine = entry.get("combine")
    if "derive" in entry:
        for key in ("source", "file", "code", "select", "combine"):
            if key in entry:
                raise _fail(path, where, f"a derived indicator has no {key!r}")
        raw = entry["derive"]
        if not isinstance(raw, dict) or raw.get("method") not in DERIVE_METHODS:
            raise _fail(path, where, f"derive.method must be one of {', '.join(DERIVE_METHODS)}")
        of = raw.get("of")
        if not isinstance(of, list) or len(of) != DERIVE_METHODS[raw["method"]] or not all(isinstance(i, str) for i in of):
            raise _fail(path, where, f"derive.of must list {DERIVE_METHODS[raw['method']]} indicator ids")
        scale = raw.get("scale", 1.0)
        if not isinstance(scale, int | float) or isinstance(scale, bool) or scale == 0:
            raise _fail(path, where, "derive.scale must be a non-zero number")
        extra = set(raw) - {"method", "of", "scale"}
        if extra:
            raise _fail(path, where, f"unknown derive key(s) {sorted(extra)}")
        derive = Derive(method=raw["method"], of=tuple(of), scale=float(scale))
    else:
        for key in ("source", "file", "code"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise _fail(path, where, f"a selected indicator needs {key!r} (or a `derive`)")
        if entry["source"] not in registry.datasets:
            raise _fail(path, where, f"unknown source {entry['source']!r}; datasets in {registry.source_path.name}: "
                        f"{', '.join(sorted(registry.datasets))}")
        pattern = entry["file"]
        file_ids = tuple(sorted(f.id for f in registry.files if fnmatch.fnmatchcase(f.id, pattern)))
        if not file_ids:
            raise _fail(path, where, f"unknown file {pattern!r} (no file id in {registry.source_path.name} matches)")
        for fid in file_ids:
            sf = registry.file(fid)
            if sf.dataset != entry["source"]:
                raise _fail(path, where, f"file {fid!r} belongs to dataset {sf.dataset!r}, not {entry['source']!r}")
            if sf.role != "data":
                raise _fail(path, where, f"file {fid!r} has role {sf.role!r}, not data")
        lists = [dim for dim, v in select.items() if isinstance(v, tuple)]
        if lists and combine not in COMBINE:
            raise _fail(path, where, f"select lists several values of {lists}: set combine = \"sum\"")
        if combine is not None and (combine not in COMBINE or not lists):
            raise _fail(path, where, "combine = \"sum\" needs a select with a list of values")
    period = entry.get("period", 1)
    if not isinstance(period, int) or isinstance(period, bool) or period < 1:
        raise _fail(path, where, "period must be a positive integer")
    projection_from = entry.get("projection_from")
    if projection_from is not None and (not isinstance(projection_from, int) or isinstance(projection_from, bool)):
        raise _fail(path, where, "projection_from must be a year")
    for key in ("window", "tolerance"):
        value = entry.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < (1 if key == "window" else 0)):
            raise _fail(path, where, f"{key} must be a whole number of years")
    min_difference = entry.get("min_difference", 0.0)
    if not isinstance(min_difference, int | float) or isinstance(min_difference, bool) or min_difference < 0:
        raise _fail(path, where, "min_difference must be a number >= 0 (in the indicator's unit)")
    for key in ("headline", "profile"):
        if not isinstance(entry.get(key, False), bool):
            raise _fail(path, where, f"{key} must be true or false")
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and _ID.match(a) for a in aliases):
        raise _fail(path, where, "aliases must be a list of snake_case ids")
    return Indicator(
        id=entry["id"], title=entry["title"].strip(), definition=" ".join(entry["definition"].split()),
        unit=entry["unit"], group=entry["group"], domain=entry["domain"], better=entry["better"],
        source=entry.get("source"), file=entry.get("file"), code=entry.get("code"), select=select,
        combine=combine, bounds=_parse_bounds(entry.get("bounds"), entry["unit"], path, where), period=period,
        projection_from=projection_from, derive=derive, note=entry.get("note", ""), file_ids=file_ids,
        concept=entry.get("concept", entry["id"]), window=entry.get("window"), tolerance=entry.get("tolerance"),
        min_difference=float(min_difference), headline=entry.get("headline", False),
        profile=entry.get("profile", False), aliases=tuple(aliases),
    )


def _check_derivations(indicators: list[Indicator], path: Path) -> None:
    ids = {ind.id for ind in indicators}
    for ind in indicators:
        if ind.derive:
            unknown = [i for i in ind.derive.of if i not in ids]
            if unknown:
                raise _fail(path, f"[[indicator]] {ind.id}", f"derive refers to unknown indicator(s) {unknown}")
    # Depth-first search for cycles; the message shows the loop.
    graph = {ind.id: (ind.derive.of if ind.derive else ()) for ind in indicators}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            loop = trail[trail.index(node):] + [node]
            raise _fail(path, f"[[indicator]] {node}", f"derive cycle {' -> '.join(loop)}")
        state[node] = 1
        for child in graph[node]:
            visit(child, trail + [node])
        state[node] = 2

    for node in graph:
        visit(node, [])


def load_catalogue(path: Path | None = None, registry: Registry | None = None) -> Catalogue:
    """Read and validate ``data/indicators.toml`` against the source registry."""
    path = Path(path or paths.catalogue_file())
    registry = registry or load_registry()
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"{path.name}: indicator catalogue not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path.name}: not valid TOML: {exc}") from None
    unknown = set(doc) - {"indicator", "gap"}
    if unknown:
        raise CatalogueError(f"{path.name}: unknown top-level key(s) {sorted(unknown)}")
    indicators: list[Indicator] = []
    seen: set[str] = set()
    for number, entry in enumerate(doc.get("indicator", []), start=1):
        ind = _parse_indicator(entry, number, registry, path)
        if ind.id in seen:
            raise _fail(path, f"[[indicator]] #{number}", f"duplicate id {ind.id!r}")
        seen.add(ind.id)
        indicators.append(ind)
    if not indicators:
        raise CatalogueError(f"{path.name}: no [[indicator]] entries")
    _check_derivations(indicators, path)
    gaps: list[Gap] = []
    for number, entry in enumerate(doc.get("gap", []), start=1):
        where = f"[[gap]] #{number}"
        if set(entry) != {"group", "domain", "reason"}:
            raise _fail(path, where, "a gap has exactly group, domain and reason")
        if entry["group"] not in GROUPS or entry["domain"] not in DOMAINS:
            raise _fail(path, where, f"unknown group/domain {entry['group']!r}/{entry['domain']!r}")
        if not str(entry["reason"]).strip():
            raise _fail(path, where, "empty reason")
        gaps.append(Gap(entry["group"], entry["domain"], " ".join(str(entry["reason"]).split())))
    catalogue = Catalogue(indicators=tuple(indicators), gaps=tuple(gaps), source_path=path)
    missing = catalogue.uncovered_cells()
    if missing:
        cells = ", ".join(f"{g} x {d}" for g, d in missing)
        raise CatalogueError(f"{path.name}: cells with neither an indicator nor a [[gap]]: {cells}")
    return catalogue
