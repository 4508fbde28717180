"""The report's freshness rule: whether ``build_reports`` has anything to redo.

Kept apart from :mod:`analysis.presentation.report`, whose package imports matplotlib and every chart
module, so that the main job can ask it before deciding to start the report step at all.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from analysis.core import paths
from analysis.core.fingerprint import fingerprint
from analysis.presentation.gallery import PACK_FILE, WORKBOOK_FILE
from analysis.store import api

STATE_FILE = ".report-state.json"
INDEX_FILE = "index.html"


def report_state(processed_dir: Path | None = None) -> dict[str, str]:
    """What ``.report-state.json`` records: the store (its manifest covers inputs, catalogue, registry
    and references), the package code and the plotting library's version (read from its installed
    metadata: the same string as ``matplotlib.__version__``, without importing matplotlib)."""
    return {"fingerprint": fingerprint({"store": api.store_fingerprint(processed_dir)},
                                       {"matplotlib": version("matplotlib")})}


def is_up_to_date(reports: Path, state: dict[str, str]) -> bool:
    """The reports in ``reports`` were made from ``state`` and their main outputs are there."""
    outputs_exist = all((reports / f).exists() for f in (PACK_FILE, INDEX_FILE, WORKBOOK_FILE))
    state_path = reports / STATE_FILE
    if not (outputs_exist and state_path.exists()):
        return False
    try:
        return json.loads(state_path.read_text(encoding="utf-8")) == state
    except json.JSONDecodeError:
        return False


def reports_up_to_date(processed_dir: Path | None = None, reports_dir: Path | None = None) -> bool:
    """Whether ``build_reports()`` (without ``force``) would skip, decided as it decides."""
    reports = Path(reports_dir) if reports_dir is not None else paths.reports_dir()
    return is_up_to_date(reports, report_state(processed_dir))
