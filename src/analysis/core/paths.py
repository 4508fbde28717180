"""Where the project keeps things. Every path is derived from one project root.

The root is the checkout that holds ``pyproject.toml``; ``ANALYSIS_PROJECT_ROOT`` overrides it so
that tests and benchmarks can run the whole pipeline in a temporary copy.

The main job (``python -m analysis run``) builds its deliverables in staging folders and points its
steps at them with ``ANALYSIS_PROCESSED_DIR`` (the store), ``ANALYSIS_REPORTS_DIR`` (reports) and
``ANALYSIS_FIGURES_DIR`` (where notebook charts are exported). Outside the main job notebook charts
go to ``scratch/figures/``, which the gallery never publishes: an experiment stays an experiment.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

MIRROR_ENV = "ANALYSIS_DATA_MIRROR"
ROOT_ENV = "ANALYSIS_PROJECT_ROOT"
PROCESSED_ENV = "ANALYSIS_PROCESSED_DIR"
REPORTS_ENV = "ANALYSIS_REPORTS_DIR"
FIGURES_ENV = "ANALYSIS_FIGURES_DIR"
# The refresh diff's deliverables in the reports folder (written by the main job, linked by the gallery).
DATA_CHANGES_CSV = "data-changes.csv"
DATA_CHANGES_MD = "data-changes.md"


def project_root() -> Path:
    override = os.environ.get(ROOT_ENV)
    if override:
        return _resolved(override)
    return _package_root()


@lru_cache(maxsize=1)
def _package_root() -> Path:
    # src/analysis/core/paths.py -> the project root is three levels above the package directory.
    return Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    return project_root() / "data"


def raw_dir() -> Path:
    return data_dir() / "raw"


def _override(env: str) -> Path | None:
    value = os.environ.get(env)
    return _resolved(value) if value else None


def _resolved(value: str) -> Path:
    """``value`` as an absolute path without links, resolved once per value (and working folder, for a
    relative one): a notebook run asks for paths thousands of times, and each resolve is a round of
    system calls. A changed variable is a new key, so it is still followed."""
    return _resolved_in(value, "" if os.path.isabs(value) else os.getcwd())


@lru_cache(maxsize=64)
def _resolved_in(value: str, cwd: str) -> Path:
    return Path(value).expanduser().resolve()


def processed_dir() -> Path:
    return _override(PROCESSED_ENV) or published_processed_dir()


def published_processed_dir() -> Path:
    """The store users read, whatever a running main job is staging."""
    return data_dir() / "processed"


def references_dir() -> Path:
    return raw_dir() / "references"


def sources_file() -> Path:
    return data_dir() / "sources.toml"


def catalogue_file() -> Path:
    return data_dir() / "indicators.toml"


def reports_dir() -> Path:
    return _override(REPORTS_ENV) or published_reports_dir()


def published_reports_dir() -> Path:
    """The reports users read, whatever a running main job is staging."""
    return project_root() / "reports"


def figures_dir() -> Path:
    """Where notebook charts are exported: the main job's staged ``reports/figures``, else a scratch folder."""
    return _override(FIGURES_ENV) or scratch_dir() / "figures"


def scratch_dir() -> Path:
    """Experiments' outputs (notebooks run by hand): never published, removed by ``make clean``."""
    return project_root() / "scratch"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def default_mirror() -> Path:
    """The offline mirror: ``$ANALYSIS_DATA_MIRROR`` or ``../shared/data`` beside the project root."""
    override = os.environ.get(MIRROR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return (project_root().parent / "shared" / "data").resolve()


def relative_to_root(path: Path) -> str:
    """A path as shown to users: relative to the project root when inside it (no machine paths in outputs).

    A path in a staging folder of the main job is shown where it will be published, so that what a
    step prints (and a notebook's output) does not depend on where the run staged it.
    """
    path = Path(path).resolve()
    for staged, published in ((_override(REPORTS_ENV), published_reports_dir()),
                              (_override(PROCESSED_ENV), published_processed_dir())):
        if staged is not None and path.is_relative_to(staged):
            path = published / path.relative_to(staged)
            break
    try:
        return path.relative_to(project_root()).as_posix()
    except ValueError:
        return path.as_posix()
