"""The main job's staging area and its publication: all of the deliverables or none of them.

A run stages the store in ``data/.staging-<pid>/processed`` and the reports in
``reports/.staging-<pid>/``, each first a copy of what is published (so steps with nothing to do
skip their work and leave the copy as it was). The copy is made only when a step is about to run:
a run in which every step is up to date never copies anything. Publication swaps each deliverable with renames
within one filesystem: the store directory as a whole, then every entry of the reports folder. The
replaced ones are parked in ``<staging>/.previous/`` until the swap is complete, so a run killed in
the middle of the swap is repaired at the next start: what is missing is put back from there. A run
that fails or is interrupted before publication removes its staging area and nothing changed.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.core import paths

STAGING_PREFIX = ".staging-"
PREVIOUS = ".previous"
PACK_FOLDER = "pack"
#: never copied into a staging area: other staging areas and atomic writes a killed run left behind
_NOT_COPIED = (f"{STAGING_PREFIX}*", ".*.tmp", ".lock")


@dataclass
class Staging:
    """One run's staging area (named after its pid) beside the published deliverables."""

    pid: int = field(default_factory=os.getpid)
    #: whether the staging area holds this run's copy (made by ``prepare``, gone after ``discard``)
    prepared: bool = field(default=False, init=False, compare=False)

    @property
    def data_area(self) -> Path:
        return paths.data_dir() / f"{STAGING_PREFIX}{self.pid}"

    @property
    def processed(self) -> Path:
        return self.data_area / "processed"

    @property
    def reports(self) -> Path:
        return paths.published_reports_dir() / f"{STAGING_PREFIX}{self.pid}"

    def environment(self) -> dict[str, str]:
        """What points a step process (and the notebook kernels it starts) at the staging area."""
        return {paths.PROCESSED_ENV: str(self.processed), paths.REPORTS_ENV: str(self.reports),
                paths.FIGURES_ENV: str(self.reports / "figures")}

    def prepare(self) -> None:
        """Copy the published store and reports into the staging area (metadata kept: unchanged stays unchanged)."""
        self.discard()
        _copy_tree(paths.published_processed_dir(), self.processed)
        _copy_tree(paths.published_reports_dir(), self.reports)
        self.prepared = True

    def discard(self) -> None:
        self.prepared = False
        shutil.rmtree(self.data_area, ignore_errors=True)
        shutil.rmtree(self.reports, ignore_errors=True)
        with contextlib.suppress(OSError):  # a reports folder made only to hold the staging area
            self.reports.parent.rmdir()

    def unchanged(self) -> bool:
        """True when the staged deliverables are the published ones, file for file."""
        return (file_signature(self.processed) == file_signature(paths.published_processed_dir())
                and file_signature(self.reports) == file_signature(paths.published_reports_dir()))

    def publish(self) -> None:
        """Swap the staged deliverables in; the replaced ones go (see the module docstring)."""
        store = paths.published_processed_dir()
        _swap(store, self.processed, self.data_area / PREVIOUS / store.name)
        reports = paths.published_reports_dir()
        names = sorted(_entries(self.reports) | _entries(reports), key=lambda n: (n == "index.html", n))
        for name in names:
            _swap(reports / name, self.reports / name, self.reports / PREVIOUS / name)
        self.discard()


def _copy_tree(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(*_NOT_COPIED))
    else:
        target.mkdir(parents=True)


def _ignored(name: str) -> bool:
    return name == PREVIOUS or any(fnmatch.fnmatch(name, pattern) for pattern in _NOT_COPIED)


def _entries(folder: Path) -> set[str]:
    """The deliverables in a folder: everything but staging areas, the lock and temporaries."""
    return {p.name for p in folder.iterdir() if not _ignored(p.name)} if folder.is_dir() else set()


def file_signature(folder: Path) -> list[tuple[str, int, int]]:
    """(path, size, mtime) of every deliverable file: copies keep mtimes, so equal means untouched."""
    out: list[tuple[tuple[str, ...], int, int]] = []
    for name in _entries(folder):
        _walk(folder / name, (name,), out)
    return [("/".join(parts), size, mtime) for parts, size, mtime in sorted(out)]


def _walk(path: Path, parts: tuple[str, ...], out: list) -> None:
    """Files under ``path`` (itself, if a file); symbolic links to folders are not followed."""
    if path.is_dir() and not path.is_symlink():
        with os.scandir(path) as entries:
            for entry in entries:
                _walk(Path(entry.path), (*parts, entry.name), out)
    elif path.is_file():
        st = path.stat()
        out.append((parts, st.st_size, st.st_mtime_ns))


def _swap(published: Path, staged: Path, parked: Path) -> None:
    """Park ``published`` (if any) and move ``staged`` (if any) into its place: two renames."""
    if published.exists() or published.is_symlink():
        parked.parent.mkdir(parents=True, exist_ok=True)
        os.rename(published, parked)
    if staged.exists() or staged.is_symlink():
        published.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staged, published)


# ----------------------------------------------------------------------------- leftovers


def leftover_areas() -> list[Path]:
    """Staging areas of runs that are no longer running (the caller holds the checkout lock)."""
    found: list[Path] = []
    for parent in (paths.data_dir(), paths.published_reports_dir(), paths.published_processed_dir()):
        if parent.is_dir():
            found += sorted(p for p in parent.glob(f"{STAGING_PREFIX}*") if p.is_dir())
    return found


def _restore_parked(area: Path) -> list[str]:
    """Put back what a publication killed half-way had parked and not yet replaced."""
    parked = area / PREVIOUS
    if not parked.is_dir():
        return []
    restored = []
    for entry in sorted(parked.iterdir()):
        target = area.parent / entry.name
        if not (target.exists() or target.is_symlink()):
            os.rename(entry, target)
            restored.append(paths.relative_to_root(target))
    return restored


def clean_leftovers() -> tuple[list[str], list[str]]:
    """Repair a half-done publication and remove every leftover staging area (the caller holds the lock).

    Returns (removed areas, restored deliverables), as shown to users.
    """
    removed, restored = [], []
    for area in leftover_areas():
        restored += _restore_parked(area)
        shutil.rmtree(area, ignore_errors=True)
        removed.append(paths.relative_to_root(area))
    for tmp in paths.published_processed_dir().glob(".*.tmp") if paths.published_processed_dir().is_dir() else []:
        tmp.unlink(missing_ok=True)
        removed.append(paths.relative_to_root(tmp))
    return removed, restored


# ----------------------------------------------------------------------------- stale outputs


def prune_figures(figures: Path, notebook_folders: Iterable[str]) -> list[str]:
    """Remove what the main job did not make from a figures folder: only the chart pack and the
    folders of existing notebooks stay (a notebook run by hand with another name, or one deleted
    since, leaves charts that must not reach the gallery). Returns what was removed, as paths."""
    removed = []
    for entry in figures_not_made(figures, notebook_folders):
        removed.append(entry.relative_to(figures.parent).as_posix() + ("/" if entry.is_dir() else ""))
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    return removed


def figures_not_made(figures: Path, notebook_folders: Iterable[str]) -> list[Path]:
    """What ``prune_figures`` removes: everything but the chart pack and the notebooks' folders."""
    keep = {PACK_FOLDER, *notebook_folders}
    return [entry for entry in sorted(figures.iterdir()) if entry.name not in keep] if figures.is_dir() else []


def prune_report(reports: Path, charts: Iterable[str], profiles: Iterable[Path]) -> list[str]:
    """After a report run, remove pack charts and country profiles it did not make (renamed, dropped)."""
    made = set(charts)
    wanted_profiles = {Path(p).name for p in profiles}
    removed = []
    pack = reports / "figures" / PACK_FOLDER
    for path in sorted(pack.iterdir()) if pack.is_dir() else []:
        if path.is_file() and path.stem not in made:
            removed.append(path.relative_to(reports).as_posix())
            path.unlink()
    folder = reports / "profiles"
    for path in sorted(folder.glob("*.pdf")) if folder.is_dir() else []:
        if path.name not in wanted_profiles:
            removed.append(path.relative_to(reports).as_posix())
            path.unlink()
    return removed
