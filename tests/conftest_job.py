"""One run of the REAL main job in a temporary copy of the project, shared by the tests of its outputs.

``main_job`` (session-scoped) copies the inputs (catalogue, registry, raw files as hard links, the
notebooks) and the current store into a temporary project root, then runs ``python -m analysis run``
there once, with the mirror of the real checkout. To keep ``make test`` short the profile notebook's
pages are made for two focus countries (``--countries``); every other deliverable is complete. The
user's ``reports/``, ``scratch/`` and ``data/processed/`` are never written.

A test module uses it with ``pytest_plugins = ["conftest_job"]`` (tests/test_job.py does; once
loaded, every module of the session shares the one run). ``main_job.run()`` runs the job again in
the same copy, and ``snapshot()`` proves that a run changed nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from analysis.core import paths

#: environment a test run must not inherit: it would point the job at the user's folders
_JOB_ENV = (paths.PROCESSED_ENV, paths.REPORTS_ENV, paths.FIGURES_ENV, "ANALYSIS_LOCK_HELD")
JOB_TIMEOUT_SECONDS = 1200


@dataclass
class JobRun:
    """A finished run of the main job in ``root``: exit status, everything it printed, wall time."""

    root: Path
    mirror: Path
    countries: list[str]
    returncode: int
    output: str
    seconds: float

    def run(self, *args: str, env: dict[str, str] | None = None) -> JobRun:
        """Run ``python -m analysis <args>`` (default: the main job again, as first run) in the same copy."""
        args = args or ("run", "--no-download", "--countries", ",".join(self.countries))
        return run_in(self.root, self.mirror, self.countries, *args, env=env)

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        """Every published file (store and reports) with its bytes and modification time."""
        out = {}
        for top in (self.root / "data" / "processed", self.root / "reports"):
            for path in sorted(top.rglob("*")) if top.exists() else []:
                if path.is_file():
                    out[path.relative_to(self.root).as_posix()] = (path.read_bytes(), path.stat().st_mtime_ns)
        return out


def job_environment(root: Path, mirror: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _JOB_ENV}
    env.update({paths.ROOT_ENV: str(root), paths.MIRROR_ENV: str(mirror), "PYTHONUNBUFFERED": "1"})
    return env


def run_in(root: Path, mirror: Path, countries: list[str], *args: str, env: dict[str, str] | None = None) -> JobRun:
    start = time.perf_counter()
    full_env = {**job_environment(root, mirror), **(env or {})}
    done = subprocess.run([sys.executable, "-m", "analysis", *args], env=full_env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=JOB_TIMEOUT_SECONDS)
    return JobRun(root=root, mirror=mirror, countries=countries, returncode=done.returncode, output=done.stdout,
                  seconds=time.perf_counter() - start)


def _link_tree(source: Path, target: Path) -> None:
    """Hard links where possible: fetch replaces a damaged raw file, it never writes into one."""
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link, dirs_exist_ok=True)


def copy_project(source: Path, target: Path) -> None:
    """The inputs and the current store of ``source`` in ``target`` (no reports, no scratch)."""
    (target / "data").mkdir(parents=True)
    for name in ("sources.toml", "indicators.toml"):
        shutil.copy2(source / "data" / name, target / "data" / name)
    _link_tree(source / "data" / "raw", target / "data" / "raw")
    store = source / "data" / "processed"
    if store.is_dir():
        shutil.copytree(store, target / "data" / "processed", ignore=shutil.ignore_patterns(".staging-*", ".*.tmp"))
    shutil.copytree(source / "notebooks", target / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "executed"))
    shutil.copy2(source / "pyproject.toml", target / "pyproject.toml")


@pytest.fixture(scope="session")
def main_job(tmp_path_factory) -> JobRun:
    """The main job, run once per test session in a temporary copy of this checkout."""
    root = tmp_path_factory.mktemp("main-job") / "project"
    copy_project(paths.project_root(), root)
    countries = profile_countries(root)
    # the mirror of this checkout (the copy has no ../shared beside it)
    return run_in(root, paths.default_mirror(), countries, "run", "--no-download", "--countries", ",".join(countries))


def profile_countries(root: Path) -> list[str]:
    """Two focus countries of the store copied from this checkout (`make test` builds it first)."""
    from analysis.store import api

    return sorted(api.members("FOCUS", processed_dir=root / "data" / "processed"))[:2]
