"""Command line: ``python -m analysis <command>`` (installed as ``caring-societies``).

The main job is ``run``: fetch -> build -> report -> notebooks, staged and published all or nothing
(:mod:`analysis.cli.job`). Each step is also a command of its own (:mod:`analysis.cli.commands`);
the commands that write the store or the reports take the checkout lock (:mod:`analysis.cli.lock`).
This module only parses arguments and turns errors into messages and exit codes.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from analysis.cli import commands
from analysis.cli.lock import checkout_lock
from analysis.core.errors import AnalysisError

EXIT_CODES = """exit codes:
  0    done (or nothing to do)
  1    a bug: the traceback is printed; please report it
  2    a user or configuration error: the message names the file, the entry and the rule
  3    a step failed (a notebook, a chart, the report); with `run`, nothing was published
  4    another run holds the checkout lock (data/.lock) and --no-wait was given
  130  interrupted (Ctrl-C or SIGTERM); with `run`, nothing was published"""

CONFIG_ERROR = 2
INTERRUPTED = 130
#: commands that write the store or the reports, and so take turns through the checkout lock
LOCKED = ("fetch", "build", "report", "notebooks", "changes", "run")


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.cli.job import JobOptions, run_job

    return run_job(JobOptions(mirror=args.mirror, no_download=args.no_download, quiet=args.quiet, force=args.force,
                              countries=args.countries))


def _country_list(text: str) -> list[str]:
    return [c.strip().upper() for c in text.split(",") if c.strip()]


def _countries_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument("--countries", type=_country_list, default=None, metavar="ISO3[,ISO3...]",
                   help="make the country profile notebook's pages for these focus countries only "
                        "(default: every focus country); pages of other countries are removed")


def _mirror_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mirror", type=Path, default=None,
                   help="local mirror of the pinned files (default: $ANALYSIS_DATA_MIRROR or ../shared/data)")


def _common_opts(p: argparse.ArgumentParser, force_help: str | None, quiet_help: str = "no progress bar") -> None:
    if force_help:
        p.add_argument("--force", action="store_true", help=force_help)
    p.add_argument("--quiet", action="store_true", help=quiet_help)
    p.add_argument("--no-wait", action="store_true",
                   help="if another run holds the checkout lock, exit at once (status 4) instead of waiting")
    # The main job asks its steps for an account of what they did instead of their printed summary.
    p.add_argument("--job-summary", type=Path, default=None, help=argparse.SUPPRESS)


def _add_step_commands(sub) -> None:
    p = sub.add_parser("fetch", help="obtain every pinned input into data/raw/ and verify its sha256",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _mirror_opt(p)
    p.add_argument("--no-download", action="store_true", help="use the mirror only; never download")
    _common_opts(p, None)
    p.set_defaults(func=commands.cmd_fetch)

    p = sub.add_parser("build", help="parse, validate and write the indicator store in data/processed/",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common_opts(p, "rebuild even when inputs are unchanged")
    p.add_argument("--as-of", default=None, metavar="YYYY-MM-DD",
                   help="date that decides group membership (default: the pinned setting in analysis.core.settings)")
    p.set_defaults(func=commands.cmd_build)

    p = sub.add_parser("report", help="export all charts, the chart pack and the country profiles into reports/",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common_opts(p, "rebuild even when the store is unchanged", "no chart counter")
    p.set_defaults(func=commands.cmd_report)

    p = sub.add_parser("notebooks", help="execute the notebooks and export them as HTML into reports/notebooks/",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", metavar="NAME", help="notebooks to run, by number (01) or name (default: all)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="papermill parameter for the notebooks that declare it, e.g. -p country THA "
                        "(checked before any kernel starts)")
    _countries_opt(p)
    p.add_argument("--inplace", action="store_true", help="save the executed notebooks over the committed ones")
    p.add_argument("--no-html", action="store_true", help="do not export HTML")
    _common_opts(p, "re-execute even when the store and notebooks are unchanged", "no notebook counter")
    p.set_defaults(func=commands.cmd_notebooks)
    _add_changes_command(sub)


def _add_changes_command(sub) -> None:
    p = sub.add_parser("changes", help="the refresh diff: what changed between two vintages of a source, or two "
                                       "builds of the store, into reports/data-changes.csv and .md",
                       description="Per concept and country: values revised on overlapping years, values added "
                                   "and dropped, and the latest value and year before and after. Without options: "
                                   "within the store, every older vintage of a source family (a source id without "
                                   "its trailing year: sdg2020 and sdg2023 are vintages of sdg) against the newest. "
                                   "The main job runs it with --previous-store when a source vintage changed.",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="from_source", default=None, metavar="SOURCE",
                   help="the older source id of data/sources.toml, e.g. sdg2020 (with --to)")
    p.add_argument("--to", dest="to_source", default=None, metavar="SOURCE",
                   help="the newer source id, e.g. sdg2023 (with --from)")
    p.add_argument("--previous-store", type=Path, default=None, metavar="DIR",
                   help="compare each concept's current series in this store (a previously published "
                        "data/processed) with the current store's")
    p.add_argument("--all-countries", action="store_true",
                   help="every economy in the store (default: the focus countries)")
    _common_opts(p, None)
    p.set_defaults(func=commands.cmd_changes)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.splitlines()[0],
                                     epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_step_commands(sub)

    p = sub.add_parser("sources", help="list the sources with licence, vintage and status")
    _mirror_opt(p)
    p.set_defaults(func=commands.cmd_sources)

    p = sub.add_parser("info", help="what is in the store: indicators x countries x years, coverage")
    p.set_defaults(func=commands.cmd_info)

    p = sub.add_parser("run", help="the main job: fetch, build, report, notebooks; published all or nothing",
                       description="Fetch, build, report and notebooks into a staging area; the store and the "
                                   "reports are replaced only when every step succeeded.",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _mirror_opt(p)
    p.add_argument("--no-download", action="store_true", help="use the mirror only; never download")
    _countries_opt(p)
    _common_opts(p, "redo every step even when inputs are unchanged", "no progress bars or counters")
    p.set_defaults(func=_cmd_run)
    return parser


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _dispatch(args: argparse.Namespace) -> int:
    if args.command not in LOCKED:
        return args.func(args)
    # SIGTERM ends a run like Ctrl-C: clean-up code runs and the lock is released.
    signal.signal(signal.SIGTERM, _interrupt)
    with checkout_lock(wait=not args.no_wait, say=lambda text: print(text, file=sys.stderr, flush=True)):
        return args.func(args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", CONFIG_ERROR)
    except BrokenPipeError:
        # Output piped into e.g. `head`: the reader went away, which is not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted; every file is replaced atomically, so nothing is half-written", file=sys.stderr)
        return INTERRUPTED
