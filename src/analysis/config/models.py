"""Typed, validated entries of the configuration files (pydantic v2).

One model per TOML table: :class:`Indicator` (with :class:`Derive`), :class:`Gap` and
:class:`Concept` (with :class:`Rename`) of ``data/indicators.toml``; :class:`Dataset` and
:class:`SourceFile` of ``data/sources.toml``. Each model checks what can be judged from the entry
alone; the loaders check what needs the whole file or the other file (ids, references, cycles).
Rule violations are raised as ``config_rule`` errors whose context names the key at fault, so the
loader can report that key's line.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic_core import PydanticCustomError

from analysis.core import paths

GROUPS = ("older_persons", "children", "mothers", "persons_with_disabilities", "whole_population")
DOMAINS = ("social_protection", "health", "care", "poverty_and_context")
BETTER = ("higher", "lower", "neutral")
#: derivation method -> number of indicators it is made from
DERIVE_METHODS = {"ratio": 2, "difference": 2, "product": 2}
COMBINE = ("sum",)
ROLES = ("data", "metadata", "entities", "concepts")
RAW_GITHUB = "https://raw.githubusercontent.com/"

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def rule(problem: str, key: str | None = None) -> PydanticCustomError:
    """A validation error in the project's words; ``key`` (dotted, relative to the model) locates it."""
    return PydanticCustomError("config_rule", "{problem}", {"problem": problem, "key": key or ""})


def _snake(value: str) -> str:
    if not _SNAKE.match(value):
        raise rule(f"{value!r} is not a snake_case id (a-z, 0-9 and _, starting with a letter)")
    return value


def _text(value: str) -> str:
    if not value.strip():
        raise rule("must not be empty")
    return value.strip()


def _prose(value: str) -> str:
    """Whitespace folded, so multi-line TOML strings read as one paragraph."""
    return " ".join(value.split())


def _no_repeats(values: tuple[str, ...]) -> tuple[str, ...]:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise rule(f"lists {', '.join(map(repr, repeated))} more than once")
    return values


SnakeId = Annotated[StrictStr, AfterValidator(_snake)]
Text = Annotated[StrictStr, AfterValidator(_text)]
Prose = Annotated[StrictStr, AfterValidator(_prose)]
IdList = Annotated[tuple[SnakeId, ...], AfterValidator(_no_repeats)]
Years = Annotated[StrictInt, Field(ge=1)]
Number = Annotated[StrictFloat, Field(allow_inf_nan=False)]


class _Entry(BaseModel):
    """Frozen, and strict about keys: an unknown key is a typo until proven otherwise."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------------------------------
# data/indicators.toml


class Derive(_Entry):
    method: Literal[tuple(DERIVE_METHODS)]
    of: IdList
    scale: Number = 1.0

    @model_validator(mode="after")
    def _consistent(self) -> Derive:
        wanted = DERIVE_METHODS[self.method]
        if len(self.of) != wanted:
            raise rule(f"{self.method} is made of {wanted} indicators; of lists {len(self.of)}", "of")
        if self.scale == 0:
            raise rule("scale must not be 0", "scale")
        return self


def _select(value: Any) -> Any:
    """``{dim = "value"}`` or ``{dim = ["a", "b"]}`` (a non-empty list of distinct strings)."""
    if not isinstance(value, dict):
        raise rule('must be a table of dim = "value" (or dim = ["value", ...])')
    out: dict[str, str | tuple[str, ...]] = {}
    for dim, wanted in value.items():
        if isinstance(wanted, str):
            out[dim] = wanted
        elif isinstance(wanted, list | tuple) and wanted and all(isinstance(v, str) for v in wanted):
            if len(set(wanted)) != len(wanted):
                raise rule(f"{dim} lists a value twice", dim)
            out[dim] = tuple(wanted)
        else:
            raise rule(f"{dim} must be a string or a non-empty list of strings", dim)
    return out


def _bounds(value: Any) -> Any:
    if (not isinstance(value, list | tuple) or len(value) != 2
            or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in value)
            or not value[0] < value[1]):
        raise rule("must be [low, high], two numbers with low < high")
    return (float(value[0]), float(value[1]))


def default_bounds(unit: str) -> tuple[float, float]:
    """Percentages lie in [0, 100]; anything else is only known to be non-negative."""
    return (0.0, 100.0) if unit.startswith("%") else (0.0, math.inf)


#: keys of an [[indicator]] that are computed by the loader, never written in the file
COMPUTED_KEYS = ("file_ids",)
#: keys only a selected indicator has (a derived one names its inputs instead)
SELECTION_KEYS = ("source", "file", "code", "select", "combine")


class Indicator(_Entry):
    id: SnakeId
    title: Text
    definition: Prose
    unit: Text
    group: Literal[GROUPS]
    domain: Literal[DOMAINS]
    better: Literal[BETTER]
    source: Text | None = None
    file: Text | None = None
    code: Text | None = None
    select: Annotated[dict[str, str | tuple[str, ...]], BeforeValidator(_select)] = Field(default_factory=dict)
    combine: Literal[COMBINE] | None = None
    bounds: Annotated[tuple[float, float], BeforeValidator(_bounds)] = (0.0, math.inf)
    period: Years = 1
    projection_from: StrictInt | None = None
    derive: Derive | None = None
    note: Prose = ""
    file_ids: tuple[str, ...] = ()
    #: what the indicator measures, shared by ids that measure the same thing from other sources
    concept: SnakeId = ""
    #: latest-value window in years (None: the project default in analysis.core.settings)
    window: Years | None = None
    #: nearest-year tolerance in years (None: the project default)
    tolerance: Annotated[StrictInt, Field(ge=0)] | None = None
    #: the smallest difference worth a band colour, in the indicator's unit
    min_difference: Annotated[Number, Field(ge=0)] = 0.0
    headline: StrictBool = False
    profile: StrictBool = False
    #: earlier ids of this indicator (renamed series), accepted wherever an id is asked for
    aliases: IdList = ()

    @model_validator(mode="before")
    @classmethod
    def _defaults_from_other_keys(cls, data: Any) -> Any:
        """``concept`` defaults to the id, ``bounds`` to the range implied by the unit."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "concept" not in data and isinstance(data.get("id"), str) and _SNAKE.match(data["id"]):
            data["concept"] = data["id"]
        if "bounds" not in data and isinstance(data.get("unit"), str):
            data["bounds"] = default_bounds(data["unit"])
        return data

    @model_validator(mode="after")
    def _selected_or_derived(self) -> Indicator:
        if self.derive is not None:
            present = [k for k in SELECTION_KEYS if getattr(self, k)]
            if present:
                raise rule(f"a derived indicator has no {present[0]!r} (it names its inputs in derive.of)", present[0])
        else:
            for key in ("source", "file", "code"):
                if getattr(self, key) is None:
                    raise rule(f"a selected indicator needs {key!r} (or a `derive` table instead)", key)
            lists = [dim for dim, v in self.select.items() if isinstance(v, tuple)]
            if lists and self.combine is None:
                raise rule(f'select lists several values of {", ".join(lists)}: set combine = "sum"', "select")
            if self.combine is not None and not lists:
                raise rule('combine = "sum" needs a select with a list of values', "combine")
        if self.id in self.aliases:
            raise rule(f"aliases list the indicator's own id {self.id!r}", "aliases")
        return self

    @property
    def is_derived(self) -> bool:
        return self.derive is not None


class Gap(_Entry):
    group: Literal[GROUPS]
    domain: Literal[DOMAINS]
    reason: Annotated[Prose, AfterValidator(_text)]


def _some(values: tuple[str, ...]) -> tuple[str, ...]:
    if not values:
        raise rule("must list at least one source id")
    return values


class Rename(_Entry):
    """A series the source renamed between releases: ``old_code`` of ``old_source`` is ``new_code`` of
    ``new_source`` (both codes are series codes of ids of the concept that records the rename)."""

    old_source: Text
    old_code: Text
    new_source: Text
    new_code: Text


class Concept(_Entry):
    """The stated rule that picks the current series of a concept measured by several ids.

    ``prefer`` lists source ids (dataset ids of ``data/sources.toml``; ``a+b`` for an id derived from
    two) best first: the current series is the id whose source comes first, and among ids of one
    source the newest vintage. ``note`` says why (which release is newer or better).
    """

    id: SnakeId
    title: Text
    prefer: Annotated[tuple[Text, ...], AfterValidator(_no_repeats), AfterValidator(_some)]
    note: Annotated[Prose, AfterValidator(_text)]
    renamed: tuple[Rename, ...] = ()


# --------------------------------------------------------------------------------------------------
# data/sources.toml


def _url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise rule(f"{value!r} is not an http(s) address")
    return value


class Dataset(_Entry):
    id: Text
    publisher: Text
    title: Text
    landing_page: Annotated[Text, AfterValidator(_url)]
    distributor: Text
    #: required: every chart footer and export states the licence of its sources
    licence: Text
    vintage: Text
    notes: Prose = ""

    def citation(self, vintage: str | None = None) -> str:
        """The source line used under charts: publisher, dataset and vintage."""
        return f"{self.publisher}, {self.title} (vintage {vintage or self.vintage})"


def _sha256(value: str) -> str:
    if not _SHA256.match(value):
        raise rule("must be 64 lower-case hex digits")
    return value


def _inside_mirror(value: str) -> str:
    if Path(value).is_absolute() or ".." in Path(value).parts:
        raise rule(f"{value!r} must be relative, inside the mirror")
    return value


class SourceFile(_Entry):
    id: Text
    dataset: Text
    parser: Text
    path: Annotated[Text, AfterValidator(_inside_mirror)]
    sha256: Annotated[StrictStr, AfterValidator(_sha256)]
    url: StrictStr = ""
    vintage: Text | None = None
    origin: Text | None = None
    role: Literal[ROLES] = "data"

    @model_validator(mode="after")
    def _where_it_comes_from(self) -> SourceFile:
        if self.url and self.path.startswith("github/"):
            expected = RAW_GITHUB + self.path.removeprefix("github/")
            if self.url != expected:
                raise rule(f"url does not match path (expected {expected})", "url")
        if self.mirror_only and not self.origin:
            raise rule("a mirror-only file (empty url) must name its upstream `origin`", "url")
        return self

    @property
    def mirror_only(self) -> bool:
        """True for extracts that exist only in the mirror (no byte-identical download)."""
        return not self.url

    def raw_path(self, raw_dir: Path | None = None) -> Path:
        return (raw_dir or paths.raw_dir()) / self.path
