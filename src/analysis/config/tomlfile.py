"""Reading the TOML configuration files so that every error can point at a line.

``tomllib`` returns plain dicts without positions, so the line of each array-of-tables entry
(``[[indicator]]``, ``[[file]]``, ...) and of each key inside it is recovered from the text. The
files have already parsed as TOML when the scan runs, so a line-based scan is enough: it only has
to skip comments and the inside of multi-line strings.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pydantic import ValidationError

from analysis.core import paths
from analysis.core.errors import AnalysisError


class ConfigError(AnalysisError):
    """A configuration file is malformed: the message names the file, the line, the entry and the rule.

    Shape: ``data/indicators.toml, line 412, [[indicator]] #37 (le_hale_gap): <problem>``.
    """

    def __init__(self, file: str, problem: str, *, line: int | None = None, entry: str | None = None,
                 key: str | None = None):
        self.file, self.problem, self.line, self.entry, self.key = file, problem, line, entry, key
        where = ", ".join([file] + ([f"line {line}"] if line else []) + ([entry] if entry else []))
        super().__init__(f"{where}: {problem}")

    def __str__(self) -> str:
        # Spelled out because subclasses that are also KeyErrors would otherwise quote the message.
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):
        # The default pickling calls cls(message); worker processes re-raise these errors.
        return (_rebuild, (type(self), self.file, self.problem, self.line, self.entry, self.key))


def _rebuild(cls, file, problem, line, entry, key):
    return cls(file, problem, line=line, entry=entry, key=key)


# --------------------------------------------------------------------------------------------------
# Positions of entries and keys

_ARRAY_HEADER = re.compile(r"^\[\[\s*(?P<name>[^\[\]]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\[\s*(?P<name>[^\[\]]+?)\s*\]")
_BARE_OR_QUOTED = r'(?:[A-Za-z0-9_-]+|"[^"\n]*"|\'[^\'\n]*\')'
_KEY = re.compile(rf"^(?P<key>{_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*)\s*=(?P<value>.*)$")
_DECODE_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def _dotted(name: str) -> str:
    """``"a" . b`` -> ``a.b`` (quotes and spaces around dots dropped; good enough for our keys)."""
    return ".".join(part.strip().strip("\"'") for part in name.split("."))


@dataclass
class EntryLines:
    """Where one array-of-tables entry sits: its header line and the first line of each key."""

    header: int
    keys: dict[str, int] = field(default_factory=dict)

    def of(self, key: str | None) -> int:
        """Line of ``key`` (dotted, e.g. ``derive.of``), else of its nearest parent key, else the header."""
        while key:
            if key in self.keys:
                return self.keys[key]
            key = key.rpartition(".")[0]
        return self.header


@dataclass
class Positions:
    """The result of :func:`scan_positions`; the last four fields are the scanner's running state."""

    entries: dict[str, list[EntryLines]] = field(default_factory=dict)
    top_keys: dict[str, int] = field(default_factory=dict)
    current: EntryLines | None = None
    array: str | None = None
    prefix: str = ""
    closing: str | None = None  # the delimiter of the multi-line string being skipped

    def header(self, name: str, line: int, is_array: bool) -> None:
        name = _dotted(name)
        self.top_keys.setdefault(name.split(".")[0], line)
        if is_array and "." not in name:
            self.current, self.array, self.prefix = EntryLines(header=line), name, ""
            self.entries.setdefault(name, []).append(self.current)
        elif self.array and self.current is not None and name.startswith(self.array + "."):
            self.prefix = name[len(self.array) + 1:] + "."  # a sub-table of the current entry
            self.current.keys.setdefault(self.prefix[:-1], line)
        else:  # a table outside the arrays: its keys are not top-level keys
            self.current, self.array, self.prefix = None, None, name + "."

    def key(self, name: str, value: str, line: int) -> None:
        full = self.prefix + _dotted(name)
        if self.current is not None:
            self.current.keys.setdefault(full, line)
        elif self.array is None:
            self.top_keys.setdefault(full.split(".")[0], line)
        for delim in ('"""', "'''"):
            if value.count(delim) % 2 == 1:
                self.closing = delim
                break


def scan_positions(text: str) -> Positions:
    """Lines of every ``[[name]]`` entry (by name, in file order) and of its keys."""
    scan = Positions()
    for number, raw in enumerate(text.splitlines(), start=1):
        if scan.closing:
            if raw.count(scan.closing) % 2 == 1:
                scan.closing = None
            continue
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if match := _ARRAY_HEADER.match(line):
            scan.header(match["name"], number, is_array=True)
        elif match := _TABLE_HEADER.match(line):
            scan.header(match["name"], number, is_array=False)
        elif match := _KEY.match(line):
            scan.key(match["key"], match["value"], number)
    return scan


# --------------------------------------------------------------------------------------------------
# A parsed file and its entries


@dataclass
class TomlFile:
    """A parsed configuration file and its name as shown to users (relative to the project root)."""

    path: Path
    shown: str
    doc: dict
    text: str

    @cached_property
    def positions(self) -> Positions:
        # Scanned on the first error only: the scan costs about as much as the parse.
        return scan_positions(self.text)

    def entries(self, table: str) -> list[Entry]:
        """Each ``[[table]]`` entry, numbered from 1 in file order."""
        return [Entry(self, table, n, raw) for n, raw in enumerate(self.doc.get(table, []), start=1)]

    def fail(self, cls: type[ConfigError], problem: str, line: int | None = None) -> ConfigError:
        """An error about the file as a whole (or one line of it)."""
        return cls(self.shown, problem, line=line)


@dataclass(frozen=True)
class Entry:
    """One ``[[table]]`` entry: its raw keys, its number and (found on demand) its lines."""

    file: TomlFile
    table: str
    number: int
    raw: dict

    @property
    def name(self) -> str:
        """``[[indicator]] #12 (under5_mortality)``: the number always, the id when it has one."""
        ident = self.raw.get("id")
        return f"[[{self.table}]] #{self.number}" + (f" ({ident})" if isinstance(ident, str) and ident else "")

    def _lines(self) -> EntryLines | None:
        found = self.file.positions.entries.get(self.table, [])
        if len(found) != len(self.file.doc.get(self.table, [])):
            return None  # written in a form the scan does not follow (e.g. an inline array of tables)
        return found[self.number - 1]

    def line(self, key: str | None = None) -> int | None:
        """Line of ``key`` (dotted), else of its nearest parent key, else of the entry's header."""
        lines = self._lines()
        return lines.of(key) if lines else None

    @property
    def at(self) -> str:
        """The entry's name with its header line, to point at it from a message about another entry."""
        line = self.line()
        return f"{self.name} (line {line})" if line else self.name

    def fail(self, cls: type[ConfigError], problem: str, key: str | None = None) -> ConfigError:
        """An error at ``key`` of this entry, in the project's message shape."""
        return cls(self.file.shown, problem, line=self.line(key), entry=self.name, key=key)


def read_toml(path: Path, cls: type[ConfigError], what: str) -> TomlFile:
    """Parse ``path``; a missing file or invalid TOML raises ``cls`` naming the file (and the line)."""
    shown = paths.relative_to_root(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise cls(shown, f"{what} not found") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = _DECODE_LINE.search(str(exc))
        raise cls(shown, f"not valid TOML: {exc}", line=int(at.group(1)) if at else None) from None
    return TomlFile(path=path, shown=shown, doc=doc, text=text)


def check_top_level(file: TomlFile, cls: type[ConfigError], allowed: tuple[str, ...]) -> None:
    """Only the ``[[...]]`` arrays in ``allowed`` may appear, each as a list of tables."""
    for key, value in file.doc.items():
        if key not in allowed:
            raise file.fail(cls, f"unknown top-level key {key!r}; expected {_listing(allowed)}"
                            + did_you_mean(key, allowed), line=file.positions.top_keys.get(key))
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise file.fail(cls, f"{key!r} must be written as [[{key}]] tables", line=file.positions.top_keys.get(key))


def _listing(names) -> str:
    return ", ".join(f"[[{n}]]" for n in names)


# --------------------------------------------------------------------------------------------------
# pydantic validation errors in the words of a file editor


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a near miss among ``known``, else an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(error: dict, known: Iterable[str] = ()) -> tuple[str, str]:
    """``(dotted key, problem)`` of one pydantic error, worded for someone editing the TOML file.

    ``known``: the keys an entry may have, to suggest one for a misspelt key.
    """
    loc = [str(p) for p in error.get("loc", ())]
    ctx = error.get("ctx") or {}
    key = ".".join(loc + ([ctx["key"]] if ctx.get("key") else []))
    kind = error["type"]
    if kind == "extra_forbidden":
        return key, f"unknown key {key!r}" + ("" if "." in key else did_you_mean(key, known))
    if kind == "missing":
        return key, f"missing required key {key!r}"
    if kind == "literal_error":
        return key, f"{key} = {error['input']!r} is not allowed; one of {ctx.get('expected')}"
    if kind == "config_rule":  # worded relative to the model that raised it: say where that model sits
        where = ".".join(loc)
        return key, f"{where}: {ctx['problem']}" if where else str(ctx["problem"])
    return key, f"{key} = {error.get('input')!r}: {error['msg'][0].lower()}{error['msg'][1:]}"


def validation_error(entry: Entry, cls: type[ConfigError], exc: ValidationError,
                     known: Iterable[str] = ()) -> ConfigError:
    """The entry's first problem in the standard shape; any further problems follow, one a line."""
    known = tuple(known)
    problems = [describe(e, known) for e in exc.errors(include_url=False)]
    key, first = problems[0]
    error = entry.fail(cls, first, key)
    if len(problems) == 1:
        return error
    more = "".join(f"\n  line {entry.line(k) or '?'}: {p}" for k, p in problems[1:])
    return cls(error.file, error.problem + more, line=error.line, entry=error.entry, key=key)
