"""Command line: ``python -m analysis <command>`` (installed as ``caring-societies``).

The main job is ``run``: fetch -> build -> report -> notebooks. Each step lives in its own module;
this file only parses arguments and wires the steps together.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from analysis.core.errors import AnalysisError


def _cmd_fetch(args: argparse.Namespace) -> int:
    from analysis.pipeline.fetch import fetch_all

    report = fetch_all(mirror=args.mirror, download=not args.no_download, progress=not args.quiet)
    print(report.summary())
    return 0


def _cmd_sources(args: argparse.Namespace) -> int:
    from analysis.pipeline.fetch import sources_table

    print(sources_table(mirror=args.mirror))
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from analysis.core.settings import parse_as_of
    from analysis.pipeline.build import build_store

    try:
        as_of = parse_as_of(args.as_of) if args.as_of else None
    except ValueError as exc:
        raise AnalysisError(str(exc)) from None
    report = build_store(force=args.force, progress=not args.quiet, as_of=as_of)
    print(report.summary())
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from analysis.store.info import store_info

    print(store_info())
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from analysis.presentation.report import build_reports

    print(build_reports(force=args.force).summary())
    return 0


def _cmd_notebooks(args: argparse.Namespace) -> int:
    from analysis.presentation.notebook_runner import run_notebooks

    print(run_notebooks(inplace=args.inplace, export_html=not args.no_html, force=args.force).summary())
    return 0


def _step_argv(name: str, args: argparse.Namespace) -> list[str]:
    argv = [name]
    if name == "fetch":
        if args.mirror is not None:
            argv += ["--mirror", str(args.mirror)]
        if args.no_download:
            argv.append("--no-download")
    if args.quiet and name in ("fetch", "build"):
        argv.append("--quiet")
    if args.force and name in ("build", "report", "notebooks"):
        argv.append("--force")
    return argv


def _cmd_run(args: argparse.Namespace) -> int:
    """The main job: fetch -> build -> report -> notebooks, each in its own child process.

    A child per step returns its memory to the system when the step ends, so the job's peak is
    that of its largest step rather than the sum of everything the steps imported and cached.
    """
    import subprocess

    for name in ("fetch", "build", "report", "notebooks"):
        start = time.perf_counter()
        print(f"[{name}]", flush=True)
        done = subprocess.run([sys.executable, "-m", "analysis", *_step_argv(name, args)], check=False)
        if done.returncode != 0:
            print(f"[{name}] failed (exit {done.returncode}); later steps not run. Outputs of earlier runs "
                  "are intact: every output is replaced atomically.", file=sys.stderr)
            return done.returncode
        print(f"[{name}] done in {time.perf_counter() - start:.1f} s", flush=True)
    # The notebooks export their charts after the report step drew the gallery: list them too.
    from analysis.core import paths
    from analysis.presentation.gallery import write_gallery

    index, count = write_gallery(paths.reports_dir())
    print(f"[gallery] {paths.relative_to_root(index)}: {count} charts")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def mirror_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument("--mirror", type=Path, default=None,
                       help="local mirror of the pinned files (default: $ANALYSIS_DATA_MIRROR or ../shared/data)")

    p = sub.add_parser("fetch", help="obtain every pinned input into data/raw/ and verify its sha256")
    mirror_opt(p)
    p.add_argument("--no-download", action="store_true", help="use the mirror only; never download")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_fetch)

    p = sub.add_parser("sources", help="list the sources with licence, vintage and status")
    mirror_opt(p)
    p.set_defaults(func=_cmd_sources)

    p = sub.add_parser("build", help="parse, validate and write the indicator store in data/processed/")
    p.add_argument("--force", action="store_true", help="rebuild even when inputs are unchanged")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--as-of", default=None, metavar="YYYY-MM-DD",
                   help="date that decides group membership (default: the pinned setting in analysis.core.settings)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("info", help="what is in the store: indicators x countries x years, coverage")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("report", help="export all charts, the chart pack and the country profiles into reports/")
    p.add_argument("--force", action="store_true", help="rebuild even when the store is unchanged")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("notebooks", help="execute the notebooks and export them as HTML into reports/notebooks/")
    p.add_argument("--inplace", action="store_true", help="save the executed notebooks over the committed ones")
    p.add_argument("--no-html", action="store_true", help="do not export HTML")
    p.add_argument("--force", action="store_true", help="re-execute even when the store and notebooks are unchanged")
    p.set_defaults(func=_cmd_notebooks)

    p = sub.add_parser("run", help="the main job: fetch, build, report, notebooks")
    mirror_opt(p)
    p.add_argument("--no-download", action="store_true", help="use the mirror only; never download")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--force", action="store_true", help="redo every step even when inputs are unchanged")
    p.set_defaults(func=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Output piped into e.g. `head`: the reader went away, which is not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted; outputs written so far were replaced atomically, nothing is half-written", file=sys.stderr)
        return 130
