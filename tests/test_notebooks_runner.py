"""The notebook runner on tiny synthetic notebooks in a temporary directory (real kernel, no store)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from analysis.presentation import notebook_runner as nbrun
from analysis.presentation.notebook_runner import NotebookError, clean_executed, find_volatile, run_notebooks

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
    (tmp_path / "data" / "processed").mkdir(parents=True)
    (tmp_path / "data" / "processed" / "manifest.json").write_text('{"synthetic": 1}\n')
    make_synthetic_notebook(tmp_path / "notebooks" / "01_synthetic.ipynb")
    return tmp_path


def _stdout(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_executes_copy_and_exports_html_without_code(project):
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


def test_executed_copy_has_no_volatile_metadata(project):
    run_notebooks(names=["01_synthetic"], profiles=False, export_html=False)
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
    assert not (project / "reports" / "notebooks" / "executed").exists()
    # executing in place changes outputs, not sources: nothing to redo
    assert run_notebooks(inplace=True, names=["01"], profiles=False, export_html=False).runs[0].status == "skipped"
    # but a notebook whose outputs were cleared (same sources) is executed again
    make_synthetic_notebook(nb_path)
    assert run_notebooks(inplace=True, names=["01"], profiles=False, export_html=False).runs[0].status == "executed"
    assert "answer 42" in _stdout(nbformat.read(nb_path, as_version=4))


def test_inplace_output_is_byte_identical_across_runs(project):
    nb_path = project / "notebooks" / "01_synthetic.ipynb"
    run_notebooks(inplace=True, names=["01"], profiles=False, export_html=False)
    first = nb_path.read_bytes()
    run_notebooks(inplace=True, names=["01"], profiles=False, export_html=False, force=True)
    assert nb_path.read_bytes() == first


def test_profile_notebook_runs_per_country_with_parameters(project):
    make_synthetic_notebook(project / "notebooks" / f"{nbrun.PROFILE_NOTEBOOK}.ipynb")
    result = run_notebooks(names=[nbrun.PROFILE_NOTEBOOK], countries=["AAA", "BBB"])
    assert [r.name for r in result.runs] == [nbrun.PROFILE_NOTEBOOK, f"{nbrun.PROFILE_NOTEBOOK}[AAA]",
                                             f"{nbrun.PROFILE_NOTEBOOK}[BBB]"]
    profile = (project / "reports" / "notebooks" / "profiles" / "BBB.html").read_text()
    assert "country BBB" in profile and "country AAA" not in profile


def test_parameters_are_injected(project):
    run_notebooks(names=["01"], profiles=False, parameters={"country": "ZZZ"}, export_html=False)
    executed = nbformat.read(project / "reports" / "notebooks" / "executed" / "01_synthetic.ipynb", as_version=4)
    assert "country ZZZ" in _stdout(executed)
    assert executed.metadata["papermill"] == {"parameters": {"country": "ZZZ"}}
    assert [c.id for c in executed.cells][:3] == ["intro", "params", "injected-parameters"]


def test_failure_keeps_last_good_outputs_and_raises(project):
    run_notebooks(names=["01"], profiles=False)
    html_path = project / "reports" / "notebooks" / "01_synthetic.html"
    good = html_path.read_bytes()
    make_synthetic_notebook(project / "notebooks" / "01_synthetic.ipynb", body="raise ValueError('synthetic failure')")
    with pytest.raises(NotebookError, match="synthetic failure"):
        run_notebooks(names=["01"], profiles=False)
    assert html_path.read_bytes() == good
    result = run_notebooks(names=["01"], profiles=False, raise_on_error=False)
    assert result.runs[0].status == "failed" and not result.ok
    assert "failed" in result.summary()
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
