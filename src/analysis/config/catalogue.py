"""The indicator catalogue (``data/indicators.toml``): what each stored indicator is and how it is made.

An indicator is either *selected* from one or more pinned files (by series code and exact values of
the file's other key columns) or *derived* from other indicators (ratio, difference, product).
``[[gap]]`` entries record population group x domain cells the sources cannot fill, and why.
``[[concept]]`` entries state, for each concept measured by several ids (sources or vintages), which
one is current: the id whose source comes first in ``prefer``, and among ids of one source the newest
vintage. Concepts with one id need no entry.
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
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analysis.config.models import (
    BETTER,
    COMBINE,
    COMPUTED_KEYS,
    DERIVE_METHODS,
    DOMAINS,
    GROUPS,
    Concept,
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

__all__ = ["BETTER", "COMBINE", "DERIVE_METHODS", "DOMAINS", "GROUPS", "Catalogue", "CatalogueError", "Concept",
           "Derive", "Gap", "Indicator", "NoSuchSeriesError", "UnknownIndicatorError", "load_catalogue"]


class CatalogueError(ConfigError):
    """The catalogue is malformed; the message names the file, the line and the entry."""


class UnknownIndicatorError(CatalogueError, KeyError):
    """An id that is neither an indicator nor an alias of one (a KeyError too, as for any lookup)."""


class NoSuchSeriesError(CatalogueError, LookupError):
    """An unknown concept, or no series of a concept from the source or vintage asked for."""


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True)

    indicators: tuple[Indicator, ...]
    gaps: tuple[Gap, ...] = ()
    concept_rules: tuple[Concept, ...] = ()
    #: id -> (source id, vintage) of its values; '+' / '; '-joined over the inputs of a derived id
    series: dict[str, tuple[str, str]] = Field(default_factory=dict)
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

    @cached_property
    def _members(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for ind in self.indicators:
            out.setdefault(ind.concept, []).append(ind.id)
        return {concept: tuple(ids) for concept, ids in out.items()}

    def concepts(self) -> dict[str, list[str]]:
        """Concept -> the ids measuring it (several where sources or vintages overlap), in catalogue order."""
        return {concept: list(ids) for concept, ids in self._members.items()}

    # ------------------------------------------------------------------ concepts and current series

    @cached_property
    def rules(self) -> dict[str, Concept]:
        return {c.id: c for c in self.concept_rules}

    def source_of(self, indicator_id: str) -> str:
        return self.series[self.resolve(indicator_id).id][0]

    def vintage_of(self, indicator_id: str) -> str:
        return self.series[self.resolve(indicator_id).id][1]

    def concept_of(self, name: str) -> str:
        """The concept named ``name``, else the concept of the indicator (or alias) ``name``."""
        if name in self._members:
            return name
        if name in self:
            return self.resolve(name).concept
        raise NoSuchSeriesError(paths.relative_to_root(self.source_path), f"no concept or indicator {name!r}"
                                + did_you_mean(str(name), [*self._members, *self.by_id]))

    def series_of(self, concept: str) -> list[str]:
        """The ids measuring a concept (or the concept of an indicator id), the current one first, then
        in the order of the concept's rule (``prefer``, newest vintage first within a source)."""
        name = self.concept_of(concept)
        ids, rule = self._members[name], self.rules.get(name)
        if rule is None:
            return list(ids)
        by_vintage = sorted(ids, key=lambda i: self.series[i][1], reverse=True)
        return sorted(by_vintage, key=lambda i: rule.prefer.index(self.series[i][0]))

    def current_series(self, concept: str) -> str:
        """The id that stands for a concept now (its rule in ``[[concept]]``; the only id otherwise)."""
        return self.series_of(concept)[0]

    @cached_property
    def current_ids(self) -> frozenset[str]:
        return frozenset(self.current_series(c) for c in self._members)

    def is_current(self, indicator_id: str) -> bool:
        return self.resolve(indicator_id).id in self.current_ids

    def pick(self, indicator_id: str, source: str | None = None, vintage: str | None = None) -> str:
        """The member of ``indicator_id``'s concept from ``source`` and/or of ``vintage`` (the id itself
        when neither is given); NoSuchSeriesError naming the concept and what it has otherwise."""
        own = self.resolve(indicator_id).id
        if source is None and vintage is None:
            return own
        members = self.series_of(own)
        hits = [i for i in members if (source is None or self.series[i][0] == source)
                and (vintage is None or self.series[i][1] == vintage)]
        if not hits:
            concept = self.concept_of(own)
            have = ", ".join(f"{i} (source {self.series[i][0]}, vintage {self.series[i][1]})" for i in members)
            wanted = " and ".join(f"{k} {v!r}" for k, v in (("source", source), ("vintage", vintage)) if v)
            raise NoSuchSeriesError(paths.relative_to_root(self.source_path),
                                    f"concept {concept!r} (of {indicator_id!r}) has no series with {wanted}; "
                                    f"its series: {have}")
        return hits[0]

    def concepts_of_code(self, code: str) -> list[str]:
        """Concepts with a series of this source code, including codes a ``[[concept]]`` records as renamed
        (so an old code such as sh_med_heawor finds the concepts now published as sh_med_den)."""
        found = [ind.concept for ind in self.indicators if ind.code == code]
        found += [c.id for c in self.concept_rules for r in c.renamed if code in (r.old_code, r.new_code)]
        return list(dict.fromkeys(found))

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
        frame = pd.DataFrame([_row(ind) | {"current": ind.id in self.current_ids} for ind in self.indicators])
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


def _series(items: list[_Parsed], registry: Registry) -> dict[str, tuple[str, str]]:
    """(source, vintage) of every id: a selected id's from its files, a derived id's joined from its inputs
    (the same text the build stores in ``source_id`` and ``vintage``)."""
    by_id = {item.ind.id: item.ind for item in items}
    out: dict[str, tuple[str, str]] = {}

    def visit(ind: Indicator) -> tuple[str, str]:
        if ind.id not in out:
            if ind.is_derived:
                parts = [visit(by_id[i]) for i in ind.derive.of]
                out[ind.id] = ("+".join(dict.fromkeys(x for p in parts for x in p[0].split("+"))),
                               "; ".join(dict.fromkeys(x for p in parts for x in p[1].split("; "))))
            else:
                out[ind.id] = (ind.source, registry.vintage_of(registry.file(ind.file_ids[0])))
        return out[ind.id]

    for item in items:
        visit(item.ind)
    return out


def _parse_concept_rules(file: TomlFile, items: list[_Parsed], registry: Registry,
                         series: dict[str, tuple[str, str]]) -> list[Concept]:
    """Each ``[[concept]]``: a known concept, known sources, renames that match its ids, and a rule
    that ranks every id of the concept without a tie."""
    members: dict[str, list[_Parsed]] = {}
    for item in items:
        members.setdefault(item.ind.concept, []).append(item)
    rules: list[Concept] = []
    seen: dict[str, Entry] = {}
    for entry in file.entries("concept"):
        try:
            rule = Concept.model_validate(entry.raw)
        except ValidationError as exc:
            raise validation_error(entry, CatalogueError, exc, Concept.model_fields) from None
        first = seen.setdefault(rule.id, entry)
        if first is not entry:
            raise entry.fail(CatalogueError, f"duplicate concept {rule.id!r}, already stated in {first.at}", "id")
        if rule.id not in members:
            raise entry.fail(CatalogueError, f"no indicator has concept {rule.id!r}" + did_you_mean(rule.id, members),
                             "id")
        _check_rule(entry, rule, members[rule.id], registry, series)
        rules.append(rule)
    for concept, group in members.items():
        if len(group) > 1 and concept not in seen:
            raise group[1].fail("concept", f"concept {concept!r} is measured by {len(group)} ids "
                                f"({', '.join(i.ind.id for i in group)}) but no [[concept]] entry states which is "
                                "current (add one with its id, title, prefer = [sources, best first] and note)")
    return rules


def _check_rule(entry: Entry, rule: Concept, group: list[_Parsed], registry: Registry,
                series: dict[str, tuple[str, str]]) -> None:
    for source in rule.prefer:
        unknown = [part for part in source.split("+") if part not in registry.datasets]
        if unknown:
            raise entry.fail(CatalogueError, f"prefer names unknown source {unknown[0]!r}"
                             + did_you_mean(unknown[0], registry.datasets), "prefer")
    ranked: dict[tuple[str, str], str] = {}
    for item in group:
        source, vintage = series[item.ind.id]
        if source not in rule.prefer:
            raise entry.fail(CatalogueError, f"{item.ind.id} ({item.entry.at}) has source {source!r}, which prefer "
                             f"does not list; prefer must rank every source of the concept", "prefer")
        other = ranked.setdefault((source, vintage), item.ind.id)
        if other != item.ind.id:
            raise entry.fail(CatalogueError, f"{other} and {item.ind.id} share source {source!r} and vintage "
                             f"{vintage!r}: the rule cannot tell which is current", "prefer")
    codes = {(i.ind.source, i.ind.code) for i in group}
    for rename in rule.renamed:
        for source, code in ((rename.old_source, rename.old_code), (rename.new_source, rename.new_code)):
            if (source, code) not in codes:
                raise entry.fail(CatalogueError, f"renamed: no id of concept {rule.id!r} reads series {code!r} of "
                                 f"source {source!r}", "renamed")


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
    check_top_level(file, CatalogueError, ("indicator", "gap", "concept"))
    registry = registry or load_registry()
    items = [_parse_indicator(entry, registry) for entry in file.entries("indicator")]
    if not items:
        raise file.fail(CatalogueError, "no [[indicator]] entries")
    for check in (_check_ids, _check_derive_inputs, _check_cycles, _check_concepts):
        check(items)
    series = _series(items, registry)
    rules = _parse_concept_rules(file, items, registry, series)
    catalogue = Catalogue(indicators=tuple(item.ind for item in items), gaps=tuple(_parse_gaps(file)),
                          concept_rules=tuple(rules), series=series, source_path=path)
    missing = catalogue.uncovered_cells()
    if missing:
        cells = ", ".join(f"{g} x {d}" for g, d in missing)
        raise file.fail(CatalogueError, f"cells with neither an indicator nor a [[gap]]: {cells}")
    return catalogue
