"""The source registry (``data/sources.toml``): every input file, pinned by URL and sha256.

A *dataset* is what a publisher released (WDI, WPP 2019, ...), with its licence and vintage; a
*file* is one pinned input of a dataset and names the parser that reads it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from analysis.core import paths
from analysis.core.errors import AnalysisError
from analysis.core.fingerprint import file_sha256

RAW_GITHUB = "https://raw.githubusercontent.com/"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


sha256_file = file_sha256  # the one hash function behind every pin and manifest


class RegistryError(AnalysisError, ValueError):
    """The registry file itself is malformed."""


@dataclass(frozen=True)
class Dataset:
    id: str
    publisher: str
    title: str
    landing_page: str
    distributor: str
    licence: str
    vintage: str
    notes: str = ""

    def citation(self, vintage: str | None = None) -> str:
        """The source line used under charts: publisher, dataset and vintage."""
        return f"{self.publisher}, {self.title} (vintage {vintage or self.vintage})"


@dataclass(frozen=True)
class SourceFile:
    id: str
    dataset: str
    parser: str
    path: str
    sha256: str
    url: str = ""
    vintage: str | None = None
    origin: str | None = None
    role: str = "data"

    @property
    def mirror_only(self) -> bool:
        """True for extracts that exist only in the mirror (no byte-identical download)."""
        return not self.url

    def raw_path(self, raw_dir: Path | None = None) -> Path:
        return (raw_dir or paths.raw_dir()) / self.path


@dataclass(frozen=True)
class Registry:
    datasets: dict[str, Dataset]
    files: tuple[SourceFile, ...]
    source_path: Path = field(default=Path("data/sources.toml"))

    @cached_property
    def by_id(self) -> dict[str, SourceFile]:
        return {f.id: f for f in self.files}

    def file(self, file_id: str) -> SourceFile:
        try:
            return self.by_id[file_id]
        except KeyError:
            raise KeyError(f"{self.source_path}: no file with id {file_id!r}") from None

    def files_of(self, dataset_id: str) -> list[SourceFile]:
        return [f for f in self.files if f.dataset == dataset_id]

    def vintage_of(self, source_file: SourceFile) -> str:
        return source_file.vintage or self.datasets[source_file.dataset].vintage


def load_registry(path: Path | None = None) -> Registry:
    """Read and check the registry; errors name the file and the entry at fault."""
    path = Path(path or paths.sources_file())
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: source registry not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path}: not valid TOML: {exc}") from None
    datasets: dict[str, Dataset] = {}
    for i, entry in enumerate(doc.get("dataset", []), start=1):
        try:
            ds = Dataset(**entry)
        except TypeError as exc:
            raise RegistryError(f"{path}: [[dataset]] #{i}: {exc}") from None
        if ds.id in datasets:
            raise RegistryError(f"{path}: [[dataset]] #{i}: duplicate id {ds.id!r}")
        datasets[ds.id] = ds
    files: list[SourceFile] = []
    seen: set[str] = set()
    for i, entry in enumerate(doc.get("file", []), start=1):
        try:
            sf = SourceFile(**entry)
        except TypeError as exc:
            raise RegistryError(f"{path}: [[file]] #{i}: {exc}") from None
        where = f"{path}: [[file]] #{i} ({sf.id})"
        if sf.id in seen:
            raise RegistryError(f"{where}: duplicate id")
        if sf.dataset not in datasets:
            raise RegistryError(f"{where}: unknown dataset {sf.dataset!r}")
        if not _SHA256.match(sf.sha256):
            raise RegistryError(f"{where}: sha256 must be 64 lower-case hex digits")
        if sf.url and sf.path.startswith("github/") and sf.url != RAW_GITHUB + sf.path[len("github/"):]:
            raise RegistryError(f"{where}: url does not match path (expected {RAW_GITHUB}{sf.path[len('github/'):]})")
        if sf.mirror_only and not sf.origin:
            raise RegistryError(f"{where}: a mirror-only file must name its upstream `origin`")
        if Path(sf.path).is_absolute() or ".." in Path(sf.path).parts:
            raise RegistryError(f"{where}: path must be relative, inside the mirror")
        seen.add(sf.id)
        files.append(sf)
    if not files:
        raise RegistryError(f"{path}: no [[file]] entries")
    return Registry(datasets=datasets, files=tuple(files), source_path=path)
