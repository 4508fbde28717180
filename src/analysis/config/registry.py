"""The source registry (``data/sources.toml``): every input file, pinned by URL and sha256.

A *dataset* is what a publisher released (WDI, WPP 2019, ...), with its licence and vintage; a
*file* is one pinned input of a dataset and names the parser that reads it. Errors name the file,
the line and the entry (``data/sources.toml, line 87, [[file]] #2 (wdi/sp.pop.totl): ...``).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analysis.config.models import RAW_GITHUB, Dataset, SourceFile
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
from analysis.core.fingerprint import file_sha256

__all__ = ["RAW_GITHUB", "Dataset", "Registry", "RegistryError", "SourceFile", "UnknownFileError", "load_registry",
           "sha256_file"]

sha256_file = file_sha256  # the one hash function behind every pin and manifest


class RegistryError(ConfigError):
    """The registry file is malformed; the message names the file, the line and the entry."""


class UnknownFileError(RegistryError, KeyError):
    """A file id the registry does not pin (a KeyError too, as for any lookup)."""


class Registry(BaseModel):
    model_config = ConfigDict(frozen=True)

    datasets: dict[str, Dataset]
    files: tuple[SourceFile, ...]
    source_path: Path = Field(default=Path("data/sources.toml"))

    @cached_property
    def by_id(self) -> dict[str, SourceFile]:
        return {f.id: f for f in self.files}

    def file(self, file_id: str) -> SourceFile:
        try:
            return self.by_id[file_id]
        except KeyError:
            raise UnknownFileError(paths.relative_to_root(self.source_path), f"no file with id {file_id!r}"
                                   + did_you_mean(file_id, self.by_id)) from None

    def files_of(self, dataset_id: str) -> list[SourceFile]:
        return [f for f in self.files if f.dataset == dataset_id]

    def vintage_of(self, source_file: SourceFile) -> str:
        return source_file.vintage or self.datasets[source_file.dataset].vintage


def _unique_entries(file: TomlFile, table: str, model):
    """(entry, validated model) per ``[[table]]`` entry; an invalid entry or a repeated id is an error
    naming both lines."""
    first_of: dict[str, Entry] = {}
    for entry in file.entries(table):
        try:
            item = model.model_validate(entry.raw)
        except ValidationError as exc:
            raise validation_error(entry, RegistryError, exc, model.model_fields) from None
        first = first_of.setdefault(item.id, entry)
        if first is not entry:
            raise entry.fail(RegistryError, f"duplicate {table} id {item.id!r}, already the id of {first.at}", "id")
        yield entry, item


def _parse_datasets(file: TomlFile) -> dict[str, Dataset]:
    return {ds.id: ds for _, ds in _unique_entries(file, "dataset", Dataset)}


def _parse_files(file: TomlFile, datasets: dict[str, Dataset]) -> list[SourceFile]:
    files: list[SourceFile] = []
    for entry, sf in _unique_entries(file, "file", SourceFile):
        if sf.dataset not in datasets:
            raise entry.fail(RegistryError, f"unknown dataset {sf.dataset!r}" + did_you_mean(sf.dataset, datasets)
                             + f"; [[dataset]] ids: {', '.join(sorted(datasets))}", "dataset")
        files.append(sf)
    return files


def load_registry(path: Path | None = None) -> Registry:
    """Read and check the registry; errors (:class:`RegistryError`) name the file, line and entry at fault."""
    path = Path(path or paths.sources_file())
    file = read_toml(path, RegistryError, "source registry")
    check_top_level(file, RegistryError, ("dataset", "file"))
    datasets = _parse_datasets(file)
    files = _parse_files(file, datasets)
    if not files:
        raise file.fail(RegistryError, "no [[file]] entries")
    return Registry(datasets=datasets, files=tuple(files), source_path=path)
