"""Executing the research notebooks (papermill) and exporting them as HTML without code.

``run_notebooks`` executes ``notebooks/NN_*.ipynb`` in order with the ``python3`` kernel, working
directory ``notebooks/``:

* executed copies go to ``reports/notebooks/executed/`` (or over the committed notebooks with
  ``inplace=True``: ``make notebooks`` after a data refresh, so the committed outputs match the store);
* HTML without code cells goes to ``reports/notebooks/<name>.html`` for readers who do not use Python;
* the country-profile notebook runs once per focus country with the papermill parameter
  ``country=<ISO3>`` and is exported to ``reports/notebooks/profiles/<ISO3>.html``.

Outputs are deterministic: papermill's and nbclient's timing metadata are removed, cell ids are made
stable, and every output is scanned for machine paths, object addresses and timestamps (reported as
issues). Every file is written atomically: a failing notebook leaves the last good outputs in place.

Two kernels run at once on a two-core machine (``jobs``); each writes only its own files, and the
run state is recorded by the parent process. Work is skipped when nothing it depends on changed: the store manifest, the notebook's sources (not
its outputs), the package code and the parameters are hashed into a key kept in
``reports/notebooks/run-state.json``; ``force=True`` re-executes everything.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.core import atomic, paths
from analysis.core.errors import AnalysisError, StoreError
from analysis.core.fingerprint import fingerprint
from analysis.store import api

if TYPE_CHECKING:  # imported where used: nbformat costs ~1 s to import (jsonschema), and the
    import nbformat  # notebooks import this module in every kernel for show()/latest_table()

KERNEL = "python3"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
PROFILE_NOTEBOOK = "07_country_profile"
PROFILE_PARAMETER = "country"
STATE_FILE = "run-state.json"

#: things that must never appear in a committed or exported output
VOLATILE_PATTERNS: dict[str, re.Pattern[str]] = {
    "absolute path": re.compile(r"(?<![\w.])/(?:work|root|tmp|home|Users|var/folders)/"),
    "memory address": re.compile(r"\b0x[0-9a-fA-F]{6,}\b"),
    "timestamp": re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"),
}


class NotebookError(AnalysisError):
    """One or more notebooks failed to execute or produced volatile output."""


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

    @property
    def failed(self) -> list[NotebookRun]:
        return [r for r in self.runs if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed and not any(r.issues for r in self.runs)

    def summary(self) -> str:
        counts = {s: sum(r.status == s for r in self.runs) for s in ("executed", "skipped", "failed")}
        lines = [f"notebooks: {counts['executed']} executed, {counts['skipped']} skipped (unchanged), "
                 f"{counts['failed']} failed in {self.seconds:.1f} s"]
        for r in self.runs:
            timing = f" ({r.seconds:.1f} s)" if r.status == "executed" else ""
            lines.append(f"  {r.status:8s} {r.name}{timing}")
            if r.error:
                lines.append(f"           error: {r.error}")
            for issue in r.issues:
                lines.append(f"           issue: {issue}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------- hashing


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def notebook_source_hash(path: Path) -> str:
    """Hash of what the notebook *does*: cell types, sources and tags, and the kernel; not its outputs.

    Executing a notebook in place changes its outputs but not this hash, so an in-place run is
    skipped the next time unless something it depends on changed.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = [(c.cell_type, c.source, sorted(c.get("metadata", {}).get("tags", []))) for c in nb.cells]
    kernel = nb.metadata.get("kernelspec", {}).get("name", "")
    return _sha256(json.dumps([kernel, cells], ensure_ascii=False).encode("utf-8"))


def store_hash(processed_dir: Path | None = None) -> str:
    """The store's fingerprint (its manifest records input and catalogue hashes); ``no-store`` without one."""
    try:
        return api.store_fingerprint(processed_dir)
    except StoreError:
        return "no-store"


def run_key(notebook: Path, parameters: Mapping[str, object] | None, store: str) -> str:
    """The execution's fingerprint: notebook sources, store, package code and parameters."""
    return fingerprint({"notebook": notebook_source_hash(notebook), "store": store}, dict(parameters or {}))


def _read_state(path: Path) -> dict[str, str]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(path: Path, state: Mapping[str, str]) -> None:
    atomic.write_text(path, json.dumps(dict(sorted(state.items())), indent=1) + "\n")


# ------------------------------------------------------------------------------ determinism


_VOLATILE_CELL_METADATA = ("papermill", "execution", "collapsed", "scrolled")


def clean_executed(nb: nbformat.NotebookNode, keep_parameters: bool = False) -> nbformat.NotebookNode:
    """Remove what changes from run to run: timings, papermill run records, random cell ids.

    Keeps outputs and execution counts (their order is the execution order). The papermill
    parameters are kept only for parameterised runs (``keep_parameters``), where they say which
    country a profile is for.
    """
    nb = copy.deepcopy(nb)
    params = nb.metadata.get("papermill", {}).get("parameters", {})
    nb.metadata.pop("papermill", None)
    if keep_parameters and params:
        nb.metadata["papermill"] = {"parameters": dict(sorted(params.items()))}
    nb.metadata.pop("widgets", None)
    seen: set[str] = set()
    for i, cell in enumerate(nb.cells):
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        tags = cell.metadata.get("tags")
        if tags is not None and not tags:
            cell.metadata.pop("tags")
        if "injected-parameters" in (tags or []):
            cell.id = "injected-parameters"
        elif not cell.get("id") or cell.id in seen:
            cell.id = f"cell-{i:02d}"
        seen.add(cell.id)
        for output in cell.get("outputs", []):
            output.get("metadata", {}).pop("execution", None)
    return nb


def _output_texts(nb: nbformat.NotebookNode) -> Iterable[tuple[int, str]]:
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if "text" in output:
                yield i, str(output["text"])
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    yield i, value if isinstance(value, str) else json.dumps(value)
            if "traceback" in output:
                yield i, "\n".join(output["traceback"])


def find_volatile(nb: nbformat.NotebookNode) -> list[str]:
    """Outputs that would make the notebook machine- or time-dependent (paths, addresses, timestamps)."""
    issues = []
    for i, text in _output_texts(nb):
        for what, pattern in VOLATILE_PATTERNS.items():
            match = pattern.search(text)
            if match:
                issues.append(f"cell {i}: {what} in output ({match.group(0)!r})")
    return issues


# ----------------------------------------------------------------------------- execution/export


def _execute(source: Path, parameters: Mapping[str, object] | None, cwd: Path) -> nbformat.NotebookNode:
    import papermill

    return papermill.execute_notebook(
        str(source), None, parameters=dict(parameters or {}), kernel_name=KERNEL, cwd=str(cwd),
        progress_bar=False, log_output=False, request_save_on_cell_execute=False,
    )


def to_html(nb: nbformat.NotebookNode, title: str) -> str:
    """The notebook as a standalone HTML page with outputs and markdown only (no code cells)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return html


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first markdown heading of the notebook, else its file name."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def _error_text(exc: BaseException) -> str:
    name = getattr(exc, "ename", type(exc).__name__)
    value = getattr(exc, "evalue", str(exc))
    cell = getattr(exc, "exec_count", None)
    where = f" in cell [{cell}]" if cell is not None else ""
    return f"{name}{where}: {value}".strip()


def discover(notebooks_dir: Path, names: Sequence[str] | None = None) -> list[Path]:
    """``NN_*.ipynb`` in order; ``names`` selects by stem (``01_older_persons``) or number (``01``)."""
    found = sorted(Path(notebooks_dir).glob(NOTEBOOK_GLOB))
    if names is None:
        return found
    wanted = [str(n).removesuffix(".ipynb") for n in names]
    chosen = [p for p in found if p.stem in wanted or p.stem[:2] in wanted]
    unknown = [n for n in wanted if not any(p.stem == n or p.stem[:2] == n for p in found)]
    if unknown:
        raise NotebookError(f"{paths.relative_to_root(Path(notebooks_dir))}: no notebook named {unknown}")
    return chosen


def focus_countries() -> list[str]:
    """The focus countries (the 14) from the country table in the store."""
    return [str(c) for c in api.members("FOCUS")]


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


def _execute_task(task: _Task) -> NotebookRun:
    """Execute one task and write its outputs atomically (runs in a worker process when jobs > 1)."""
    start = time.perf_counter()
    try:
        executed = _execute(task.source, task.parameters, task.cwd)
    except Exception as exc:  # noqa: BLE001 - any kernel/cell failure is reported, not raised mid-suite
        return NotebookRun(name=task.name, status="failed", seconds=time.perf_counter() - start,
                           error=_error_text(exc))
    executed = clean_executed(executed, keep_parameters=bool(task.parameters))
    run = NotebookRun(name=task.name, status="executed", issues=find_volatile(executed))
    if task.notebook_target is not None:
        import nbformat

        atomic.write_text(task.notebook_target, nbformat.writes(executed) + "\n")
        run.outputs.append(paths.relative_to_root(task.notebook_target))
    if task.html_target is not None:
        atomic.write_text(task.html_target, to_html(executed, _title(executed, task.source.stem) + task.title_suffix))
        run.outputs.append(paths.relative_to_root(task.html_target))
    run.seconds = time.perf_counter() - start
    return run


def _tasks(selected: Sequence[Path], inplace: bool, export_html: bool, parameters: Mapping[str, object] | None,
           profiles: bool, countries: Sequence[str] | None, notebooks_dir: Path, output_dir: Path) -> list[_Task]:
    store = store_hash()
    mode = "inplace" if inplace else "copy"
    tasks = []
    for source in selected:
        tasks.append(_Task(
            name=source.stem, source=source, parameters=parameters,
            notebook_target=source if inplace else output_dir / "executed" / source.name,
            html_target=output_dir / f"{source.stem}.html" if export_html else None, cwd=notebooks_dir,
            key=run_key(source, parameters, store) + f"|{mode}|{export_html}"))
        if source.stem == PROFILE_NOTEBOOK and profiles and export_html:
            for iso3 in (countries if countries is not None else focus_countries()):
                params = {**dict(parameters or {}), PROFILE_PARAMETER: iso3}
                tasks.append(_Task(
                    name=f"{source.stem}[{iso3}]", source=source, parameters=params, notebook_target=None,
                    html_target=output_dir / "profiles" / f"{iso3}.html", cwd=notebooks_dir,
                    key=run_key(source, params, store), title_suffix=f": {iso3}"))
    return tasks


def default_jobs() -> int:
    """Parallel kernels: two where there are two cores (each kernel is mostly one busy process)."""
    return max(1, min(2, os.cpu_count() or 1))


def run_notebooks(inplace: bool = False, export_html: bool = True, names: Sequence[str] | None = None,
                  parameters: Mapping[str, object] | None = None, *, force: bool = False,
                  profiles: bool = True, countries: Sequence[str] | None = None,
                  notebooks_dir: Path | None = None, output_dir: Path | None = None,
                  raise_on_error: bool = True, jobs: int | None = None) -> RunResult:
    """Execute the notebooks and export them; see the module docstring.

    ``names`` selects notebooks (stem or number); ``parameters`` are passed to every selected notebook
    through papermill. The profile notebook additionally runs once per country in ``countries``
    (default: the focus countries) unless ``profiles=False``. ``jobs`` kernels run at once (default:
    ``default_jobs()``); results are reported in notebook order whatever the finishing order. With
    ``raise_on_error`` (the default, so that ``python -m analysis notebooks`` exits non-zero) a failure
    or a volatile output raises ``NotebookError`` carrying the summary, after every notebook has been tried.
    """
    notebooks_dir = Path(notebooks_dir or paths.notebooks_dir())
    output_dir = Path(output_dir or paths.reports_dir() / "notebooks")
    state_path = output_dir / STATE_FILE
    state = _read_state(state_path)
    result = RunResult()
    start = time.perf_counter()
    selected = discover(notebooks_dir, names)
    if not selected:
        raise NotebookError(f"{paths.relative_to_root(notebooks_dir)}: no notebooks matching {NOTEBOOK_GLOB}")
    tasks = _tasks(selected, inplace, export_html, parameters, profiles, countries, notebooks_dir, output_dir)
    todo = [t for t in tasks if force or not t.up_to_date(state)]
    runs: dict[str, NotebookRun] = {t.name: NotebookRun(name=t.name, status="skipped") for t in tasks}
    jobs = default_jobs() if jobs is None else max(1, int(jobs))

    def record(task: _Task, run: NotebookRun) -> None:
        runs[task.name] = run
        if run.status == "executed":
            state[task.name] = task.state_value()
            _write_state(state_path, state)

    if jobs == 1 or len(todo) <= 1:
        for task in todo:
            record(task, _execute_task(task))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork: workers inherit the environment (project root, mirror) without re-importing anything
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = {task.name: (task, pool.submit(_execute_task, task)) for task in todo}
            for task, future in futures.values():
                record(task, future.result())
    result.runs = [runs[t.name] for t in tasks]
    result.seconds = time.perf_counter() - start
    if raise_on_error and not result.ok:
        raise NotebookError(result.summary())
    return result
