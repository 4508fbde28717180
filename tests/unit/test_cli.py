"""The command line: exit codes in --help, errors without tracebacks, options the job passes on, counters."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.cli import lock as lock_module
from analysis.cli import main
from analysis.cli.job import JobOptions, step_argv
from analysis.cli.progress import notebook_line
from analysis.core import paths
from analysis.presentation.notebook_runner import NotebookRun, Progress


@pytest.fixture()
def project(tmp_path, monkeypatch):
    """An empty synthetic project root (nothing of the real checkout is read or written)."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "notebooks").mkdir()
    monkeypatch.setenv(paths.ROOT_ENV, str(root))
    for env in (paths.PROCESSED_ENV, paths.REPORTS_ENV, paths.FIGURES_ENV, lock_module.HELD_ENV):
        monkeypatch.delenv(env, raising=False)
    return root


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["notebooks", "--help"]])
def test_help_documents_the_exit_codes(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "exit codes:" in text
    for code in ("0", "1", "2", "3", "4", "130"):
        assert re.search(rf"^  {code} +\S", text, re.MULTILINE), code


def test_user_error_is_one_line_without_traceback(project, capsys):
    assert main(["build", "--as-of", "01/07/2026"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --as-of must be a date as YYYY-MM-DD")
    assert "Traceback" not in err


def test_unknown_notebook_is_a_user_error_and_a_failing_one_a_failed_step(project, capsys):
    import nbformat

    assert main(["notebooks", "99", "--quiet"]) == 2
    assert "no notebook named ['99']" in capsys.readouterr().err
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("raise ValueError('synthetic failure')")]
    nbformat.write(nb, project / "notebooks" / "01_synthetic.ipynb")
    assert main(["notebooks", "--quiet", "--no-html"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("error: notebooks: 0 executed") and "synthetic failure" in err
    assert "Traceback" not in err


def test_step_options_are_passed_on():
    opts = JobOptions(mirror=Path("mirror"), no_download=True, quiet=True, force=True)
    assert step_argv("fetch", opts) == ["fetch", "--mirror", "mirror", "--no-download", "--quiet"]
    assert step_argv("build", opts) == ["build", "--quiet", "--force"]
    assert step_argv("notebooks", JobOptions()) == ["notebooks"]
    assert step_argv("notebooks", JobOptions(countries=["AAA", "BBB"])) == ["notebooks", "--countries", "AAA,BBB"]
    assert step_argv("report", JobOptions(countries=["AAA"])) == ["report"]


def test_notebook_counter_line_names_the_running_notebooks():
    start = Progress(0, 3, None, ("00_a", "01_b"))
    assert notebook_line(start) == "3 notebook run(s) to execute; running 00_a, 01_b"
    done = Progress(1, 3, NotebookRun("00_a", "executed", seconds=2.0), ("01_b", "02_c"))
    assert notebook_line(done) == "1 of 3 executed: 00_a done (2.0 s); running 01_b, 02_c"
    failed = Progress(3, 3, NotebookRun("02_c", "failed", seconds=1.0), ())
    assert notebook_line(failed) == "3 of 3 executed: 02_c FAILED (1.0 s)"
