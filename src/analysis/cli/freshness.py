"""Whether a step of the main job would do nothing, so that the job need not start it.

Starting a step costs an interpreter and its imports (seconds for the report and the notebooks) only
for the step to find that it is up to date. Each check below asks the step's own freshness rule (the
function the step itself calls, never a copy of it), in the job's process, against the deliverables
the step would see: the published ones while nothing is staged, else the staging area. A check that
cannot decide (an input missing, a store that cannot be read) lets the step run, and the step reports
the problem as it always did. ``--force`` runs every step.

The gallery is the job's own step; its rule is declared here: the page is made again only when a
file of the reports, the project's citation, the store or the package code changed since the page
was made (``reports/.gallery-state.json``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.cli import commands
from analysis.cli.staging import file_signature
from analysis.core import paths
from analysis.core.fingerprint import bytes_sha256, code_sha256, file_sha256

if TYPE_CHECKING:
    from analysis.cli.job import JobOptions

GALLERY_STATE = ".gallery-state.json"
GALLERY_PAGE = "index.html"
CITATION = "CITATION.cff"


@dataclass(frozen=True)
class Deliverables:
    """Where a check looks: the store and the reports a step would read and write."""

    processed: Path
    reports: Path


@dataclass(frozen=True)
class NothingToDo:
    """A step the job skips: its account, as the step would have given it."""

    lines: list[str]
    facts: dict = field(default_factory=dict)


#: a step's check: what it would report when it has nothing to do, else None (run it)
Check = Callable[["JobOptions", Deliverables], NothingToDo | None]


def fetch_check(options: JobOptions, where: Deliverables) -> NothingToDo | None:
    from analysis.config.registry import load_registry
    from analysis.pipeline.fetch import files_to_place

    registry = load_registry()
    if files_to_place(registry=registry):
        return None
    return NothingToDo([commands.fetch_line(len(registry.files), 0, 0)])


def build_check(options: JobOptions, where: Deliverables) -> NothingToDo | None:
    from analysis.pipeline.build import store_up_to_date

    if options.force or not store_up_to_date(processed_dir=where.processed):
        return None
    return NothingToDo([commands.BUILD_UP_TO_DATE])


def report_check(options: JobOptions, where: Deliverables) -> NothingToDo | None:
    from analysis.presentation.report_freshness import reports_up_to_date

    if options.force or not reports_up_to_date(processed_dir=where.processed, reports_dir=where.reports):
        return None
    return NothingToDo([commands.REPORT_UP_TO_DATE])


def notebooks_check(options: JobOptions, where: Deliverables) -> NothingToDo | None:
    from analysis.presentation.notebook_runner import full_run_status

    if options.force:
        return None
    # The run key names where the charts go as published (a step pointed at the staging area shows
    # its paths there too), so the published figures folder is given even when checking a staged run.
    status = full_run_status(options.countries, processed_dir=where.processed,
                             output_dir=where.reports / "notebooks",
                             figures_dir=paths.published_reports_dir() / "figures")
    if not status.current:
        return None
    return NothingToDo([commands.notebooks_line(0, status.executions, 0)],
                       {"figure_folders": status.figure_folders})


#: the checks of the real steps (the refresh diff has none: it runs only after a build that changed vintages)
STEP_CHECKS: dict[str, Check] = {"fetch": fetch_check, "build": build_check, "report": report_check,
                                 "notebooks": notebooks_check}


# ----------------------------------------------------------------------------- the gallery


def gallery_inputs(where: Deliverables) -> str:
    """A hash of what the gallery page is made from: every other file of the reports (path, size,
    modification time), the project's citation, the store and the package code."""
    files = [entry for entry in file_signature(where.reports) if entry[0] not in (GALLERY_PAGE, GALLERY_STATE)]
    citation = paths.project_root() / CITATION
    manifest = where.processed / "manifest.json"
    doc = {"files": files, "citation": file_sha256(citation) if citation.is_file() else "",
           "store": file_sha256(manifest) if manifest.is_file() else "", "code": code_sha256()}
    return bytes_sha256(json.dumps(doc, sort_keys=True).encode("utf-8"))


def gallery_listed(where: Deliverables) -> int | None:
    """How many charts the gallery page lists, when it is up to date with its inputs; None otherwise."""
    page, state = where.reports / GALLERY_PAGE, where.reports / GALLERY_STATE
    try:
        recorded = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    current = (isinstance(recorded, dict) and page.is_file() and isinstance(recorded.get("charts"), int)
               and recorded.get("inputs") == gallery_inputs(where))
    return recorded["charts"] if current else None


def record_gallery(where: Deliverables, charts: int) -> None:
    """Remember what the page just written was made from (written only when it changed)."""
    from analysis.core import atomic

    text = json.dumps({"inputs": gallery_inputs(where), "charts": charts}, indent=1) + "\n"
    target = where.reports / GALLERY_STATE
    if not (target.is_file() and target.read_text(encoding="utf-8") == text):
        atomic.write_text(target, text)
