"""The notebook runner on tiny synthetic notebooks in a temporary directory (real kernel, no store)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from analysis.presentation import notebook_runner as nbrun
from analysis.presentation.notebook_runner import (
    NotebookError,
    Progress,
    clean_executed,
    find_volatile,
    merge_streams,
    run_notebooks,
)
from analysis.presentation.notebook_runner import runner as runner_module

# Synthetic focus countries for the profile notebook (the runner asks the store for the real ones).
SYNTHETIC_FOCUS = ["AAA", "BBB"]

SECRET_CODE = "SYNTHETIC_CODE_MARKER = 40 + 2"


def make_synthetic_notebook(path: Path, body: str = "print(f'answer {SYNTHETIC_CODE_MARKER}')",
                            params: str = "country = 'AAA'") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Synthetic notebook\n\nQuestions: none.", id="intro"),
        nbformat.v4.new_code_cell(params, id="params", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(SECRET_CODE + "\n" + body + "\nprint('country', country)", id="body"),
        nbformat.v4.new_markdown_cell("## What the data cannot say\n\nAnything.", id="limits"),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture()
def project(tmp_path, monkeypatch):
    """A throwaway project root so the runner's state and hashes never touch the real one."""
    monkeypatch.setenv("ANALYSIS_PROJECT_ROOT", str(tmp_path))
    for env in ("ANALYSIS_PROCESSED_DIR", "ANALYSIS_REPORTS_DIR", "ANALYSIS_FIGURES_DIR"):
        monkeypatch.delenv(env, raising=False)  # e.g. `make test` sends notebook charts elsewhere
    (tmp_path / "data" / "processed").mkdir(parents=True)
    (tmp_path / "data" / "processed" / "manifest.json").write_text('{"synthetic": 1}\n')
    make_synthetic_notebook(tmp_path / "notebooks" / "01_synthetic.ipynb")
    return tmp_path


def _stdout(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_executes_copy_and_exports_html_without_code_or_volatile_metadata(project):
    result = run_notebooks(names=["01"], profiles=False)
    assert [r.status for r in result.runs] == ["executed"]
    executed = nbformat.read(project / "reports" / "notebooks" / "executed" / "01_synthetic.ipynb", as_version=4)
    assert "answer 42" in _stdout(executed)
    # the committed notebook is untouched when not in place
    source = nbformat.read(project / "notebooks" / "01_synthetic.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in source.cells if c.cell_type == "code")
    html = (project / "reports" / "notebooks" / "01_synthetic.html").read_text()
    assert "answer 42" in html
    assert "SYNTHETIC_CODE_MARKER" not in html  # code cells are excluded
    assert "What the data cannot say" in html
    assert "<title>Synthetic notebook</title>" in html
    # no volatile metadata in the executed copy
    text = (project / "reports" / "notebooks" / "executed" / "01_synthetic.ipynb").read_text()
    doc = json.loads(text)
    assert "papermill" not in doc["metadata"]
    for cell in doc["cells"]:
        assert "papermill" not in cell["metadata"] and "execution" not in cell["metadata"]
    assert str(project) not in text
    assert [c["execution_count"] for c in doc["cells"] if c["cell_type"] == "code"] == [1, 2]


def test_skips_when_unchanged_and_reruns_when_inputs_change(project):
    first = run_notebooks(names=["01"], profiles=False)
    assert first.runs[0].status == "executed"
    assert run_notebooks(names=["01"], profiles=False).runs[0].status == "skipped"
    # a new store manifest means new data: run again
    (project / "data" / "processed" / "manifest.json").write_text('{"synthetic": 2}\n')
    assert run_notebooks(names=["01"], profiles=False).runs[0].status == "executed"
    # changed notebook source: run again
    make_synthetic_notebook(project / "notebooks" / "01_synthetic.ipynb", body="print('changed')")
    assert run_notebooks(names=["01"], profiles=False).runs[0].status == "executed"
    assert run_notebooks(names=["01"], profiles=False, force=True).runs[0].status == "executed"
    # a deleted output is produced again even though nothing else changed
    (project / "reports" / "notebooks" / "01_synthetic.html").unlink()
    assert run_notebooks(names=["01"], profiles=False).runs[0].status == "executed"


def test_inplace_writes_outputs_into_the_notebook_and_then_skips(project):
    nb_path = project / "notebooks" / "01_synthetic.ipynb"
    run_notebooks(inplace=True, names=["01"], profiles=False, export_html=False)
    assert "answer 42" in _stdout(nbformat.read(nb_path, as_version=4))
    assert not (project / "reports").exists()  # an in-place run publishes nothing
    # executing in place changes outputs, not sources: nothing to redo
    assert run_notebooks(inplace=True, names=["01"], profiles=False, export_html=False).runs[0].status == "skipped"
    first = nb_path.read_bytes()
    # but a notebook whose outputs were cleared (same sources) is executed again, to the same bytes
    make_synthetic_notebook(nb_path)
    assert run_notebooks(inplace=True, names=["01"], profiles=False, export_html=False).runs[0].status == "executed"
    assert nb_path.read_bytes() == first


@pytest.fixture()
def synthetic_focus(monkeypatch):
    monkeypatch.setattr(runner_module, "focus_countries", lambda processed_dir=None: list(SYNTHETIC_FOCUS))


def test_profile_notebook_runs_per_country_with_parameters(project, synthetic_focus):
    make_synthetic_notebook(project / "notebooks" / f"{nbrun.PROFILE_NOTEBOOK}.ipynb")
    result = run_notebooks(names=[nbrun.PROFILE_NOTEBOOK], countries=["AAA", "BBB"])
    assert [r.name for r in result.runs] == [nbrun.PROFILE_NOTEBOOK, f"{nbrun.PROFILE_NOTEBOOK}[AAA]",
                                             f"{nbrun.PROFILE_NOTEBOOK}[BBB]"]
    profile = (project / "reports" / "notebooks" / "profiles" / "BBB.html").read_text()
    assert "country BBB" in profile and "country AAA" not in profile
    # a full run for fewer countries (`--countries AAA`) removes the pages of the others, redoing nothing
    again = run_notebooks(names=[nbrun.PROFILE_NOTEBOOK], countries=["AAA"], prune=True)
    assert [r.status for r in again.runs] == ["skipped", "skipped"]
    assert again.removed == ["reports/notebooks/profiles/BBB.html"]
    assert sorted(p.name for p in (project / "reports" / "notebooks" / "profiles").iterdir()) == ["AAA.html"]


def test_failure_keeps_last_good_outputs_and_names_only_the_failed_notebook(project):
    run_notebooks(names=["01"], profiles=False)
    html_path = project / "reports" / "notebooks" / "01_synthetic.html"
    good = html_path.read_bytes()
    make_synthetic_notebook(project / "notebooks" / "02_broken.ipynb", body="raise ValueError('synthetic failure')")
    with pytest.raises(NotebookError, match="synthetic failure") as info:
        run_notebooks(profiles=False)  # 01 is up to date, 02 fails
    assert "02_broken" in str(info.value) and "01_synthetic" not in str(info.value)
    make_synthetic_notebook(project / "notebooks" / "01_synthetic.ipynb", body="raise ValueError('synthetic failure')")
    result = run_notebooks(names=["01"], profiles=False, raise_on_error=False)
    assert result.runs[0].status == "failed" and not result.ok
    assert "failed" in result.summary()
    assert html_path.read_bytes() == good  # the last good output stays
    leftovers = [p.name for p in html_path.parent.rglob("*.tmp")]
    assert leftovers == []


def test_unknown_notebook_name(project):
    with pytest.raises(NotebookError, match="no notebook named"):
        run_notebooks(names=["99"])


def test_find_volatile_flags_paths_addresses_timestamps():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="saved /tmp/x.png\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "<obj at 0x7f3a2b1c9d00>"}),
        nbformat.v4.new_output("stream", name="stdout", text="run at 2025-01-02 10:11\n"),
    ])]
    kinds = " ".join(find_volatile(nb))
    assert "absolute path" in kinds and "memory address" in kinds and "timestamp" in kinds
    clean = nbformat.v4.new_notebook()
    clean.cells = [nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="reports/figures/a.png 2025 12.5\n")])]
    assert find_volatile(clean) == []


def test_clean_executed_strips_timing_and_keeps_counts():
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"start_time": "t", "parameters": {}}
    cell = nbformat.v4.new_code_cell("1", execution_count=3, id="c1")
    cell.metadata["papermill"] = {"duration": 1.0}
    cell.metadata["execution"] = {"iopub.status.busy": "t"}
    nb.cells = [cell]
    out = clean_executed(nb)
    assert "papermill" not in out.metadata
    assert out.cells[0].metadata == {}
    assert out.cells[0].execution_count == 3


# ------------------------------------------------------------------------------ determinism and noise

CHUNKY_BODY = """import sys, time
for i in range(6):
    print('line', i, flush=True)
    time.sleep(0.05)
print('warned', file=sys.stderr, flush=True)
print('after warning', flush=True)"""


def test_merge_streams_joins_consecutive_chunks_of_one_stream_only():
    out = nbformat.v4.new_output
    merged = merge_streams([
        out("stream", name="stdout", text="a\n"), out("stream", name="stdout", text=["b\n", "c\n"]),
        out("stream", name="stderr", text="warn\n"), out("stream", name="stdout", text="d\n"),
        out("execute_result", data={"text/plain": "1"}), out("stream", name="stdout", text="e\n"),
    ])
    assert [(o.output_type, o.get("name"), o.get("text")) for o in merged] == [
        ("stream", "stdout", "a\nb\nc\n"), ("stream", "stderr", "warn\n"), ("stream", "stdout", "d\n"),
        ("execute_result", None, None), ("stream", "stdout", "e\n")]


def test_execution_twice_gives_byte_identical_notebook_and_html_and_no_kernel_noise(project, capfd):
    make_synthetic_notebook(project / "notebooks" / "01_synthetic.ipynb", body=CHUNKY_BODY)
    executed = project / "reports" / "notebooks" / "executed" / "01_synthetic.ipynb"
    html = project / "reports" / "notebooks" / "01_synthetic.html"
    run_notebooks(names=["01"], profiles=False)
    first = executed.read_bytes(), html.read_bytes()
    run_notebooks(names=["01"], profiles=False, force=True)
    assert (executed.read_bytes(), html.read_bytes()) == first
    body = nbformat.read(executed, as_version=4).cells[2]
    assert [o.get("name") for o in body.outputs] == ["stdout", "stderr", "stdout"]
    assert body.outputs[0].text.count("line") == 6
    # kernels write their logs to our stderr: a successful run leaves nothing there
    captured = capfd.readouterr()
    noise = captured.out + captured.err
    assert "without encryption" not in noise
    assert "KeyboardInterrupt" not in noise
    assert "ERROR" not in noise


# ------------------------------------------------------------------------------ parameters checked first


@pytest.fixture()
def no_kernel(monkeypatch):
    """Fails the test if a kernel would be started."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("a kernel was started before the parameters were checked")
    monkeypatch.setattr(runner_module.kernel, "execute", refuse)


def test_unknown_parameter_is_refused_before_any_kernel_starts(project, no_kernel):
    with pytest.raises(NotebookError, match=r"parameter 'contry'.*declared: NOTEBOOK, country"):
        make_synthetic_notebook(project / "notebooks" / "01_synthetic.ipynb",
                                params="NOTEBOOK = '01_synthetic'\ncountry = 'AAA'")
        run_notebooks(names=["01"], profiles=False, parameters={"contry": "AAA"})


def test_profile_country_must_be_a_focus_country(project, synthetic_focus, no_kernel):
    make_synthetic_notebook(project / "notebooks" / f"{nbrun.PROFILE_NOTEBOOK}.ipynb")
    with pytest.raises(NotebookError, match="country must be one of AAA, BBB") as info:
        run_notebooks(names=[nbrun.PROFILE_NOTEBOOK], parameters={"country": "IND"})
    assert f"notebooks/{nbrun.PROFILE_NOTEBOOK}.ipynb" in str(info.value)
    with pytest.raises(NotebookError, match="country='XXX'"):
        run_notebooks(names=[nbrun.PROFILE_NOTEBOOK], countries=["AAA", "XXX"])


def test_profile_parameter_runs_that_country_only(project, synthetic_focus):
    make_synthetic_notebook(project / "notebooks" / f"{nbrun.PROFILE_NOTEBOOK}.ipynb")
    result = run_notebooks(names=[nbrun.PROFILE_NOTEBOOK], parameters={"country": "BBB"})
    assert [r.name for r in result.runs] == [nbrun.PROFILE_NOTEBOOK]
    assert "country BBB" in (project / "reports" / "notebooks" / f"{nbrun.PROFILE_NOTEBOOK}.html").read_text()


def test_parameters_are_injected_only_into_notebooks_that_declare_them(project):
    make_synthetic_notebook(project / "notebooks" / "02_other.ipynb", params="NOTEBOOK = '02_other'\nx = 1",
                            body="print('x', x)\ncountry = 'none'")
    run_notebooks(names=["01", "02"], profiles=False, parameters={"country": "ZZZ"}, export_html=False)
    executed = nbformat.read(project / "reports" / "notebooks" / "executed" / "01_synthetic.ipynb", as_version=4)
    assert "country ZZZ" in _stdout(executed)
    assert executed.metadata["papermill"] == {"parameters": {"country": "ZZZ"}}
    assert [c.id for c in executed.cells][:3] == ["intro", "params", "injected-parameters"]
    other = nbformat.read(project / "reports" / "notebooks" / "executed" / "02_other.ipynb", as_version=4)
    assert "papermill" not in other.metadata  # nothing injected into a notebook without `country`


# ------------------------------------------------------------------------------ figures, pruning, progress

FIGURE_BODY = """from analysis.core import paths
folder = paths.figures_dir() / NOTEBOOK
folder.mkdir(parents=True, exist_ok=True)
(folder / 'chart-a.png').write_text('drawn')"""


def test_figures_go_to_scratch_unless_told_stale_ones_go_and_skipped_runs_keep_theirs(project, monkeypatch):
    make_synthetic_notebook(project / "notebooks" / "01_synthetic.ipynb", body=FIGURE_BODY,
                            params="NOTEBOOK = '01_synthetic'\ncountry = 'AAA'")
    scratch = project / "scratch" / "figures" / "01_synthetic"
    scratch.mkdir(parents=True)
    (scratch / "chart-gone.png").write_text("from an older version of the notebook")
    run_notebooks(names=["01"], profiles=False)
    assert sorted(p.name for p in scratch.iterdir()) == ["chart-a.png"]
    assert not (project / "reports" / "figures").exists()
    # up to date: skipped, and its charts stay as they are
    before = (scratch / "chart-a.png").stat().st_mtime_ns
    assert run_notebooks(names=["01"], profiles=False).runs[0].status == "skipped"
    assert (scratch / "chart-a.png").stat().st_mtime_ns == before
    # the main job names the (staged) figures folder; charts made elsewhere do not make it up to date
    staged = project / "staged-figures"
    monkeypatch.setenv("ANALYSIS_FIGURES_DIR", str(staged))
    assert run_notebooks(names=["01"], profiles=False).runs[0].status == "executed"
    assert (staged / "01_synthetic" / "chart-a.png").read_text() == "drawn"


def test_prune_removes_outputs_of_notebooks_and_countries_that_are_gone(project, synthetic_focus):
    out = project / "reports" / "notebooks"
    stale = [out / "99_gone.html", out / "executed" / "99_gone.ipynb", out / "profiles" / "ZZZ.html"]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("stale")
    result = run_notebooks(profiles=False, prune=True)
    assert not any(p.exists() for p in stale)
    assert sorted(result.removed) == sorted(p.relative_to(project).as_posix() for p in stale)
    assert (out / "01_synthetic.html").exists()
    # without prune (a partial run) nothing of others is touched
    stale[0].write_text("stale")
    run_notebooks(names=["01"], profiles=False)
    assert stale[0].exists()


def test_progress_reports_each_finished_notebook_and_the_running_ones(project):
    make_synthetic_notebook(project / "notebooks" / "02_second.ipynb")
    events: list[Progress] = []
    run_notebooks(profiles=False, export_html=False, progress=events.append, jobs=2)
    assert [e.done for e in events] == [0, 1, 2]
    assert {e.total for e in events} == {2}
    assert events[0].running == ("01_synthetic", "02_second")
    assert sorted(e.finished.name for e in events[1:]) == ["01_synthetic", "02_second"]
    assert events[-1].running == ()


def test_ctrl_c_stops_a_parallel_run_at_once_without_tracebacks(project):
    for name in ("01_synthetic", "02_slow", "03_slow"):
        make_synthetic_notebook(project / "notebooks" / f"{name}.ipynb", body="import time\ntime.sleep(60)")
    env = {**os.environ, "ANALYSIS_PROJECT_ROOT": str(project)}
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "notebooks", "--force"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    assert "3 notebook run(s) to execute" in proc.stdout.readline()
    time.sleep(1.5)  # both kernels busy
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
    start = time.monotonic()
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert time.monotonic() - start < 15  # not after the queued notebooks
    assert "Traceback" not in rest and "interrupted" in rest
    assert not (project / "reports" / "notebooks" / "01_synthetic.html").exists()


# ------------------------------------------------------------------------------ kernel reuse

SYNTHETIC_HELPER = '''import warnings


def warn_once():
    # the module's own "shown once" registry, as warnings.warn uses; a relative file name (no machine path)
    registry = globals().setdefault("__warningregistry__", {})
    warnings.warn_explicit("synthetic helper warning", UserWarning, "synthetic_helper.py", 7,
                           module="synthetic_helper", registry=registry)
'''

#: a notebook that changes everything a reused kernel must put back before the next notebook
LEAVES_STATE = """import os, warnings
import matplotlib, pandas as pd
import synthetic_helper
warnings.simplefilter("ignore", DeprecationWarning)  # a new filter, and the helper's warning after it
synthetic_helper.warn_once()
LEFT_BEHIND = 1
pd.set_option("display.max_rows", 3)
matplotlib.rcParams["lines.linewidth"] = 9.0
os.chdir("..")"""

#: a notebook that prints what it finds (the same in a fresh kernel and in a reused one, or the test fails)
REPORTS_STATE = """import os, sys, warnings
import matplotlib, pandas as pd
import synthetic_helper
synthetic_helper.warn_once()
sys.stderr.flush()
print("left behind:", "LEFT_BEHIND" in globals())
print("max rows:", pd.get_option("display.max_rows"))
print("line width:", matplotlib.rcParams["lines.linewidth"])
print("cwd:", os.path.basename(os.getcwd()))
print("inputs so far:", len(In))
print("warning filters:", len(warnings.filters))
1 + 1"""


@pytest.fixture()
def kernel_starts(monkeypatch):
    """The kernel managers created (one per kernel started) while the test runs."""
    from analysis.presentation.notebook_runner import kernel as kernel_module

    started: list[object] = []
    real = kernel_module.quiet_kernel_manager

    def counting() -> type:
        base = real()

        class Counting(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                started.append(self)

        return Counting

    monkeypatch.setattr(kernel_module, "quiet_kernel_manager", counting)
    return started


def _state_notebooks(project: Path, first_body: str = LEAVES_STATE) -> None:
    (project / "notebooks" / "synthetic_helper.py").write_text(SYNTHETIC_HELPER)
    make_synthetic_notebook(project / "notebooks" / "01_synthetic.ipynb", body=first_body)
    make_synthetic_notebook(project / "notebooks" / "02_reports.ipynb", body=REPORTS_STATE)


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != nbrun.STATE_FILE}


def test_a_reused_kernel_gives_the_bytes_of_fresh_kernels(project, kernel_starts):
    _state_notebooks(project)
    fresh_dir, reused_dir = project / "out-fresh", project / "out-reused"
    run_notebooks(profiles=False, jobs=1, fresh_kernels=True, output_dir=fresh_dir)
    assert len(kernel_starts) == 2
    kernel_starts.clear()
    run_notebooks(profiles=False, jobs=1, output_dir=reused_dir)
    assert len(kernel_starts) == 1  # both notebooks in one kernel
    fresh, reused = _outputs(fresh_dir), _outputs(reused_dir)
    assert sorted(fresh) == ["01_synthetic.html", "02_reports.html", "executed/01_synthetic.ipynb",
                             "executed/02_reports.ipynb"]
    assert reused == fresh
    report = nbformat.read(reused_dir / "executed" / "02_reports.ipynb", as_version=4).cells[2]
    text = _stdout(nbformat.read(reused_dir / "executed" / "02_reports.ipynb", as_version=4))
    assert "left behind: False" in text and "cwd: notebooks" in text
    assert "synthetic helper warning" in text  # shown again: the "once per place" registry was reset
    assert report.execution_count == 2  # counting starts again at 1 in every notebook


def test_a_failed_notebook_leaves_nothing_to_the_next_one(project, kernel_starts):
    _state_notebooks(project, first_body=LEAVES_STATE + "\nraise ValueError('synthetic failure')")
    result = run_notebooks(profiles=False, jobs=1, raise_on_error=False, output_dir=project / "out-reused")
    assert [r.status for r in result.runs] == ["failed", "executed"]
    assert len(kernel_starts) == 2  # the failed notebook's kernel is not reused
    run_notebooks(names=["02"], profiles=False, jobs=1, fresh_kernels=True, output_dir=project / "out-fresh")
    assert _outputs(project / "out-reused") == _outputs(project / "out-fresh")


SYNTHETIC_CHART_CODE = """
from pathlib import Path
from PIL import Image
folder = Path({folder!r})
folder.mkdir(parents=True, exist_ok=True)
image = Image.new("RGB", (800, 500), (0, 96, 160))
image.save(folder / "synthetic-chart.png")
image.save(folder / "synthetic-chart.pdf", format="PDF", resolution=200.0)
(folder / "synthetic-chart.json").write_text('{{"title": "Synthetic chart"}}')
"""


@pytest.mark.parametrize("published", [True, False], ids=["job's reports", "scratch"])
def test_thumbnails_of_published_charts_are_drawn_as_each_notebook_ends(project, published):
    figures = project / ("reports" if published else "scratch") / "figures"
    make_synthetic_notebook(project / "notebooks" / "01_synthetic.ipynb",
                            body=SYNTHETIC_CHART_CODE.format(folder=str(figures / "01_synthetic")))
    run_notebooks(names=["01"], profiles=False, figures_dir=figures)
    assert (figures / "01_synthetic" / "synthetic-chart.pdf").exists()
    thumbs = sorted((project / "reports" / "thumbnails").rglob("*.png"))
    assert [p.relative_to(project / "reports" / "thumbnails").parent.as_posix() for p in thumbs] == (
        ["01_synthetic"] if published else [])
