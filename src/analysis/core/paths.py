"""Where the project keeps things. Every path is derived from one project root.

The root is the checkout that holds ``pyproject.toml``; ``ANALYSIS_PROJECT_ROOT`` overrides it so
that tests and benchmarks can run the whole pipeline in a temporary copy.
"""

from __future__ import annotations

import os
from pathlib import Path

MIRROR_ENV = "ANALYSIS_DATA_MIRROR"
ROOT_ENV = "ANALYSIS_PROJECT_ROOT"


def project_root() -> Path:
    override = os.environ.get(ROOT_ENV)
    if override:
        return Path(override).resolve()
    # src/analysis/core/paths.py -> the project root is three levels above the package directory.
    return Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    return project_root() / "data"


def raw_dir() -> Path:
    return data_dir() / "raw"


def processed_dir() -> Path:
    return data_dir() / "processed"


def references_dir() -> Path:
    return raw_dir() / "references"


def sources_file() -> Path:
    return data_dir() / "sources.toml"


def catalogue_file() -> Path:
    return data_dir() / "indicators.toml"


def reports_dir() -> Path:
    return project_root() / "reports"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def default_mirror() -> Path:
    """The offline mirror: ``$ANALYSIS_DATA_MIRROR`` or ``../shared/data`` beside the project root."""
    override = os.environ.get(MIRROR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return (project_root().parent / "shared" / "data").resolve()


def relative_to_root(path: Path) -> str:
    """A path as shown to users: relative to the project root when inside it (no machine paths in outputs)."""
    path = Path(path).resolve()
    try:
        return path.relative_to(project_root()).as_posix()
    except ValueError:
        return path.as_posix()
