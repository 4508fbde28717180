"""What runs inside a measured child process: ``python benchmarks/child.py <task> [json options]``.

The project root and the code come from the environment (``ANALYSIS_PROJECT_ROOT``, ``PYTHONPATH``),
as they do for ``python -m analysis``. Each task imports what it needs *before* starting its clock,
times only the work itself, and prints one line ``BENCH_RESULT <json>`` that the harness reads.
Kept free of imports from the ``benchmarks`` package so it runs from any working directory.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path

RESULT_PREFIX = "BENCH_RESULT "


def load_catalogue(*args, **kwargs):
    """The package's catalogue reader (imported late: the child sets up sys.path first)."""
    from analysis.config.catalogue import load_catalogue as load

    return load(*args, **kwargs)


def _emit(result: dict) -> None:
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)


def _hwm_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    """User + system CPU seconds of this process and of the children it has waited for so far (the
    report's and the notebook runner's worker processes, notebook kernels): a difference of two calls
    is the CPU a piece of work cost on every core."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# ----------------------------------------------------------------------------- build


class _Phases:
    """Wraps named functions of the build so that each call adds to its phase's time.

    The build is not changed: module attributes are replaced in this process only. A name the
    build no longer has is skipped (the phase then reads as part of "other").
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.hwm_mb: dict[str, float] = {}
        self.parent: dict[str, str | None] = {}

    def wrap(self, module, attr: str, phase: str, parent: str | None = None) -> None:
        func = getattr(module, attr, None)
        if func is None:
            return
        self.parent[phase] = parent

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - start
                self.hwm_mb[phase] = _hwm_mb()

        setattr(module, attr, timed)

    def table(self, total: float) -> list[dict]:
        rows = []
        top = [p for p, parent in self.parent.items() if parent is None and p in self.seconds]
        for phase in top:
            rows.append({"phase": phase, "seconds": self.seconds[phase], "hwm_mb": self.hwm_mb[phase], "level": 0})
            children = [p for p, parent in self.parent.items() if parent == phase and p in self.seconds]
            for child in children:
                rows.append({"phase": child, "seconds": self.seconds[child], "hwm_mb": self.hwm_mb[child],
                             "level": 1})
            if children:
                rest = self.seconds[phase] - sum(self.seconds[c] for c in children)
                rows.append({"phase": f"{phase}: other", "seconds": rest, "hwm_mb": None, "level": 1})
        rows.append({"phase": "other", "seconds": total - sum(self.seconds[p] for p in top), "hwm_mb": None,
                     "level": 0})
        return rows


def task_build(options: dict) -> dict:
    from analysis.pipeline import build

    phases = _Phases()
    if options.get("phases", True):
        phases.wrap(build, "load_registry", "read registry")
        phases.wrap(build, "load_catalogue", "read catalogue")
        phases.wrap(build, "_verify_inputs", "sha256 of inputs")
        phases.wrap(build, "_parse_all", "parse files")
        phases.wrap(build, "assemble", "assemble")
        phases.wrap(build, "build_countries", "countries table", "assemble")
        phases.wrap(build, "_select", "select series", "assemble")
        phases.wrap(build, "_map_geo", "map codes to ISO3", "assemble")
        phases.wrap(build, "derive", "derive", "assemble")
        phases.wrap(build, "validate_indicator_chunks", "validate (pandera)", "assemble")
        phases.wrap(build, "compute_latest", "latest values", "assemble")
        phases.wrap(build, "compute_aggregates", "group aggregates", "assemble")
        phases.wrap(build, "_commit", "write parquet + manifest")
    start_hwm = _hwm_mb()
    start = time.perf_counter()
    report = build.build_store(force=bool(options.get("force", True)), progress=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "skipped": report.skipped, "rows": report.rows, "indicators": report.indicators,
            "economies": report.economies, "files_read": report.files_read, "phases": phases.table(seconds),
            "hwm_before_mb": start_hwm, "hwm_mb": _hwm_mb()}


# ----------------------------------------------------------------------------- floor


def floor_files() -> list[tuple[Path, int]]:
    """(path, preamble lines) of every raw file the build reads, plus the references table."""
    from analysis.config.registry import load_registry
    from analysis.core import paths
    from analysis.pipeline import build

    registry = load_registry()
    catalogue = load_catalogue(registry=registry)
    needed = build._needed_files(catalogue, registry) if hasattr(build, "_needed_files") else list(registry.files)
    files = [(sf.raw_path(), 4 if sf.parser == "worldbank_api" else 0) for sf in needed]
    members = paths.raw_dir() / getattr(build, "MEMBERS_FILE", Path("references") / "asean_members.csv")
    if members.is_file():
        files.append((members, 0))
    return files


def task_floor(options: dict) -> dict:
    """Parse every file the build reads with pyarrow.csv alone: no validation, no reshaping, no writes."""
    import pyarrow.csv as pacsv

    files = floor_files()
    start = time.perf_counter()
    rows = 0
    for path, skip in files:
        table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(skip_rows=skip))
        rows += table.num_rows
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "files": len(files), "rows": rows,
            "bytes": sum(p.stat().st_size for p, _ in files), "hwm_mb": _hwm_mb()}


# ----------------------------------------------------------------------------- panel


def panel_indicators(count: int) -> list[str]:
    """The first ``count`` catalogue indicators that have rows in the store (catalogue order)."""
    from analysis.store.reader import read_manifest

    empty = set(read_manifest().get("summary", {}).get("empty_indicators", []))
    return [i for i in load_catalogue().ids if i not in empty][:count]


def task_panel(options: dict) -> dict:
    """Warm figure: the same panel call repeated in one process after a first (cold) call."""
    t0 = time.perf_counter()
    from analysis.store import api
    import_seconds = time.perf_counter() - t0
    ids = panel_indicators(int(options.get("indicators", 10)))
    countries = options.get("countries", "FOCUS")
    t1 = time.perf_counter()
    first = api.panel(ids, countries)
    first_seconds = time.perf_counter() - t1
    n = int(options.get("n", 20))
    panel_samples, load_samples = [], []
    for _ in range(n):
        t = time.perf_counter()
        wide = api.panel(ids, countries)
        panel_samples.append(time.perf_counter() - t)
    api.load(ids, countries)
    for _ in range(n):
        t = time.perf_counter()
        long = api.load(ids, countries)
        load_samples.append(time.perf_counter() - t)
    return {"import_seconds": import_seconds, "first_seconds": first_seconds, "panel_samples": panel_samples,
            "load_samples": load_samples, "panel_median": statistics.median(panel_samples),
            "load_median": statistics.median(load_samples), "indicators": ids,
            "countries": int(wide.index.get_level_values(0).nunique()), "panel_shape": list(first.shape),
            "load_rows": len(long)}


# ----------------------------------------------------------------------------- report, notebooks, fetch


def task_report(options: dict) -> dict:
    from analysis.core import paths
    from analysis.presentation.report import build_reports

    cpu = _cpu()
    start = time.perf_counter()
    result = build_reports(force=True)
    seconds = time.perf_counter() - start
    cpu = _cpu() - cpu
    figures = paths.reports_dir() / "figures"
    by_ext: dict[str, int] = {}
    for f in figures.rglob("*.*") if figures.is_dir() else []:
        by_ext[f.suffix.lstrip(".")] = by_ext.get(f.suffix.lstrip("."), 0) + 1
    profiles = paths.reports_dir() / "profiles"
    return {"seconds": seconds, "cpu_seconds": cpu, "summary": result.summary(), "figures_by_type": by_ext,
            "profiles": len(list(profiles.glob("*.pdf"))) if profiles.is_dir() else 0, "hwm_mb": _hwm_mb()}


def _run_summary(result) -> dict:
    statuses: dict[str, int] = {}
    for run in result.runs:
        statuses[run.status] = statuses.get(run.status, 0) + 1
    return {"executions": len(result.runs), "statuses": statuses,
            "failed": [f"{r.name}: {r.error}" for r in result.failed][:5]}


def task_notebooks(options: dict) -> dict:
    from analysis.presentation.notebook_runner import run_notebooks

    cpu = _cpu()
    start = time.perf_counter()
    result = run_notebooks(force=True, raise_on_error=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "cpu_seconds": _cpu() - cpu, **_run_summary(result),
            "per_notebook": {r.name: r.seconds for r in result.runs}}


FLOOR_CELL = "import analysis\nimport analysis.store.api  # the package the notebooks use"


def make_floor_notebooks(directory: Path, count: int) -> list[Path]:
    """``count`` notebooks that only start a kernel and import the package (the suite's floor)."""
    import nbformat

    directory.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(count):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_markdown_cell(f"# Floor notebook {i}", id="title"),
                    nbformat.v4.new_code_cell(FLOOR_CELL, id="import")]
        path = directory / f"{i:02d}_floor.ipynb"
        nbformat.write(nb, path)
        made.append(path)
    return made


def task_notebooks_floor(options: dict) -> dict:
    from analysis.presentation.notebook_runner import run_notebooks

    directory = Path(options["dir"])
    make_floor_notebooks(directory / "notebooks", int(options["count"]))
    cpu = _cpu()
    start = time.perf_counter()
    # The floor is a kernel start per execution: the runner's kernel reuse is part of what the suite
    # is measured on, not of its floor.
    result = run_notebooks(force=True, profiles=False, raise_on_error=False, notebooks_dir=directory / "notebooks",
                           output_dir=directory / "out", fresh_kernels=True)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "cpu_seconds": _cpu() - cpu, **_run_summary(result)}


# ----------------------------------------------------------------------------- one published chart


def task_charts(options: dict) -> dict:
    """What one published chart costs: each headline chart drawn once and saved in every format.

    The report's own public steps, one chart at a time: ``make_context`` of the store, ``draw`` of
    each spec of ``HEADLINE_CHARTS``, ``charts.save`` (PNG, SVG, PDF, CSV, JSON with its layout check)
    into a temporary folder. CPU time (``time.process_time``: this process, every thread) is taken
    per chart, split into drawing and saving. A spec whose data the store lacks is skipped with its
    reason, as the report skips it; one that raises anything else is listed as failed.
    """
    import tempfile

    from analysis.presentation import charts
    from analysis.presentation.report.context import Skip, make_context
    from analysis.presentation.report.specs import HEADLINE_CHARTS, draw

    try:
        from analysis.presentation.gallery import PACK_SUBDIR as subdir
    except ImportError:  # the pack folder's name is only cosmetic here
        subdir = "pack"
    per_chart, skipped, failed = [], [], []
    wall = time.perf_counter()
    start = time.process_time()
    ctx = make_context(None)
    context_cpu = time.process_time() - start
    with tempfile.TemporaryDirectory(prefix="bench-charts-") as tmp:
        for k, spec in enumerate(HEADLINE_CHARTS, start=1):
            t0 = time.process_time()
            try:
                chart = draw(spec, ctx)
            except (Skip, charts.ChartDataError) as exc:
                skipped.append({"name": spec["name"], "reason": str(exc)})
                continue
            except Exception as exc:  # noqa: BLE001 - reported as a failed chart; the others are still measured
                first_line = (str(exc).splitlines() or [""])[0]
                failed.append({"name": spec["name"], "error": f"{type(exc).__name__}: {first_line}"[:300]})
                continue
            t1 = time.process_time()
            written = charts.save(chart, f"{k:02d}-{spec['name']}", subdir, root=Path(tmp))
            t2 = time.process_time()
            chart.close()
            per_chart.append({"name": spec["name"], "kind": spec["kind"], "cpu": t2 - t0, "draw_cpu": t1 - t0,
                              "save_cpu": t2 - t1, "formats": sorted(written)})
    return {"charts": per_chart, "skipped": skipped, "failed": failed, "specs": len(HEADLINE_CHARTS),
            "context_cpu": context_cpu,
            "cpu_seconds": time.process_time() - start, "seconds": time.perf_counter() - wall, "hwm_mb": _hwm_mb()}


def task_fetch(options: dict) -> dict:
    from analysis.pipeline.fetch import fetch_all

    start = time.perf_counter()
    report = fetch_all(progress=False, download=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "total": report.total, "already_valid": report.already_valid,
            "copied": len(report.copied), "downloaded": len(report.downloaded), "summary": report.summary()}


TASKS = {
    "build": task_build, "floor": task_floor, "panel": task_panel, "report": task_report, "charts": task_charts,
    "notebooks": task_notebooks, "notebooks_floor": task_notebooks_floor, "fetch": task_fetch,
}


def main(argv: list[str]) -> int:
    task = TASKS[argv[0]]
    options = json.loads(argv[1]) if len(argv) > 1 else {}
    _emit(task(options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
