"""The command line: exit codes in --help, errors without tracebacks, options the job passes on, counters."""

from __future__ import annotations

import re
import shutil
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


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["notebooks", "--help"], ["changes", "--help"]])
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
    # the refresh diff compares the published store with the one the job staged
    assert step_argv("changes", opts) == ["changes", "--previous-store", str(paths.published_processed_dir()),
                                          "--quiet"]


def test_notebook_counter_line_names_the_running_notebooks():
    start = Progress(0, 3, None, ("00_a", "01_b"))
    assert notebook_line(start) == "3 notebook run(s) to execute; running 00_a, 01_b"
    done = Progress(1, 3, NotebookRun("00_a", "executed", seconds=2.0), ("01_b", "02_c"))
    assert notebook_line(done) == "1 of 3 executed: 00_a done (2.0 s); running 01_b, 02_c"
    failed = Progress(3, 3, NotebookRun("02_c", "failed", seconds=1.0), ())
    assert notebook_line(failed) == "3 of 3 executed: 02_c FAILED (1.0 s)"


# ---------------------------------------------------------------- the refresh diff on SYNTHETIC stores


@pytest.fixture(scope="module")
def synthetic_stores(tmp_path_factory):
    """Store v1 (data/processed) and v2 (a made-up refresh of one source) of test_changes.py."""
    from test_changes import make_stores

    return make_stores(tmp_path_factory.mktemp("cli-changes"))


@pytest.fixture()
def changes_project(synthetic_stores, monkeypatch):
    project, v2 = synthetic_stores
    monkeypatch.setenv(paths.ROOT_ENV, str(project.root))
    for env in (paths.PROCESSED_ENV, paths.REPORTS_ENV, paths.FIGURES_ENV, lock_module.HELD_ENV):
        monkeypatch.delenv(env, raising=False)
    yield project, v2
    shutil.rmtree(project.root / "reports", ignore_errors=True)


def test_changes_between_two_sources_end_to_end(changes_project, capsys):
    from test_changes import ILO_AAA_2016, SDG_AAA_2016

    project, _ = changes_project
    assert main(["changes", "--from", "sdg2020", "--to", "ilostat", "--no-wait"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wrote reports/data-changes.csv and reports/data-changes.md\n")
    table = (project.root / "reports" / "data-changes.csv").read_text(encoding="utf-8")
    revised = f"2016,{SDG_AAA_2016:g},2016,{ILO_AAA_2016:g},{ILO_AAA_2016 - SDG_AAA_2016:g},"
    assert f"AAA,Synthetia,revised,{revised}" in table
    md = (project.root / "reports" / "data-changes.md").read_bytes()
    assert b"sdg2020 -> ilostat" in md
    assert main(["changes", "--from", "sdg2020", "--to", "ilostat", "--no-wait"]) == 0
    assert (project.root / "reports" / "data-changes.md").read_bytes() == md  # same inputs, same bytes


def test_changes_against_a_previous_store_end_to_end(changes_project, capsys, monkeypatch):
    project, v2 = changes_project
    # the made-up refresh as the current store, the published one as the previous store
    monkeypatch.setenv(paths.PROCESSED_ENV, str(v2))
    assert main(["changes", "--previous-store", str(project.processed_dir), "--no-wait"]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert "1 values revised, 1 added, 0 dropped" in line
    assert "| Fakeland | – | 40 (2022) |" in (project.root / "reports" / "data-changes.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--from", "sdg2099", "--to", "ilostat"], "error: changes --from: unknown source 'sdg2099'; the sources of "
                                               "data/sources.toml are "),
    (["--from", "sdg2020"], "error: changes: give both --from and --to"),
    (["--previous-store", "nowhere", "--from", "sdg2020", "--to", "ilostat"], "it takes no --from or --to"),
    (["--previous-store", "nowhere"], "error: changes --previous-store: nowhere holds no indicators.parquet"),
])
def test_changes_user_errors_exit_2_without_traceback(changes_project, capsys, argv, fragment):
    project, _ = changes_project
    assert main(["changes", *argv, "--no-wait"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: changes") and fragment in err and "Traceback" not in err
    assert not (project.root / "reports" / "data-changes.md").exists()
