"""The commands: each runs one step and prints its summary, or, inside the main job, writes it for the job.

A step started by the main job gets ``--job-summary FILE``: it then prints only its counters and
writes a short account (lines for the final summary, warnings that matter, facts the job needs)
to FILE as JSON; the job prints one summary for all steps at the end.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from analysis.cli.progress import Counter, notebook_line
from analysis.core import atomic, paths
from analysis.core.errors import AnalysisError

# What a step with nothing to do tells the main job (the job says the same when it skips the step).
BUILD_UP_TO_DATE = "store up to date (inputs, catalogue and code unchanged)"
REPORT_UP_TO_DATE = "up to date (store and report code unchanged)"


def fetch_line(total: int, copied: int, downloaded: int) -> str:
    return f"{total} pinned inputs valid ({copied} copied from the mirror, {downloaded} downloaded)"


def notebooks_line(executed: int, skipped: int, failed: int) -> str:
    return f"{executed} executed, {skipped} skipped (unchanged), {failed} failed"


def _report_back(args: argparse.Namespace, full: str, lines: list[str], warnings: list[str] | None = None,
                 **facts: object) -> None:
    """Print ``full`` (a command run by hand) or write the account for the main job."""
    if getattr(args, "job_summary", None) is None:
        print(full)
        return
    account = {"lines": lines, "warnings": list(warnings or []), "facts": facts}
    atomic.write_text(Path(args.job_summary), json.dumps(account, indent=1) + "\n")


def cmd_fetch(args: argparse.Namespace) -> int:
    from analysis.pipeline.fetch import fetch_all

    report = fetch_all(mirror=args.mirror, download=not args.no_download, progress=not args.quiet)
    line = fetch_line(report.total, len(report.copied), len(report.downloaded))
    warnings = [f"replaced {len(report.replaced)} file(s) that failed their sha256 check: {', '.join(report.replaced)}"
                ] if report.replaced else []
    _report_back(args, report.summary(), [line], warnings)
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from analysis.pipeline.sources import sources_table

    print(sources_table(mirror=args.mirror))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from analysis.core.settings import parse_as_of
    from analysis.pipeline.build import build_store

    try:
        as_of = parse_as_of(args.as_of) if args.as_of else None
    except ValueError as exc:
        raise AnalysisError(str(exc)) from None
    report = build_store(force=args.force, progress=not args.quiet, as_of=as_of)
    if report.skipped:
        line = BUILD_UP_TO_DATE
    else:
        line = (f"store rebuilt: {report.indicators} indicators, {report.economies} economies, "
                f"{report.rows:,} rows, years {report.year_min}-{report.year_max}")
    _report_back(args, report.summary(), [line])
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from analysis.store.info import store_info

    print(store_info())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.cli.staging import prune_report
    from analysis.presentation.report import HEADLINE_CHARTS, build_reports

    counter = Counter("report", quiet=args.quiet)
    drawn = 0

    def progress(name: str) -> None:
        nonlocal drawn
        drawn += 1
        counter.update(f"chart {drawn} of up to {len(HEADLINE_CHARTS)} drawn: {name}")

    result = build_reports(force=args.force, progress=progress)
    counter.close()
    if result.skipped_unchanged:
        _report_back(args, result.summary(), [REPORT_UP_TO_DATE])
        return 0
    removed = prune_report(paths.reports_dir(), result.charts, result.profiles)
    line = (f"{len(result.charts)} of {len(HEADLINE_CHARTS)} headline charts, chart pack ({result.pack_pages} pages), "
            f"{len(result.profiles)} country profiles")
    gone = [f"removed reports/{path} (a chart or profile the report no longer makes)" for path in removed]
    warnings = [f"chart {name} skipped: {reason}" for name, reason in result.skipped] + gone
    _report_back(args, "\n".join([result.summary(), *gone]), [line], warnings)
    return 0


def _parameters(pairs: list[list[str]] | None) -> dict[str, str]:
    return {name: value for name, value in pairs or []}


def cmd_notebooks(args: argparse.Namespace) -> int:
    from analysis.presentation.notebook_runner import run_notebooks

    counter = Counter("notebooks", quiet=args.quiet)
    parameters = _parameters(args.parameter)
    full = not args.names and not parameters
    try:
        result = run_notebooks(inplace=args.inplace, export_html=not args.no_html, names=args.names or None,
                               parameters=parameters, force=args.force, prune=full, countries=args.countries,
                               progress=lambda event: counter.update(notebook_line(event)))
    finally:
        counter.close()
    warnings = [f"removed {path} (no such notebook or country any more)" for path in result.removed]
    line = notebooks_line(result.count("executed"), result.count("skipped"), result.count("failed"))
    _report_back(args, result.summary(), [line], warnings, figure_folders=result.figure_folders)
    return 0


def cmd_changes(args: argparse.Namespace) -> int:
    from analysis.presentation.changes_report import write_changes
    from analysis.store import changes

    countries = None if args.all_countries else "FOCUS"
    if args.previous_store is not None:
        if args.from_source or args.to_source:
            raise AnalysisError("changes: --previous-store compares each concept's current series of two stores; "
                                "it takes no --from or --to")
        result = changes.compare_stores(args.previous_store, countries=countries)
    else:
        result = changes.compare_vintages(args.from_source, args.to_source, countries=countries)
    report = write_changes(result)
    line = report.line()
    full = f"wrote {paths.relative_to_root(report.csv)} and {paths.relative_to_root(report.md)}\n{line}"
    _report_back(args, full, [line])
    return 0
