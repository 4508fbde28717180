"""Synthetic growth: a project whose inputs have k times the economies and m times the indicators.

:func:`make_scaled_project` writes a throw-away project root (never committed; the benchmark puts it
under ``benchmarks/_work/``) with its own ``data/sources.toml``, ``data/indicators.toml`` and
``data/raw/`` tree, built from a real project root that has been fetched and built once:

* **economies x k**: every row of every raw file that belongs to an economy of the store's
  countries table is repeated k-1 times for new synthetic economies. Each synthetic economy has an
  unused three-letter code (used as ISO3, and in lower case where a source uses ILO codes) and,
  where its original has one, an unused M49 number; the country metadata and entity files list the
  clones too, so they pass the build's "known economy" checks. Values are copied unchanged, so they
  stay within the catalogue's bounds. Source aggregates (regions, income groups) are not repeated.
* **indicators x m**: every data file the catalogue selects from is registered m-1 more times under
  ``synthetic-x<j>/<original path>`` (same content, hard-linked; id ``<id>@x<j>``), and every
  indicator, selected or derived, is repeated under ``<id>_x<j>`` reading those copies.

The registry's sha256 pins are recomputed. Which column of a file holds the economy depends on its
format, so it is looked up by the registry's ``parser`` name in :data:`GEO_COLUMNS` (DDF files name
their key columns in the file name). Everything else is driven by the registry and the catalogue.

:func:`linear_fit` gives the least-squares line through (input rows, seconds) and its R².
"""

from __future__ import annotations

import csv
import fnmatch
import io
import itertools
import json
import math
import os
import shutil
import string
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.config.registry import sha256_file

#: parser name -> (column holding the economy code, its code scheme, preamble lines before the header).
#: ``None`` as column: the DDF key column named in the file name (datapoints) or the file's first
#: column (entities), when it is a geo key. Parsers not listed hold no economy codes: copied as is.
GEO_COLUMNS: dict[str, tuple[str | None, str | None, int]] = {
    "datahub_tidy": ("Country Code", "iso3", 0),
    "worldbank_api": ("Country Code", "iso3", 4),
    "worldbank_api_metadata_country": ("Country Code", "iso3", 0),
    "ghed_long": ("iso3_code", "iso3", 0),
    "owid": ("Code", "iso3", 0),
    "ddf_datapoints": (None, None, 0),
    "ddf_entities": (None, None, 0),
}
COPY_SUFFIX = "@x{j}"
COPY_DIR = "synthetic-x{j}"
INDICATOR_SUFFIX = "_x{j}"
UTF8_BOM = b"\xef\xbb\xbf"
M49_MAX = 999


class GrowthError(RuntimeError):
    """The synthetic project could not be made consistent (names the file and the problem)."""


# ----------------------------------------------------------------------------- economies


@dataclass
class Clones:
    """Synthetic economies: ``code(iso3, j)`` and ``m49(iso3, j)`` for copy j = 1..k-1 of an economy."""

    economies: list[str]
    m49_of: dict[str, int]
    used_codes: set[str]
    used_m49: set[int]
    in_wb: frozenset[str] = frozenset()  # economies the World Bank's files bring into the countries table
    _codes: dict[tuple[str, int], str] = field(default_factory=dict)
    _m49: dict[tuple[str, int], int] = field(default_factory=dict)
    _free_codes: Iterator[str] | None = None
    _free_m49: Iterator[int] | None = None

    def allocate(self, k: int) -> None:
        """Give every economy codes for copies 1..k-1, copy by copy, so copy j has the same codes at any k."""
        if self._free_codes is None:
            letters = string.ascii_uppercase
            self._free_codes = ("".join(t) for t in itertools.product(letters, repeat=3)
                                if "".join(t) not in self.used_codes)
            # Only unused numbers within the store's schema (1..999): once they run out, the further
            # copies of economies with an M49 number lose their M49-keyed rows (see _code_in_scheme).
            self._free_m49 = (n for n in range(1, M49_MAX + 1) if n not in self.used_m49)
        for j in range(1, k):
            for iso3 in self.economies:
                if (iso3, j) in self._codes:
                    continue
                try:
                    self._codes[(iso3, j)] = next(self._free_codes)
                except StopIteration:
                    raise GrowthError(f"out of unused three-letter codes at copy {j}") from None
                if iso3 in self.m49_of:
                    number = next(self._free_m49, None)
                    if number is not None:
                        self._m49[(iso3, j)] = number

    def code(self, iso3: str, j: int) -> str:
        return self._codes[(iso3, j)]

    def m49(self, iso3: str, j: int) -> int | None:
        return self._m49.get((iso3, j))


def economies_from_store(root: Path) -> pd.DataFrame:
    """The countries table of a built store: iso3, m49 and in_wb of every economy."""
    path = root / "data" / "processed" / "countries.parquet"
    if not path.is_file():
        raise GrowthError(f"{path}: the store must be built once before scaling its inputs")
    return pd.read_parquet(path, columns=["iso3", "m49", "in_wb"])


# ----------------------------------------------------------------------------- TOML


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def dump_toml(doc: dict[str, list[dict]]) -> str:
    """Arrays of tables (``[[file]]`` ...) with scalar, list and inline-table values: all these files use."""
    out = ["# Synthetic project written by benchmarks/growth.py (temporary; never committed)."]
    for table, entries in doc.items():
        if not isinstance(entries, list):
            raise TypeError(f"top-level {table!r} is not an array of tables")
        for entry in entries:
            out.append(f"\n[[{table}]]")
            out.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in entry.items())
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- files


def _ddf_geo_column(file_name: str, header: list[str], parser: str) -> tuple[str | None, str | None]:
    from analysis.pipeline.parsers import DDF_GEO_KEYS

    if parser == "ddf_entities":
        key = header[0] if header else None
        return (key, DDF_GEO_KEYS[key]) if key in DDF_GEO_KEYS else (None, None)
    for part in file_name.removesuffix(".csv").split("--by--", 1)[-1].split("--"):
        key = part.split("-", 1)[0]
        if key in DDF_GEO_KEYS:
            return key, DDF_GEO_KEYS[key]
    return None, None


def _split_preamble(text: str, lines: int) -> tuple[str, str]:
    if not lines:
        return "", text
    parts = text.split("\n", lines)
    if len(parts) <= lines:
        raise GrowthError(f"file ends inside its {lines}-line preamble")
    return "\n".join(parts[:lines]) + "\n", parts[lines]


def _line_terminator(text: str) -> str:
    end = text.find("\n")
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


def scan_codes(path: Path, parser: str, file_name: str) -> tuple[str | None, set[str]]:
    """The code scheme and the set of codes in the economy column of a raw file (empty when none)."""
    layout = GEO_COLUMNS.get(parser)
    if layout is None:
        return None, set()
    column, scheme, preamble = layout
    text = path.read_bytes().removeprefix(UTF8_BOM).decode("utf-8")
    _, body = _split_preamble(text, preamble)
    reader = csv.reader(io.StringIO(body, newline=""))
    header = next(reader, [])
    if column is None:
        column, scheme = _ddf_geo_column(file_name, header, parser)
    if column is None or column not in header:
        return None, set()
    at = header.index(column)
    return scheme, {row[at] for row in reader if len(row) > at}


def scale_file(source: Path, target: Path, parser: str, k: int, clones: Clones,
               economy_of: dict[str, dict[str, str]]) -> int:
    """Write ``source`` to ``target`` with k-1 synthetic copies of each economy's rows; return data rows.

    The original text is kept byte for byte (preamble, BOM, quoting); copies are appended with the
    same quoting style. In entity files, a cell holding the economy's ISO3 (the WPP ``iso3`` column)
    is changed to the copy's code too.
    """
    raw = source.read_bytes()
    bom = raw.startswith(UTF8_BOM)
    text = raw.removeprefix(UTF8_BOM).decode("utf-8")
    layout = GEO_COLUMNS.get(parser)
    column, scheme, preamble = layout if layout else (None, None, 0)
    head, body = _split_preamble(text, preamble)
    rows = list(csv.reader(io.StringIO(body, newline="")))
    header, data = (rows[0], [r for r in rows[1:] if r]) if rows else ([], [])
    if layout is not None and column is None:
        column, scheme = _ddf_geo_column(source.name, header, parser)
    target.parent.mkdir(parents=True, exist_ok=True)
    if k == 1 or column is None or column not in header:
        _link_or_copy(source, target)
        return len(data)
    at = header.index(column)
    lookup = economy_of[scheme]
    entity = parser == "ddf_entities"
    quote_all = body.lstrip().startswith('"')
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=_line_terminator(body),
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    added = skipped = 0
    for row in data:
        iso3 = lookup.get(row[at].strip()) if len(row) > at else None
        if iso3 is None:
            continue
        for j in range(1, k):
            code = _code_in_scheme(clones, iso3, j, scheme)
            if code is None:
                skipped += 1
                continue
            new = list(row)
            new[at] = code
            if entity:
                new = [_same_case(clones.code(iso3, j), cell) if cell.upper() == iso3 and i != at else cell
                       for i, cell in enumerate(new)]
            writer.writerow(new)
            added += 1
    if body and not body.endswith("\n"):
        body += _line_terminator(body)
    with open(target, "wb") as fh:
        if bom:
            fh.write(UTF8_BOM)
        fh.write((head + body).encode("utf-8"))
        fh.write(out.getvalue().encode("utf-8"))
    return len(data) + added


def _code_in_scheme(clones: Clones, iso3: str, j: int, scheme: str) -> str | None:
    """The copy's code in a file's scheme; None where the copy's row is not written. A copy that found
    no M49 number left has no rows in M49-keyed files, and no rows at all unless the World Bank's files
    bring it into the countries table (otherwise its other rows would name an unknown economy)."""
    out_of_m49 = iso3 in clones.m49_of and clones.m49(iso3, j) is None
    if out_of_m49 and (scheme == "m49" or iso3 not in clones.in_wb):
        return None
    if scheme == "m49":
        if iso3 not in clones.m49_of:
            raise GrowthError(f"economy {iso3} has M49 rows but no M49 code in the countries table")
        return str(clones.m49(iso3, j))
    code = clones.code(iso3, j)
    return code.lower() if scheme == "ilo" else code


def _same_case(code: str, like: str) -> str:
    return code.lower() if like.islower() else code


def _link_or_copy(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


# ----------------------------------------------------------------------------- the project


@dataclass
class ScaledProject:
    root: Path
    economy_factor: int
    indicator_factor: int
    files: int                 # registry files
    input_files: int           # files the build reads
    input_rows: int            # data rows of the files the build reads
    input_bytes: int
    indicators: int            # catalogue entries
    synthetic_economies: int
    copies_without_m49: int  # synthetic economies left without an M49 number (see Clones.allocate)

    def label(self) -> str:
        return f"economies x{self.economy_factor}, indicators x{self.indicator_factor}"


def _read_toml(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _data_file_ids(catalogue_doc: dict, registry_doc: dict) -> list[str]:
    """Registry ids of the files the catalogue selects from (patterns expanded), in registry order."""
    patterns = [e["file"] for e in catalogue_doc.get("indicator", []) if "file" in e]
    return [f["id"] for f in registry_doc["file"] if any(fnmatch.fnmatchcase(f["id"], p) for p in patterns)]


def _scaled_catalogue(doc: dict, m: int) -> dict:
    """The catalogue with every indicator (and every concept rule) repeated m-1 times under suffixed
    ids; the other tables (gaps, ...) as they are."""
    indicators = list(doc.get("indicator", []))
    concepts = list(doc.get("concept", []))
    for j in range(1, m):
        suffix = INDICATOR_SUFFIX.format(j=j)
        indicators += [_indicator_copy(entry, j, suffix) for entry in doc.get("indicator", [])]
        concepts += [dict(entry, id=entry["id"] + suffix) for entry in doc.get("concept", [])]
    out = {key: value for key, value in doc.items() if key not in ("indicator", "concept")}
    out["indicator"] = indicators
    if concepts:
        out["concept"] = concepts
    return out


def _indicator_copy(entry: dict, j: int, suffix: str) -> dict:
    """One indicator under ``<id><suffix>``, reading the j-th copies of its files; its concept and
    earlier ids (aliases) get the suffix too, so no two copies claim one concept or one alias."""
    copy = dict(entry, id=entry["id"] + suffix)
    if "file" in entry:
        copy["file"] = entry["file"] + COPY_SUFFIX.format(j=j)
    if "derive" in entry:
        derive = dict(entry["derive"])
        derive["of"] = [i + suffix for i in derive["of"]]
        copy["derive"] = derive
    if "concept" in entry:
        copy["concept"] = entry["concept"] + suffix
    if "aliases" in entry:
        copy["aliases"] = [a + suffix for a in entry["aliases"]]
    return copy


def _check_patterns(catalogue_doc: dict, registry_doc: dict, m: int) -> None:
    """Each copied indicator must read exactly the copies of its original's files (no cross-matching)."""
    ids = [f["id"] for f in registry_doc["file"]]
    originals = {e["id"]: e for e in catalogue_doc["indicator"]}
    for entry in catalogue_doc["indicator"]:
        if "file" not in entry:
            continue
        matched = sorted(i for i in ids if fnmatch.fnmatchcase(i, entry["file"]))
        base_id, _, j = entry["id"].rpartition(INDICATOR_SUFFIX.format(j=""))
        if base_id in originals and j.isdigit():
            expected = sorted(i + COPY_SUFFIX.format(j=j) for i in ids
                              if fnmatch.fnmatchcase(i, originals[base_id]["file"]))
        else:
            expected = sorted(i for i in ids if fnmatch.fnmatchcase(i, entry["file"]) and "@" not in i)
        if matched != expected:
            raise GrowthError(f"indicators.toml: {entry['id']}: file pattern {entry['file']!r} matches "
                              f"{len(matched)} files, expected {len(expected)}")


def make_scaled_project(real_root: Path, dest: Path, *, economy_factor: int, indicator_factor: int,
                        clones: Clones | None = None) -> ScaledProject:
    """Write the scaled project into ``dest`` (replaced); see the module docstring."""
    real_root, dest = Path(real_root), Path(dest)
    k, m = int(economy_factor), int(indicator_factor)
    if k < 1 or m < 1:
        raise GrowthError("scale factors are whole numbers >= 1")
    registry_doc = _read_toml(real_root / "data" / "sources.toml")
    catalogue_doc = _read_toml(real_root / "data" / "indicators.toml")
    raw_real = real_root / "data" / "raw"
    if dest.exists():
        shutil.rmtree(dest)
    raw = dest / "data" / "raw"
    (dest / "data" / "processed").mkdir(parents=True)
    shutil.copytree(raw_real / "references", raw / "references")

    clones = clones or make_clones(real_root)
    clones.allocate(k)
    economy_of = _economy_lookup(clones)

    rows_of: dict[str, int] = {}
    sha_of: dict[str, str] = {}
    for entry in registry_doc["file"]:
        source = raw_real / entry["path"]
        if not source.is_file():
            raise GrowthError(f"{entry['path']}: not in {raw_real} (fetch the real project first)")
        rows_of[entry["path"]] = scale_file(source, raw / entry["path"], entry["parser"], k, clones, economy_of)
        sha_of[entry["path"]] = sha256_file(raw / entry["path"]) if k > 1 else entry["sha256"]

    files = []
    for entry in registry_doc["file"]:
        files.append(dict(entry, sha256=sha_of[entry["path"]]))
    data_ids = set(_data_file_ids(catalogue_doc, registry_doc))
    for j in range(1, m):
        for entry in registry_doc["file"]:
            if entry["id"] not in data_ids:
                continue
            path = f"{COPY_DIR.format(j=j)}/{entry['path']}"
            _link_or_copy(raw / entry["path"], _mkparent(raw / path))
            rows_of[path] = rows_of[entry["path"]]
            files.append(dict(entry, id=entry["id"] + COPY_SUFFIX.format(j=j), path=path,
                              sha256=sha_of[entry["path"]]))
    new_registry = {"dataset": registry_doc["dataset"], "file": files}
    new_catalogue = _scaled_catalogue(catalogue_doc, m)
    _check_patterns(new_catalogue, new_registry, m)
    (dest / "data" / "sources.toml").write_text(dump_toml(new_registry), encoding="utf-8")
    (dest / "data" / "indicators.toml").write_text(dump_toml(new_catalogue), encoding="utf-8")

    read = build_inputs(dest)
    return ScaledProject(
        root=dest, economy_factor=k, indicator_factor=m, files=len(files), input_files=len(read),
        input_rows=sum(rows_of[p] for p in read), input_bytes=sum((raw / p).stat().st_size for p in read),
        indicators=len(new_catalogue["indicator"]), synthetic_economies=len(clones.economies) * (k - 1),
        copies_without_m49=sum(1 for e in clones.m49_of for j in range(1, k) if clones.m49(e, j) is None),
    )


def _mkparent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def make_clones(real_root: Path) -> Clones:
    """Codes for synthetic economies that collide with no code in the store or in any raw file."""
    countries = economies_from_store(real_root)
    registry_doc = _read_toml(real_root / "data" / "sources.toml")
    used_codes = set(countries["iso3"].astype(str))
    used_m49 = {int(v) for v in countries["m49"].dropna()}
    for entry in registry_doc["file"]:
        scheme, codes = scan_codes(real_root / "data" / "raw" / entry["path"], entry["parser"],
                                   Path(entry["path"]).name)
        if scheme == "m49":
            used_m49.update(int(c) for c in codes if c.strip().isdigit())
        else:
            used_codes.update(c.strip().upper() for c in codes)
    m49_of = {str(r.iso3): int(r.m49) for r in countries.itertuples() if pd.notna(r.m49)}
    in_wb = frozenset(countries.loc[countries["in_wb"].astype(bool), "iso3"].astype(str))
    return Clones(economies=sorted(countries["iso3"].astype(str)), m49_of=m49_of, used_codes=used_codes,
                  used_m49=used_m49, in_wb=in_wb)


def _economy_lookup(clones: Clones) -> dict[str, dict[str, str]]:
    """code as written in a file -> ISO3 of the economy, per scheme."""
    iso3 = {e: e for e in clones.economies}
    return {
        "iso3": iso3,
        "ilo": {e.lower(): e for e in clones.economies},
        "m49": {str(n): e for e, n in clones.m49_of.items()} | {f"{n:03d}": e for e, n in clones.m49_of.items()},
    }


def build_inputs(root: Path) -> list[str]:
    """Registry paths of the files a build of ``root`` reads (the build's own choice when available)."""
    from analysis.config.catalogue import load_catalogue
    from analysis.config.registry import load_registry

    registry = load_registry(root / "data" / "sources.toml")
    catalogue = load_catalogue(root / "data" / "indicators.toml", registry=registry)
    from analysis.pipeline.build import _needed_files

    return [f.path for f in _needed_files(catalogue, registry)]


# ----------------------------------------------------------------------------- linearity


@dataclass(frozen=True)
class Fit:
    slope: float       # y units per x unit
    intercept: float
    r2: float
    n: int


def linear_fit(xs: Iterable[float], ys: Iterable[float]) -> Fit:
    """Ordinary least squares y = intercept + slope * x, and R² (1.0 for a perfect line)."""
    x, y = list(map(float, xs)), list(map(float, ys))
    n = len(x)
    if n < 2 or n != len(y):
        raise ValueError("a fit needs at least two (x, y) pairs")
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((a - mx) ** 2 for a in x)
    if sxx == 0:
        raise ValueError("all x are equal")
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y)) / sxx
    intercept = my - slope * mx
    ss_tot = sum((b - my) ** 2 for b in y)
    ss_res = sum((b - intercept - slope * a) ** 2 for a, b in zip(x, y))
    return Fit(slope=slope, intercept=intercept, r2=1.0 - ss_res / ss_tot if ss_tot else 1.0, n=n)


# ----------------------------------------------------------------------------- the economies curve


@dataclass(frozen=True)
class EconomiesCurve:
    """How the build grows with the economies (the growth targets of the performance issue).

    ``bytes_per_row``: peak memory (the larger of maxrss and the sampled tree) per input row at
    economies x``factor``; ``r2``: of the least-squares line of seconds against input rows through the
    baseline and every economies scale; ``us_ratio``: µs per input row at x``factor`` over the same at x1.
    ``None`` where the scales needed were not measured.
    """

    factor: int
    points: int
    bytes_per_row: float | None
    r2: float | None
    us_ratio: float | None


def _peak_mb(point: dict) -> float:
    return max(point["maxrss_mb"], point.get("tree_mb") or 0.0)


def economies_curve(points: Iterable[dict], factor: int) -> EconomiesCurve:
    """The economies curve of measured growth points (dicts with mode, k, status, rows_in, seconds, maxrss_mb)."""
    ok = [p for p in points if p.get("status") == "ok" and p["mode"] in ("baseline", "economies")]
    base = next((p for p in ok if p["mode"] == "baseline"), None)
    top = next((p for p in ok if p["mode"] == "economies" and p["k"] == factor), None)
    per_row = _peak_mb(top) * 2**20 / top["rows_in"] if top else None
    r2 = linear_fit([p["rows_in"] for p in ok], [p["seconds"] for p in ok]).r2 if len(ok) >= 3 else None
    ratio = None
    if base and top:
        ratio = (top["seconds"] / top["rows_in"]) / (base["seconds"] / base["rows_in"])
    return EconomiesCurve(factor=factor, points=len(ok), bytes_per_row=per_row, r2=r2, us_ratio=ratio)
