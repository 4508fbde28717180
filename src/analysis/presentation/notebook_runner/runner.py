"""Which notebooks to execute, where their outputs go, and the run itself (see the package docstring)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis.core import atomic, paths
from analysis.core.errors import AnalysisError, StoreError
from analysis.core.fingerprint import fingerprint
from analysis.presentation import gallery
from analysis.presentation.notebook_runner import kernel
from analysis.presentation.notebook_runner.outputs import clean_executed, find_volatile, title_of, to_html
from analysis.store import api

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
PROFILE_NOTEBOOK = "07_country_profile"
PROFILE_PARAMETER = "country"
#: the parameter every notebook declares: the subfolder of the figures directory its charts go to
FIGURES_PARAMETER = "NOTEBOOK"
STATE_FILE = "run-state.json"
_SAFE_FOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class NotebookError(AnalysisError):
    """One or more notebooks failed to execute or produced volatile output, or a parameter is wrong."""

    #: the CLI's exit status: a step failed
    exit_code = 3


class ParameterError(NotebookError):
    """A notebook name, parameter or profile country that does not exist: found before any kernel starts."""

    exit_code = 2  # the user's to fix, like any configuration error


@dataclass
class NotebookRun:
    """What happened to one notebook (or one profile of the profile notebook)."""

    name: str
    status: str  # executed | skipped | failed
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    error: str = ""
    issues: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    runs: list[NotebookRun] = field(default_factory=list)
    seconds: float = 0.0
    removed: list[str] = field(default_factory=list)  # outputs of notebooks or countries that no longer exist
    figure_folders: list[str] = field(default_factory=list)  # where the notebooks export their charts

    @property
    def failed(self) -> list[NotebookRun]:
        return [r for r in self.runs if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed and not any(r.issues for r in self.runs)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.runs)

    def headline(self) -> str:
        return (f"notebooks: {self.count('executed')} executed, {self.count('skipped')} skipped (unchanged), "
                f"{self.count('failed')} failed in {self.seconds:.1f} s")

    def summary(self) -> str:
        lines = [self.headline()]
        for r in self.runs:
            timing = f" ({r.seconds:.1f} s)" if r.status == "executed" else ""
            lines.append(f"  {r.status:8s} {r.name}{timing}")
            lines += _problem_lines(r)
        lines += [f"  removed  {p} (no such notebook or country any more)" for p in self.removed]
        return "\n".join(lines)

    def problems(self) -> str:
        """The headline and only the notebooks that failed or printed volatile output."""
        lines = [self.headline()]
        for r in self.runs:
            if r.status == "failed" or r.issues:
                lines.append(f"  {r.status:8s} {r.name}")
                lines += _problem_lines(r)
        return "\n".join(lines)


def _problem_lines(run: NotebookRun) -> list[str]:
    return ([f"           error: {run.error}"] if run.error else []) + [f"           issue: {i}" for i in run.issues]


@dataclass(frozen=True)
class Progress:
    """Where a run stands, for a counter: ``done`` of ``total`` executions finished, ``running`` now."""

    done: int
    total: int
    finished: NotebookRun | None
    running: tuple[str, ...]


# ---------------------------------------------------------------------------------------- hashing


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def notebook_source_hash(path: Path) -> str:
    """Hash of what the notebook *does*: cell types, sources and tags, and the kernel; not its outputs.

    Executing a notebook in place changes its outputs but not this hash, so an in-place run is
    skipped the next time unless something it depends on changed.
    """
    nb = json.loads(Path(path).read_bytes())
    if nb.get("nbformat") != 4:
        import nbformat

        nb = nbformat.read(path, as_version=4)  # converted to the current format, its sources joined
    # Read as plain JSON (the current format needs no conversion): nbformat's node objects cost more
    # than the rest of the freshness check; a source stored as a list of lines is joined as nbformat does.
    cells = [(c["cell_type"], _joined(c["source"]), sorted(c.get("metadata", {}).get("tags", []))) for c in nb["cells"]]
    name = nb.get("metadata", {}).get("kernelspec", {}).get("name", "")
    return _sha256(json.dumps([name, cells], ensure_ascii=False).encode("utf-8"))


def _joined(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def store_hash(processed_dir: Path | None = None) -> str:
    """The store's fingerprint (its manifest records input and catalogue hashes); ``no-store`` without one."""
    try:
        return api.store_fingerprint(processed_dir)
    except StoreError:
        return "no-store"


def run_key(notebook: Path, parameters: Mapping[str, object] | None, store: str, source_hash: str | None = None) -> str:
    """The execution's fingerprint: notebook sources, store, package code and parameters
    (``source_hash``: the notebook's :func:`notebook_source_hash`, when already known)."""
    return fingerprint({"notebook": source_hash or notebook_source_hash(notebook), "store": store},
                       dict(parameters or {}))


def _read_state(path: Path) -> dict[str, str]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return state if isinstance(state, dict) else {}


def _state_text(state: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(state.items())), indent=1) + "\n"


def _state_unchanged(path: Path, state: Mapping[str, str]) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == _state_text(state)


def _write_state(path: Path, state: Mapping[str, str]) -> None:
    if not _state_unchanged(path, state):  # unchanged stays untouched
        atomic.write_text(path, _state_text(state))


# ------------------------------------------------------------------------------ selection and parameters


def discover(notebooks_dir: Path, names: Sequence[str] | None = None) -> list[Path]:
    """``NN_*.ipynb`` in order; ``names`` selects by stem (``01_older_persons``) or number (``01``)."""
    found = sorted(Path(notebooks_dir).glob(NOTEBOOK_GLOB))
    if names is None:
        return found
    wanted = [str(n).removesuffix(".ipynb") for n in names]
    chosen = [p for p in found if p.stem in wanted or p.stem[:2] in wanted]
    unknown = [n for n in wanted if not any(p.stem == n or p.stem[:2] == n for p in found)]
    if unknown:
        raise ParameterError(f"{paths.relative_to_root(Path(notebooks_dir))}: no notebook named {unknown}")
    return chosen


def focus_countries(processed_dir: Path | None = None) -> list[str]:
    """The focus countries (the 14) from the country table in the store."""
    return [str(c) for c in api.members("FOCUS", processed_dir=processed_dir)]


def check_countries(source: Path, countries: Sequence[object], processed_dir: Path | None = None) -> None:
    """Every profile country is one of the focus countries, before any kernel starts."""
    allowed = focus_countries(processed_dir)
    for value in countries:
        if str(value) not in allowed:
            raise ParameterError(f"{paths.relative_to_root(source)}: parameter {PROFILE_PARAMETER}={value!r}: "
                                f"{PROFILE_PARAMETER} must be one of {', '.join(allowed)}")


def parameters_for(selected: Sequence[Path], parameters: Mapping[str, object] | None) -> dict[Path, dict]:
    """The parameters each notebook receives: those its parameters cell declares.

    A parameter that none of the selected notebooks declares is a typo, reported before any kernel
    starts with the names the notebooks do declare.
    """
    given = dict(parameters or {})
    declared = {source: kernel.declared_parameters(source) for source in selected} if given else {}
    for name in given:
        if not any(name in names for names in declared.values()):
            known = sorted({n for names in declared.values() for n in names})
            raise ParameterError(f"parameter {name!r}: no selected notebook declares it in its parameters cell "
                                f"(declared: {', '.join(known) or 'none'})")
    return {source: {k: v for k, v in given.items() if k in declared.get(source, ())} for source in selected}


# ----------------------------------------------------------------------------- execution/export


@dataclass(frozen=True)
class _Task:
    """One execution: a notebook (or one profile of the profile notebook) and where its outputs go."""

    name: str
    source: Path
    parameters: Mapping[str, object] | None
    notebook_target: Path | None
    html_target: Path | None
    cwd: Path
    key: str
    title_suffix: str = ""

    @property
    def figures_folder(self) -> str:
        return str((self.parameters or {}).get(FIGURES_PARAMETER, self.source.stem))

    def state_value(self) -> str:
        """The key plus the hash of the executed notebook as written: an in-place notebook whose
        outputs were cleared or edited since (same sources, so same key) is executed again."""
        if self.notebook_target is None:
            return self.key
        written = self.notebook_target.read_bytes() if self.notebook_target.exists() else b""
        return f"{self.key}|{_sha256(written)}"

    def up_to_date(self, state: Mapping[str, str]) -> bool:
        targets = [t for t in (self.notebook_target, self.html_target) if t is not None]
        return all(t.exists() for t in targets) and state.get(self.name) == self.state_value()


def _execute_task(task: _Task, session: kernel.KernelSession) -> NotebookRun:
    """Execute one task in ``session``'s kernel and write its outputs atomically."""
    start = time.perf_counter()
    try:
        executed = session.execute(task.source, task.parameters)
    except Exception as exc:  # noqa: BLE001 - any kernel/cell failure is reported, not raised mid-suite
        return NotebookRun(name=task.name, status="failed", seconds=time.perf_counter() - start,
                           error=kernel.error_text(exc))
    executed = clean_executed(executed, keep_parameters=bool(task.parameters))
    run = NotebookRun(name=task.name, status="executed", issues=find_volatile(executed))
    if task.notebook_target is not None:
        import nbformat

        atomic.write_text(task.notebook_target, nbformat.writes(executed) + "\n")
        run.outputs.append(paths.relative_to_root(task.notebook_target))
    if task.html_target is not None:
        atomic.write_text(task.html_target, to_html(executed, title_of(executed, task.source.stem) + task.title_suffix))
        run.outputs.append(paths.relative_to_root(task.html_target))
    run.seconds = time.perf_counter() - start
    return run


@dataclass(frozen=True)
class _Plan:
    """How a run was asked for: what to write and where."""

    inplace: bool
    export_html: bool
    profiles: bool
    countries: Sequence[str] | None
    notebooks_dir: Path
    output_dir: Path
    figures_dir: Path
    #: the store the notebooks read (None: ``paths.processed_dir()``, as the kernels see it)
    processed_dir: Path | None = None

    @property
    def state_path(self) -> Path:
        # In-place runs keep their record apart: they must not make the main job's outputs look stale.
        return (paths.scratch_dir() / f"inplace-{STATE_FILE}") if self.inplace else self.output_dir / STATE_FILE


def _tasks(selected: Sequence[Path], params: Mapping[Path, Mapping[str, object]], plan: _Plan) -> list[_Task]:
    store = store_hash(plan.processed_dir)
    # Where the charts went is part of what a run made: a run by hand (charts in scratch/) does not
    # make the main job's charts in reports/figures/ up to date.
    mode = f"{'inplace' if plan.inplace else 'copy'}|{paths.relative_to_root(plan.figures_dir)}"
    out = plan.output_dir
    tasks = []
    for source in selected:
        given = params.get(source) or {}
        source_hash = notebook_source_hash(source)  # once for the notebook and each of its profile runs
        tasks.append(_Task(
            name=source.stem, source=source, parameters=given or None,
            notebook_target=source if plan.inplace else out / "executed" / source.name,
            html_target=out / f"{source.stem}.html" if plan.export_html else None, cwd=plan.notebooks_dir,
            key=run_key(source, given, store, source_hash) + f"|{mode}|{plan.export_html}"))
        if source.stem != PROFILE_NOTEBOOK or not (plan.profiles and plan.export_html) or PROFILE_PARAMETER in given:
            continue
        countries = list(plan.countries) if plan.countries is not None else focus_countries(plan.processed_dir)
        check_countries(source, countries, plan.processed_dir)
        for iso3 in countries:
            country_params = {**given, PROFILE_PARAMETER: iso3}
            tasks.append(_Task(
                name=f"{source.stem}[{iso3}]", source=source, parameters=country_params, notebook_target=None,
                html_target=out / "profiles" / f"{iso3}.html", cwd=plan.notebooks_dir,
                key=run_key(source, country_params, store, source_hash) + f"|{mode}", title_suffix=f": {iso3}"))
    return tasks


def _clear_figures(tasks: Sequence[_Task], todo: Sequence[_Task], figures_dir: Path) -> None:
    """Empty the figure folder of every notebook all of whose executions are about to run.

    Its charts are drawn again; one the notebook no longer draws must not linger in the gallery. A
    folder shared with an execution that is skipped (up to date) keeps that execution's charts.
    """
    running = {t.name for t in todo}
    folders: dict[str, list[_Task]] = {}
    for task in tasks:
        folders.setdefault(task.figures_folder, []).append(task)
    for folder, group in folders.items():
        if _SAFE_FOLDER.match(folder) and all(t.name in running for t in group):
            shutil.rmtree(figures_dir / folder, ignore_errors=True)


def _orphans(tasks: Sequence[_Task], plan: _Plan) -> list[Path]:
    """Exported outputs of notebooks or profile countries that no longer exist (a pruning run removes them)."""
    keep = {t.html_target for t in tasks} | {t.notebook_target for t in tasks}
    patterns = ["*.html", "profiles/*.html"] if plan.export_html else []
    patterns += [] if plan.inplace else ["executed/*.ipynb"]
    return [path for pattern in patterns for path in sorted(plan.output_dir.glob(pattern)) if path not in keep]


def _prune(tasks: Sequence[_Task], plan: _Plan, state: dict[str, str]) -> list[str]:
    """Remove exported outputs (and run records) of notebooks or profile countries that no longer exist."""
    removed = []
    for path in _orphans(tasks, plan):
        removed.append(paths.relative_to_root(path))
        path.unlink()
    for name in set(state) - {t.name for t in tasks}:
        del state[name]
    return removed


def default_jobs() -> int:
    """Parallel kernels: one per core this process may run on (each kernel is mostly one busy process)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return max(1, usable)


ProgressCallback = Callable[[Progress], None]


def _execute_all(todo: Sequence[_Task], jobs: int, record: Callable[[_Task, NotebookRun], None],
                 progress: ProgressCallback | None, fresh_kernels: bool = False) -> None:
    """Execute ``todo`` (``jobs`` at a time), calling ``record`` and ``progress`` as each one ends.

    Each process (the worker, or this one when there is one job) reuses one kernel for its tasks
    unless ``fresh_kernels`` (see ``kernel.KernelSession``).
    """
    notify = progress or (lambda _p: None)
    jobs = min(jobs, len(todo))
    parallel = jobs > 1
    pending = list(todo)
    notify(Progress(0, len(todo), None, tuple(t.name for t in pending[:jobs if parallel else 1])))
    if not todo:
        return
    cwd = todo[0].cwd
    if not parallel or any(t.cwd != cwd for t in todo):
        with kernel.KernelSession(cwd, fresh=fresh_kernels) as session:
            for done, task in enumerate(todo, start=1):
                run = _execute_task(task, session)
                record(task, run)
                pending.remove(task)
                notify(Progress(done, len(todo), run, tuple(t.name for t in pending[:1])))
        return
    import multiprocessing

    # fork: workers inherit the environment (project root, staging folders) without re-importing anything
    pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_start_worker, initargs=(cwd, fresh_kernels))
    try:
        by_name = {task.name: task for task in todo}
        for done, run in enumerate(pool.imap_unordered(_execute_in_worker, todo), start=1):
            task = by_name[run.name]
            record(task, run)
            pending.remove(task)
            # the pool starts tasks in submission order, so the running ones lead the pending list
            notify(Progress(done, len(todo), run, tuple(t.name for t in pending[:jobs])))
    except KeyboardInterrupt:
        # Stop at once: queued notebooks are dropped, running ones end with their worker (a kernel
        # notices that its parent is gone and exits).
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


#: the kernel of a worker process, reused for every task the worker gets
_WORKER_SESSION: kernel.KernelSession | None = None


def _start_worker(cwd: Path, fresh_kernels: bool) -> None:
    """A worker's set-up: its kernel session, shut down when the pool closes; interrupts left to the parent.

    Ctrl-C reaches the whole process group; only the parent acts on it (see ``_execute_all``), and
    its ``terminate`` ends a worker on the spot (the CLI turns SIGTERM into an exception, with a
    traceback per worker).
    """
    global _WORKER_SESSION
    from multiprocessing import util

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _leave_out_unused_imports()
    _WORKER_SESSION = kernel.KernelSession(cwd, fresh=fresh_kernels)
    # a pool worker ends with os._exit after its multiprocessing finalizers (atexit hooks do not run)
    util.Finalize(_WORKER_SESSION, _WORKER_SESSION.close, exitpriority=10)


#: Packages a worker never needs although what it imports would import them: jsonschema (under nbformat and
#: papermill) imports rfc3987_syntax when it is installed, which builds about 40 parsers on import (~1.4 CPU-s a
#: process) to check the "iri" string formats; nbformat validates without format checks and its schema has none.
_UNUSED_IN_WORKERS = ("rfc3987_syntax",)


def _leave_out_unused_imports() -> None:
    """Make ``import`` of :data:`_UNUSED_IN_WORKERS` fail in this worker (jsonschema then skips that format
    check, as without the package). Workers only execute and export notebooks and end with the run, so
    nothing else in the process can miss them; one already imported (by the parent) is kept."""
    for name in _UNUSED_IN_WORKERS:
        sys.modules.setdefault(name, None)  # None in sys.modules: the import raises ImportError


def _execute_in_worker(task: _Task) -> NotebookRun:
    assert _WORKER_SESSION is not None, "worker started without _start_worker"
    return _execute_task(task, _WORKER_SESSION)


def _published_reports(plan: _Plan) -> Path | None:
    """The reports folder whose gallery lists these charts (the main job's), else None: charts exported to
    scratch/ are never published, so they need no thumbnails."""
    reports = paths.reports_dir()
    return reports if plan.figures_dir.resolve() == (reports / "figures").resolve() else None


def _make_plan(inplace: bool, export_html: bool, profiles: bool, countries: Sequence[str] | None,
               notebooks_dir: Path | None, output_dir: Path | None, figures_dir: Path | None,
               processed_dir: Path | None = None) -> _Plan:
    return _Plan(inplace=inplace, export_html=export_html, profiles=profiles, countries=countries,
                 notebooks_dir=Path(notebooks_dir or paths.notebooks_dir()),
                 output_dir=Path(output_dir or paths.reports_dir() / "notebooks"),
                 figures_dir=Path(figures_dir or paths.figures_dir()), processed_dir=processed_dir)


def _select(plan: _Plan, names: Sequence[str] | None) -> list[Path]:
    selected = discover(plan.notebooks_dir, names)
    if not selected:
        raise NotebookError(f"{paths.relative_to_root(plan.notebooks_dir)}: no notebooks matching {NOTEBOOK_GLOB}")
    return selected


@dataclass(frozen=True)
class FullRunStatus:
    """What a full run (every notebook, no parameters, outputs pruned) would find to do."""

    current: bool  # nothing to execute, remove or rewrite
    executions: int
    figure_folders: list[str]


def full_run_status(countries: Sequence[str] | None = None, *, processed_dir: Path | None = None,
                    notebooks_dir: Path | None = None, output_dir: Path | None = None,
                    figures_dir: Path | None = None) -> FullRunStatus:
    """Whether ``run_notebooks(prune=True, countries=countries)`` with the same folders would have
    nothing to do, decided as that run decides it but without starting a kernel or writing anything
    (so that the main job need not start the step). ``processed_dir`` is the store the run would
    read. Raises what that run would raise before starting a kernel (no notebooks, a country that
    is not a focus country)."""
    plan = _make_plan(False, True, True, countries, notebooks_dir, output_dir, figures_dir, processed_dir)
    selected = _select(plan, None)
    tasks = _tasks(selected, parameters_for(selected, None), plan)
    state = _read_state(plan.state_path)
    current = (not _orphans(tasks, plan) and set(state) <= {t.name for t in tasks}
               and _state_unchanged(plan.state_path, state) and all(t.up_to_date(state) for t in tasks))
    return FullRunStatus(current=current, executions=len(tasks),
                         figure_folders=sorted({t.figures_folder for t in tasks}))


def run_notebooks(inplace: bool = False, export_html: bool = True, names: Sequence[str] | None = None,
                  parameters: Mapping[str, object] | None = None, *, force: bool = False,
                  profiles: bool = True, countries: Sequence[str] | None = None,
                  notebooks_dir: Path | None = None, output_dir: Path | None = None,
                  raise_on_error: bool = True, jobs: int | None = None, prune: bool = False,
                  figures_dir: Path | None = None, progress: ProgressCallback | None = None,
                  fresh_kernels: bool = False) -> RunResult:
    """Execute the notebooks and export them; see the package docstring.

    ``names`` selects notebooks (stem or number); ``parameters`` go to every selected notebook that
    declares them (papermill). The profile notebook additionally runs once per country in
    ``countries`` (default: the focus countries) unless ``profiles=False`` or a ``country`` parameter
    is given. ``jobs`` kernels run at once (default: ``default_jobs()``); results are reported in
    notebook order whatever the finishing order, and ``progress`` is called as each one ends.
    ``prune`` removes outputs of notebooks and countries that no longer exist (a full run).
    ``figures_dir`` (default ``paths.figures_dir()``) is where the notebooks export charts. With
    ``raise_on_error`` (the default, so that ``python -m analysis notebooks`` fails) a failure or a
    volatile output raises ``NotebookError`` naming them, after every notebook has been tried.
    Each worker reuses one kernel, reset between notebooks; ``fresh_kernels`` starts one per notebook.
    """
    plan = _make_plan(inplace, export_html, profiles, countries, notebooks_dir, output_dir, figures_dir)
    start = time.perf_counter()
    selected = _select(plan, names)
    given = parameters_for(selected, parameters)
    for source, params in given.items():
        if source.stem == PROFILE_NOTEBOOK and PROFILE_PARAMETER in params:
            check_countries(source, [params[PROFILE_PARAMETER]])
    tasks = _tasks(selected, given, plan)
    state_path = plan.state_path
    state = _read_state(state_path)
    result = RunResult(figure_folders=sorted({t.figures_folder for t in tasks}))
    if prune:
        result.removed = _prune(tasks, plan, state)
        _write_state(state_path, state)
    todo = [t for t in tasks if force or not t.up_to_date(state)]
    _clear_figures(tasks, todo, plan.figures_dir)
    runs: dict[str, NotebookRun] = {t.name: NotebookRun(name=t.name, status="skipped") for t in tasks}
    published = _published_reports(plan)

    def record(task: _Task, run: NotebookRun) -> None:
        runs[task.name] = run
        if run.status == "executed":
            state[task.name] = task.state_value()
            _write_state(state_path, state)
            if published is not None:  # while the other kernels run, not all at the end
                gallery.draw_thumbnails(published, task.figures_folder)

    _execute_all(todo, default_jobs() if jobs is None else max(1, int(jobs)), record, progress, fresh_kernels)
    result.runs = [runs[t.name] for t in tasks]
    result.seconds = time.perf_counter() - start
    if raise_on_error and not result.ok:
        raise NotebookError(result.problems())
    return result
