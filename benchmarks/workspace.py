"""Where the benchmarks run: the machine description and clean copies of the repository.

Every measurement runs in a copy of the project made by :func:`clean_checkout`: ``git clone`` of
HEAD plus, when the working tree has uncommitted changes, those changes copied over (what the next
commit would hold: tracked edits, deletions, and new files that are not ignored). Nothing fetched or
built (``data/raw`` inputs, ``data/processed``, ``reports``) comes along, so the copy starts as a
fresh clone does, and the benchmark never disturbs the working tree it is run from.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .procs import memory_total_mb


@dataclass(frozen=True)
class Checkout:
    root: Path
    commit: str
    overlaid: int  # files copied over from the working tree (uncommitted changes)
    deleted: int

    def describe(self) -> str:
        if not self.overlaid and not self.deleted:
            return f"clone of HEAD {self.commit[:12]}"
        return (f"clone of HEAD {self.commit[:12]} plus the working tree's uncommitted changes "
                f"({self.overlaid} files added or changed, {self.deleted} deleted)")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def git_commit(repo: Path) -> str:
    try:
        return _git(repo, "rev-parse", "HEAD").strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown"


def git_dirty_files(repo: Path) -> tuple[list[str], list[str]]:
    """(files added or changed since HEAD, staged or not, and new files not ignored; files deleted since HEAD).

    Compared with HEAD, not the index, so that staged work (``git add``, ``git mv``) counts too.
    """
    changed = _git(repo, "diff", "--name-only", "-z", "--no-renames", "HEAD").split("\0")
    others = _git(repo, "ls-files", "-z", "--others", "--exclude-standard").split("\0")
    deleted = {d for d in _git(repo, "diff", "--name-only", "-z", "--no-renames", "--diff-filter=D",
                                "HEAD").split("\0") if d}
    return sorted({c for c in changed + others if c} - deleted), sorted(deleted)


def clean_checkout(repo: Path, dest: Path, *, include_uncommitted: bool = True) -> Checkout:
    """Clone ``repo``'s HEAD into ``dest`` (replacing it) and copy uncommitted changes over."""
    repo, dest = Path(repo).resolve(), Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(repo), str(dest)], check=True,
                   capture_output=True, text=True)
    commit = git_commit(dest)
    changed, deleted = git_dirty_files(repo) if include_uncommitted else ([], [])
    copied = 0
    for rel in changed:
        src = repo / rel
        if not src.is_file():  # a directory entry (nested repo) or a file removed meanwhile
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
        copied += 1
    for rel in deleted:
        (dest / rel).unlink(missing_ok=True)
    return Checkout(root=dest, commit=commit, overlaid=copied, deleted=len(deleted))


def frozen_source(repo: Path, dest: Path) -> Checkout:
    """A private repository holding what the benchmark measures, fixed when the benchmark starts.

    ``clean_checkout`` of ``repo`` with the uncommitted changes committed *in the copy* (the
    project's own repository is never changed), so that every later ``git clone`` of it, such as
    the main job's clean checkouts, sees the same code even while the working tree keeps changing.
    """
    checkout = clean_checkout(repo, dest)
    if checkout.overlaid or checkout.deleted:
        _git(dest, "add", "--all")
        _git(dest, "-c", "user.name=benchmarks", "-c", "user.email=benchmarks@localhost", "commit", "--quiet",
             "--no-verify", "-m", "benchmark snapshot of uncommitted changes")
    return checkout


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other work on the machine slows every figure)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine_description(repo: Path) -> dict[str, str]:
    """What the figures were measured on: CPU, cores, memory, OS, Python and key libraries, commit."""
    memory = memory_total_mb()
    changed, deleted = git_dirty_files(repo) if (Path(repo) / ".git").exists() else ([], [])
    commit = git_commit(repo)
    dirty = f" (+ {len(changed) + len(deleted)} uncommitted files)" if changed or deleted else ""
    return {
        "CPU": cpu_model(),
        "cores (usable)": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "memory": f"{memory / 1024:.1f} GB" if memory else "unknown",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "pandas": _version("pandas"),
        "pyarrow": _version("pyarrow"),
        "pandera": _version("pandera"),
        "matplotlib": _version("matplotlib"),
        "papermill": _version("papermill"),
        "git commit": commit + dirty,
    }
