"""The main job: fetch -> build -> report -> notebooks -> gallery, then publish, all or nothing.

When the build holds other source vintages than the published store, the refresh diff
(``changes --previous-store``, reports/data-changes.csv and .md) runs right after it and is published
with the rest; otherwise the published diff of the last refresh stays as it is.

Each step runs in a child process (its memory goes back to the system when it ends, so the job's
peak is its largest step's) and writes into the run's staging area (:mod:`analysis.cli.staging`).
Before starting a step the job asks the step's own freshness rule (:mod:`analysis.cli.freshness`):
a step with nothing to do is not started, and the staging area is made only once a step will run,
so a run with nothing changed copies nothing and publishes nothing.
The deliverables are published only when every step succeeded; a failed or interrupted run
removes its staging area and says so in its last lines, and the published ones stay as they were.
The job ends with one summary: what was built, where, how long each step took, what was skipped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from analysis.cli import freshness
from analysis.cli.freshness import Check, Deliverables, NothingToDo
from analysis.cli.lock import HELD_ENV
from analysis.cli.staging import Staging, clean_leftovers, figures_not_made, prune_figures
from analysis.core import paths

STEPS = ("fetch", "build", "report", "notebooks")
#: the step run after the build when a source vintage changed (the refresh diff)
CHANGES = "changes"
OK, CONFIG_ERROR, STEP_FAILED, INTERRUPTED = 0, 2, 3, 130
#: how long a step process may take to stop after an interrupt before it is terminated
STOP_GRACE_SECONDS = 15.0
MAX_WARNINGS_SHOWN = 12


@dataclass
class JobOptions:
    mirror: Path | None = None
    no_download: bool = False
    quiet: bool = False
    force: bool = False
    countries: list[str] | None = None  # profile notebook pages for these only (default: every focus country)


@dataclass
class StepOutcome:
    name: str
    seconds: float
    lines: list[str]
    warnings: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    ran: bool = True  # False: the job found it had nothing to do and did not start it


class StepFailed(Exception):
    def __init__(self, step: str, code: int):
        super().__init__(step)
        self.step, self.code = step, code


def step_argv(name: str, options: JobOptions) -> list[str]:
    """The command line of one step, with the job's options that apply to it."""
    argv = [name]
    if name == "fetch" and options.mirror is not None:
        argv += ["--mirror", str(options.mirror)]
    if name == "fetch" and options.no_download:
        argv.append("--no-download")
    if options.quiet:
        argv.append("--quiet")
    if options.force and name in ("build", "report", "notebooks"):
        argv.append("--force")
    if options.countries and name == "notebooks":
        argv += ["--countries", ",".join(options.countries)]
    if name == CHANGES:
        argv[1:1] = ["--previous-store", str(paths.published_processed_dir())]
    return argv


def _stop(child: subprocess.Popen) -> None:
    """Let an interrupted step end by itself (a Ctrl-C reached it too), then ask again, then insist."""
    for act in (lambda: None, lambda: child.send_signal(signal.SIGINT), child.terminate, child.kill):
        act()
        try:
            child.wait(timeout=STOP_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


class Job:
    """One run of the main job; ``steps``, ``command`` (a step's command line) and ``checks`` (whether a
    step has nothing to do; default: the real steps' rules, none for a replaced command) are for tests."""

    def __init__(self, options: JobOptions, out: TextIO | None = None, steps: Sequence[str] = STEPS,
                 command: Callable[[str, JobOptions], list[str]] | None = None,
                 checks: Mapping[str, Check] | None = None):
        self.options = options
        self.out = out or sys.stdout
        self.steps = tuple(steps)
        # the real steps' freshness rules say nothing about a replaced command line
        self.checks = dict(checks) if checks is not None else (freshness.STEP_CHECKS if command is None else {})
        self.command = command or (lambda name, opts: [sys.executable, "-m", "analysis", *step_argv(name, opts)])
        self.staging = Staging()
        self.outcomes: list[StepOutcome] = []
        self.child: subprocess.Popen | None = None

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # ------------------------------------------------------------------------- the run

    def run(self) -> int:
        start = time.perf_counter()
        self._clean_leftovers()
        previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            for name in self.steps:
                self.outcomes.append(self._step(name))
                # a build that was not started left the store as published: no vintage changed
                if name == "build" and self.outcomes[-1].ran and self._vintages_changed():
                    self.outcomes.append(self._run_step(CHANGES))
            self.outcomes.append(self._gallery())
            published = self._publish()
        except StepFailed as failed:
            self.staging.discard()
            return self._failed(failed, time.perf_counter() - start)
        except KeyboardInterrupt:
            self.staging.discard()
            self.say(f"interrupted{self._during()}: nothing was published; {_UNCHANGED}")
            return INTERRUPTED
        finally:
            signal.signal(signal.SIGTERM, previous)
        self.say(self.summary(time.perf_counter() - start, published))
        return OK

    def _clean_leftovers(self) -> None:
        removed, restored = clean_leftovers()
        if restored:
            self.say(f"[job] put back {', '.join(restored)} (a run was killed while publishing)")
        if removed:
            self.say(f"[job] removed {len(removed)} leftover staging folder(s) of runs that did not finish: "
                     + ", ".join(removed))

    def _on_sigterm(self, signum, frame) -> None:
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)
        raise KeyboardInterrupt

    def _during(self) -> str:
        return f" during step {self.current!r}" if getattr(self, "current", None) else ""

    def _where(self) -> Deliverables:
        """The deliverables the steps see: the staging area once made, else the published ones."""
        if self.staging.prepared:
            return Deliverables(self.staging.processed, self.staging.reports)
        return Deliverables(paths.published_processed_dir(), paths.published_reports_dir())

    def _staged(self) -> Deliverables:
        if not self.staging.prepared:
            self.staging.prepare()
        return self._where()

    def _step(self, name: str) -> StepOutcome:
        """Run a step, unless its check finds it has nothing to do; the same line is printed either way."""
        self.current = name
        start = time.perf_counter()
        nothing = self._nothing_to_do(name)
        if nothing is None:
            return self._run_step(name)
        outcome = StepOutcome(name, time.perf_counter() - start, nothing.lines, facts=nothing.facts, ran=False)
        self._done(outcome)
        return outcome

    def _nothing_to_do(self, name: str) -> NothingToDo | None:
        check = self.checks.get(name)
        if check is None:
            return None
        try:
            return check(self.options, self._where())
        except Exception:  # noqa: BLE001 - a check that cannot decide lets the step run and report the problem
            return None

    def _done(self, outcome: StepOutcome) -> None:
        self.say(f"[{outcome.name}] done in {outcome.seconds:.1f} s: {'; '.join(outcome.lines)}")

    def _run_step(self, name: str) -> StepOutcome:
        self.current = name
        self._staged()
        account = self.staging.data_area / f"{name}.summary.json"
        env = {**os.environ, **self.staging.environment(), HELD_ENV: str(os.getpid())}
        argv = [*self.command(name, self.options), "--job-summary", str(account)]
        start = time.perf_counter()
        self.child = subprocess.Popen(argv, env=env)
        try:
            code = self.child.wait()
        except KeyboardInterrupt:
            _stop(self.child)
            raise
        finally:
            self.child = None
        if code != 0:
            raise StepFailed(name, code)
        # a step that wrote no account (a command without one) still succeeded
        data = json.loads(account.read_text(encoding="utf-8")) if account.exists() else {}
        outcome = StepOutcome(name, time.perf_counter() - start, data.get("lines", ["done"]),
                              data.get("warnings", []), data.get("facts", {}))
        self._done(outcome)
        return outcome

    def _vintages_changed(self) -> bool:
        """Whether the new build holds other source vintages than the published store (then the refresh
        diff joins the deliverables); no published store or an unreadable one: nothing to compare."""
        from analysis.store.changes import vintage_changes

        changed = vintage_changes(paths.published_processed_dir(), self.staging.processed)
        if changed:
            self.say(f"[job] source vintages changed ({'; '.join(changed)}): the refresh diff is written")
        return bool(changed)

    def _gallery(self) -> StepOutcome:
        """Drop charts the job did not make, then list the rest in the staged gallery page; the page is
        made again only when something it lists changed (then the staging area is made, if not yet)."""
        self.current = "gallery"
        start = time.perf_counter()
        folders = next((o.facts.get("figure_folders") for o in self.outcomes if o.name == "notebooks"), None) or []
        where = self._where()
        current = not (self.options.force or figures_not_made(where.reports / "figures", folders))
        count = freshness.gallery_listed(where) if current else None
        ran, removed = count is None, []
        if ran:
            where = self._staged()
            removed = prune_figures(where.reports / "figures", folders)
            count = self._write_gallery(where)
        shown = paths.relative_to_root(paths.published_reports_dir() / freshness.GALLERY_PAGE)
        warnings = [f"removed reports/{path} (not made by the main job)" for path in removed]
        return StepOutcome("gallery", time.perf_counter() - start, [f"{shown} lists {count} charts"], warnings,
                           ran=ran)

    @staticmethod
    def _write_gallery(where: Deliverables) -> int:
        from analysis.presentation.gallery import write_gallery

        _, count = write_gallery(where.reports)
        freshness.record_gallery(where, count)
        return count

    def _publish(self) -> bool:
        """Swap the staged deliverables in, with Ctrl-C held back for the few renames; False if unchanged."""
        self.current = "publish"
        start = time.perf_counter()
        if not self.staging.prepared or self.staging.unchanged():
            if self.staging.prepared:
                self.staging.discard()
            self.outcomes.append(StepOutcome("publish", time.perf_counter() - start,
                                             ["nothing changed: the published files were left untouched"]))
            return False
        held = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.staging.publish()
        finally:
            for sig, handler in held.items():
                signal.signal(sig, handler)
        store = paths.relative_to_root(paths.published_processed_dir())
        reports = paths.relative_to_root(paths.published_reports_dir())
        self.outcomes.append(StepOutcome("publish", time.perf_counter() - start, [f"{store} and {reports}/ replaced"]))
        return True

    # ------------------------------------------------------------------------- what the user reads

    def _failed(self, failed: StepFailed, seconds: float) -> int:
        code = CONFIG_ERROR if failed.code == CONFIG_ERROR else STEP_FAILED
        if failed.code in (INTERRUPTED, -signal.SIGINT, -signal.SIGTERM):
            code = INTERRUPTED
        self.say(f"[{failed.step}] failed (exit {failed.code}); the message above says why")
        self.say(f"main job failed at step {failed.step!r} after {seconds:.1f} s: nothing was published; {_UNCHANGED}")
        return code

    def summary(self, seconds: float, published: bool) -> str:
        head = ("published the store and the reports" if published
                else "everything was up to date; nothing to publish")
        lines = ["", f"main job finished in {seconds:.1f} s: {head}"]
        lines += [f"  {o.name:<10}{o.seconds:>7.1f} s  {'; '.join(o.lines)}" for o in self.outcomes]
        warnings = [f"{o.name}: {w}" for o in self.outcomes for w in o.warnings]
        if warnings:
            lines.append(f"skipped or removed ({len(warnings)}):")
            lines += [f"  {w}" for w in warnings[:MAX_WARNINGS_SHOWN]]
            if len(warnings) > MAX_WARNINGS_SHOWN:
                lines.append(f"  ... and {len(warnings) - MAX_WARNINGS_SHOWN} more")
        reports = paths.relative_to_root(paths.published_reports_dir())
        lines.append(f"see {reports}/index.html (gallery), {reports}/chart-pack.pdf, {reports}/profiles/ and "
                     f"{reports}/notebooks/")
        return "\n".join(lines)


_UNCHANGED = "data/processed and reports/ are exactly as they were before this run"


def run_job(options: JobOptions) -> int:
    return Job(options).run()
