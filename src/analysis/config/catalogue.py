"""The indicator catalogue (``data/indicators.toml``): what each stored indicator is and how it is made.

An indicator is either *selected* from one or more pinned files (by series code and exact values of
the file's other key columns) or *derived* from other indicators (ratio, difference, product).
``[[gap]]`` entries record population group x domain cells the sources cannot fill, and why.
Loading validates everything against the source registry, so a typo fails here with the file, the
line, the entry and the rule named (``data/indicators.toml, line <n>, [[indicator]] #<k> (<id>):
<problem>``), not deep inside the build.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from analysis.config.models import (
    BETTER,
    COMBINE,
    COMPUTED_KEYS,
    DERIVE_METHODS,
    DOMAINS,
    GROUPS,
    Derive,
    Gap,
    Indicator,
)
from analysis.config.registry import Registry, load_registry
from analysis.config.tomlfile import (
    ConfigError,
    Entry,
    TomlFile,
    check_top_level,
    did_you_mean,
    read_toml,
    validation_error,
)
from analysis.core import paths

__all__ = ["BETTER", "COMBINE", "DERIVE_METHODS", "DOMAINS", "GROUPS", "Catalogue", "CatalogueError", "Derive",
           "Gap", "Indicator", "UnknownIndicatorError", "load_catalogue"]


class CatalogueError(ConfigError):
    """The catalogue is malformed; the message names the file, the line and the entry."""


class UnknownIndicatorError(CatalogueError, KeyError):
    """An id that is neither an indicator nor an alias of one (a KeyError too, as for any lookup)."""


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True)

    indicators: tuple[Indicator, ...]
    gaps: tuple[Gap, ...] = ()
    source_path: Path = Path("data/indicators.toml")

    @cached_property
    def by_id(self) -> dict[str, Indicator]:
        return {ind.id: ind for ind in self.indicators}

    @cached_property
    def _by_alias(self) -> dict[str, Indicator]:
        return {alias: ind for ind in self.indicators for alias in ind.aliases}

    def resolve(self, indicator_id: str) -> Indicator:
        """The indicator of an id or of an earlier id (``aliases``); UnknownIndicatorError otherwise."""
        hit = self.by_id.get(indicator_id) or self._by_alias.get(indicator_id)
        if hit is None:
            raise UnknownIndicatorError(paths.relative_to_root(self.source_path),
                                        f"no indicator {indicator_id!r}" + did_you_mean(str(indicator_id), self.by_id))
        return hit

    def __getitem__(self, indicator_id: str) -> Indicator:
        return self.resolve(indicator_id)

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self.by_id or indicator_id in self._by_alias

    def __iter__(self) -> Iterator[Indicator]:  # type: ignore[override]  # iterate indicators, not fields
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    @property
    def ids(self) -> list[str]:
        return [ind.id for ind in self.indicators]

    def concepts(self) -> dict[str, list[str]]:
        """Concept -> the ids measuring it (several where sources or vintages overlap), in catalogue order."""
        out: dict[str, list[str]] = {}
        for ind in self.indicators:
            out.setdefault(ind.concept, []).append(ind.id)
        return out

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
            if not ready:  # load_catalogue rejects cycles; this guards hand-built catalogues
                raise CatalogueError(paths.relative_to_root(self.source_path),
                                     f"derive cycle among {[i.id for i in pending]}")
            order.extend(ready)
            done.update(ind.id for ind in ready)
            pending = [ind for ind in pending if ind.id not in done]
        return order

    def to_frame(self) -> pd.DataFrame:
        """One row per indicator with its metadata (select and derive as readable text)."""
        frame = pd.DataFrame([_row(ind) for ind in self.indicators])
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


def _row(ind: Indicator) -> dict:
    select = ", ".join(f"{k}={'+'.join(v) if isinstance(v, tuple) else v}" for k, v in ind.select.items())
    derive = ""
    if ind.derive:
        derive = f"{ind.derive.method}({', '.join(ind.derive.of)})"
        derive += f" x {ind.derive.scale:g}" if ind.derive.scale != 1 else ""
    return {
        "indicator_id": ind.id, "title": ind.title, "definition": ind.definition, "unit": ind.unit,
        "group": ind.group, "domain": ind.domain, "better": ind.better,
        "source": ind.source, "file": ind.file, "code": ind.code, "select": select, "derive": derive,
        "bounds_low": ind.bounds[0], "bounds_high": ind.bounds[1],
        "period": ind.period, "projection_from": ind.projection_from, "note": ind.note,
        "concept": ind.concept, "window": ind.window, "tolerance": ind.tolerance,
        "min_difference": ind.min_difference, "headline": ind.headline, "profile": ind.profile,
    }


# --------------------------------------------------------------------------------------------------
# Loading


@dataclass(frozen=True)
class _Parsed:
    """An indicator and the entry it was written in, for the messages of the cross-entry checks."""

    ind: Indicator
    entry: Entry

    def fail(self, key: str, problem: str) -> CatalogueError:
        return self.entry.fail(CatalogueError, problem, key)


def _parse_indicator(entry: Entry, registry: Registry) -> _Parsed:
    for key in COMPUTED_KEYS:
        if key in entry.raw:
            raise entry.fail(CatalogueError, f"{key!r} is computed from `file`; remove it", key)
    try:
        ind = Indicator.model_validate(entry.raw)
    except ValidationError as exc:
        known = [k for k in Indicator.model_fields if k not in COMPUTED_KEYS]
        raise validation_error(entry, CatalogueError, exc, known) from None
    item = _Parsed(ind, entry)
    if ind.is_derived:
        return item
    return _Parsed(ind.model_copy(update={"file_ids": _file_ids(item, registry)}), entry)


def _matching_files(pattern: str, registry: Registry) -> tuple[str, ...]:
    if not any(c in pattern for c in "*?["):  # most entries name one file: skip the pattern matching
        return (pattern,) if pattern in registry.by_id else ()
    return tuple(sorted(f.id for f in registry.files if fnmatch.fnmatchcase(f.id, pattern)))


def _file_ids(item: _Parsed, registry: Registry) -> tuple[str, ...]:
    """The registry files a selected indicator reads (``file`` may be a ``*`` pattern)."""
    ind = item.ind
    if ind.source not in registry.datasets:
        raise item.fail("source", f"unknown source {ind.source!r}" + did_you_mean(ind.source, registry.datasets)
                        + f"; datasets in {paths.relative_to_root(registry.source_path)}: "
                        + ", ".join(sorted(registry.datasets)))
    file_ids = _matching_files(ind.file, registry)
    if not file_ids:
        candidates = [f.id for f in registry.files_of(ind.source)]
        raise item.fail("file", f"unknown file {ind.file!r}: no file id in "
                        f"{paths.relative_to_root(registry.source_path)} matches" + did_you_mean(ind.file, candidates))
    for fid in file_ids:
        source_file = registry.file(fid)
        if source_file.dataset != ind.source:
            raise item.fail("file", f"file {fid!r} belongs to dataset {source_file.dataset!r}, "
                            f"not to source {ind.source!r}")
        if source_file.role != "data":
            raise item.fail("file", f"file {fid!r} has role {source_file.role!r}, not data")
    return file_ids


def _check_ids(items: list[_Parsed]) -> None:
    """Ids are unique; an alias is nobody's id and belongs to one indicator only."""
    owner: dict[str, _Parsed] = {}
    for item in items:
        first = owner.setdefault(item.ind.id, item)
        if first is not item:
            raise item.fail("id", f"duplicate id {item.ind.id!r}, already the id of {first.entry.at}")
    alias_owner: dict[str, _Parsed] = {}
    for item in items:
        for alias in item.ind.aliases:
            if alias in owner:
                raise item.fail("aliases", f"alias {alias!r} is the id of {owner[alias].entry.at}")
            first = alias_owner.setdefault(alias, item)
            if first is not item:
                raise item.fail("aliases", f"alias {alias!r} is already an alias of {first.entry.at}")


def _check_derive_inputs(items: list[_Parsed]) -> None:
    ids = {item.ind.id for item in items}
    renamed = {alias: item.ind.id for item in items for alias in item.ind.aliases}
    for item in items:
        for source in item.ind.derive.of if item.ind.derive else ():
            if source in renamed:
                raise item.fail("derive", f"derive refers to {source!r}, an earlier id of "
                                f"{renamed[source]!r}: use the current id")
            if source not in ids:
                raise item.fail("derive", f"derive refers to unknown indicator {source!r}"
                                + did_you_mean(source, ids))


def _check_cycles(items: list[_Parsed]) -> None:
    """Depth-first search; the message shows the loop and sits at the entry that closes it."""
    by_id = {item.ind.id: item for item in items}
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            loop = trail[trail.index(node):] + [node]
            raise by_id[trail[-1]].fail("derive", f"derive cycle {' -> '.join(loop)}")
        if node in done:
            return
        derive = by_id[node].ind.derive
        for child in derive.of if derive else ():
            visit(child, trail + [node])
        done.add(node)

    for node in by_id:
        visit(node, [])


def _check_concepts(items: list[_Parsed]) -> None:
    """Ids sharing a concept are compared value for value (vintage tables), so they share a unit; a
    concept spelled like an indicator id is that indicator's own concept."""
    by_id = {item.ind.id: item for item in items}
    first_of: dict[str, _Parsed] = {}
    for item in items:
        concept = item.ind.concept
        named = by_id.get(concept)
        if named is not None and named.ind.concept != concept:
            raise item.fail("concept", f"concept {concept!r} is the id of {named.entry.at}, whose own concept "
                            f"is {named.ind.concept!r}")
        first = first_of.setdefault(concept, item)
        if first.ind.unit != item.ind.unit:
            raise item.fail("concept", f"concept {concept!r} is measured in {first.ind.unit!r} by "
                            f"{first.entry.at} but in {item.ind.unit!r} here; ids sharing a concept share the unit")


def _parse_gaps(file: TomlFile) -> list[Gap]:
    gaps: list[Gap] = []
    seen: dict[tuple[str, str], Entry] = {}
    for entry in file.entries("gap"):
        try:
            gap = Gap.model_validate(entry.raw)
        except ValidationError as exc:
            raise validation_error(entry, CatalogueError, exc, Gap.model_fields) from None
        first = seen.setdefault((gap.group, gap.domain), entry)
        if first is not entry:
            raise entry.fail(CatalogueError, f"the cell {gap.group} x {gap.domain} already has a gap, {first.at}",
                             "domain")
        gaps.append(gap)
    return gaps


def load_catalogue(path: Path | None = None, registry: Registry | None = None) -> Catalogue:
    """Read and validate ``data/indicators.toml`` against the source registry.

    Raises :class:`CatalogueError` naming the file, the line, the entry and the rule broken.
    """
    path = Path(path or paths.catalogue_file())
    file = read_toml(path, CatalogueError, "indicator catalogue")
    check_top_level(file, CatalogueError, ("indicator", "gap"))
    registry = registry or load_registry()
    items = [_parse_indicator(entry, registry) for entry in file.entries("indicator")]
    if not items:
        raise file.fail(CatalogueError, "no [[indicator]] entries")
    for check in (_check_ids, _check_derive_inputs, _check_cycles, _check_concepts):
        check(items)
    catalogue = Catalogue(indicators=tuple(item.ind for item in items), gaps=tuple(_parse_gaps(file)),
                          source_path=path)
    missing = catalogue.uncovered_cells()
    if missing:
        cells = ", ".join(f"{g} x {d}" for g, d in missing)
        raise file.fail(CatalogueError, f"cells with neither an indicator nor a [[gap]]: {cells}")
    return catalogue
