"""The main job's skip decisions: a step with nothing to do is not started, a changed input still runs it.

The checks ask each step's own freshness rule (``analysis.cli.freshness``); these tests drive each rule
on a SYNTHETIC project (``synthetic_project`` in tests/conftest.py), then the job's use of the checks
with steps replaced by tiny programs, so no real step, kernel or chart is run.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import nbformat
import pytest

from analysis.cli import freshness
from analysis.cli.freshness import Deliverables, NothingToDo
from analysis.cli.job import Job, JobOptions
from analysis.cli.lock import HELD_ENV
from analysis.core import paths
from analysis.pipeline.build import build_store
from analysis.pipeline.fetch import files_to_place
from analysis.presentation import report_freshness
from analysis.presentation.gallery import WORKBOOK_FILE
from analysis.presentation.notebook_runner import NotebookRun, run_notebooks
from analysis.presentation.notebook_runner import runner as notebook_runner


def _published(root: Path) -> Deliverables:
    return Deliverables(root / "data" / "processed", root / "reports")


# ------------------------------------------------------------------------------ fetch


def test_fetch_is_skipped_when_every_pinned_file_is_valid_and_runs_when_one_changed(synthetic_project):
    where = _published(synthetic_project.root)
    skipped = freshness.fetch_check(JobOptions(), where)
    assert skipped is not None
    assert skipped.lines == [f"{len(synthetic_project.files)} pinned inputs valid (0 copied from the mirror, "
                             "0 downloaded)"]
    file_id = next(iter(synthetic_project.files))
    synthetic_project.write_raw(file_id, "changed bytes\n", repin=False)  # no longer the pinned file
    assert files_to_place() == [file_id]
    assert freshness.fetch_check(JobOptions(), where) is None


# ------------------------------------------------------------------------------ build


def test_build_is_skipped_when_the_store_is_current_and_runs_when_the_catalogue_changed(synthetic_project):
    build_store(progress=False)
    where = _published(synthetic_project.root)
    assert freshness.build_check(JobOptions(), where) == NothingToDo(
        ["store up to date (inputs, catalogue and code unchanged)"])
    assert freshness.build_check(JobOptions(force=True), where) is None
    catalogue = synthetic_project.root / "data" / "indicators.toml"
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert freshness.build_check(JobOptions(), where) is None


def test_build_runs_when_its_store_output_was_damaged(synthetic_project):
    build_store(progress=False)
    (synthetic_project.processed_dir / "latest.parquet").write_bytes(b"broken")
    assert freshness.build_check(JobOptions(), _published(synthetic_project.root)) is None


# ------------------------------------------------------------------------------ report


def _reports_as_made(where: Deliverables) -> None:
    """The report's outputs and its state, as build_reports leaves them (without drawing anything)."""
    where.reports.mkdir(parents=True, exist_ok=True)
    for name in (report_freshness.PACK_FILE, report_freshness.INDEX_FILE, WORKBOOK_FILE):
        (where.reports / name).write_text("made")
    state = report_freshness.report_state(where.processed)
    (where.reports / report_freshness.STATE_FILE).write_text(json.dumps(state))


def test_report_is_skipped_when_made_from_this_store_and_runs_when_the_store_changed(synthetic_project):
    build_store(progress=False)
    where = _published(synthetic_project.root)
    _reports_as_made(where)
    assert freshness.report_check(JobOptions(), where) == NothingToDo(["up to date (store and report code unchanged)"])
    assert freshness.report_check(JobOptions(force=True), where) is None
    manifest = where.processed / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("{", "{\n", 1), encoding="utf-8")
    assert freshness.report_check(JobOptions(), where) is None


def test_report_runs_when_an_output_is_missing(synthetic_project):
    build_store(progress=False)
    where = _published(synthetic_project.root)
    _reports_as_made(where)
    (where.reports / WORKBOOK_FILE).unlink()
    assert freshness.report_check(JobOptions(), where) is None


# ------------------------------------------------------------------------------ notebooks


def _write_notebook(path: Path, source: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture()
def notebooks_run(synthetic_project, monkeypatch):
    """A store, one notebook and a full run of it as the main job's step makes it, with the kernel
    replaced by a writer of the outputs (the runner's own state, keys and pruning are used)."""
    build_store(progress=False)
    where = _published(synthetic_project.root)
    _write_notebook(synthetic_project.root / "notebooks" / "01_synthetic.ipynb", "print(1)")

    def executed(task, _session=None):
        for target in (task.notebook_target, task.html_target):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"executed {task.name}")
        return NotebookRun(name=task.name, status="executed")

    def execute_all(todo, _jobs, record, _progress, _fresh=False):
        for task in todo:
            record(task, executed(task))

    monkeypatch.setattr(notebook_runner, "_execute_all", execute_all)
    run_notebooks(prune=True, output_dir=where.reports / "notebooks", figures_dir=where.reports / "figures")
    return synthetic_project, where


def test_notebooks_are_skipped_when_every_execution_is_current(notebooks_run):
    _, where = notebooks_run
    skipped = freshness.notebooks_check(JobOptions(), where)
    assert skipped == NothingToDo(["0 executed, 1 skipped (unchanged), 0 failed"],
                                  {"figure_folders": ["01_synthetic"]})
    assert freshness.notebooks_check(JobOptions(force=True), where) is None


def test_notebooks_run_when_a_notebook_changed(notebooks_run):
    project, where = notebooks_run
    _write_notebook(project.root / "notebooks" / "01_synthetic.ipynb", "print(2)")
    assert freshness.notebooks_check(JobOptions(), where) is None


def test_notebooks_run_when_an_output_is_missing_or_would_be_pruned(notebooks_run):
    _, where = notebooks_run
    orphan = where.reports / "notebooks" / "09_gone.html"
    orphan.write_text("a notebook deleted since")
    assert freshness.notebooks_check(JobOptions(), where) is None
    orphan.unlink()
    (where.reports / "notebooks" / "01_synthetic.html").unlink()
    assert freshness.notebooks_check(JobOptions(), where) is None


def test_notebooks_run_when_the_store_changed(notebooks_run):
    _, where = notebooks_run
    manifest = where.processed / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert freshness.notebooks_check(JobOptions(), where) is None


# ------------------------------------------------------------------------------ the gallery


@pytest.fixture()
def gallery(tmp_path, monkeypatch) -> Deliverables:
    monkeypatch.setenv(paths.ROOT_ENV, str(tmp_path))
    where = _published(tmp_path)
    (where.reports / "figures" / "pack").mkdir(parents=True)
    (where.reports / "figures" / "pack" / "01-a.json").write_text("{}")
    (where.reports / freshness.GALLERY_PAGE).write_text("<p>the page</p>")
    freshness.record_gallery(where, 1)
    return where


def test_gallery_is_current_until_a_file_it_lists_changes(gallery):
    assert freshness.gallery_listed(gallery) == 1
    (gallery.reports / freshness.GALLERY_PAGE).write_text("<p>the page, made again</p>")  # its own output
    assert freshness.gallery_listed(gallery) == 1
    (gallery.reports / "figures" / "pack" / "01-a.json").write_text('{"title": "new"}')
    assert freshness.gallery_listed(gallery) is None


def test_gallery_is_made_again_for_a_new_file_or_a_new_citation(gallery, tmp_path):
    (gallery.reports / "profiles").mkdir()
    (gallery.reports / "profiles" / "AAA.pdf").write_text("a new profile")
    assert freshness.gallery_listed(gallery) is None
    freshness.record_gallery(gallery, 1)
    assert freshness.gallery_listed(gallery) == 1
    (tmp_path / freshness.CITATION).write_text('title: "Another title"\n')
    assert freshness.gallery_listed(gallery) is None


# ------------------------------------------------------------------------------ the job's use of the checks


@pytest.fixture()
def project(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    monkeypatch.setenv(paths.ROOT_ENV, str(root))
    for env in (paths.PROCESSED_ENV, paths.REPORTS_ENV, paths.FIGURES_ENV, HELD_ENV):
        monkeypatch.delenv(env, raising=False)
    return root


def _job(project: Path, checks: dict, started: list[str], options: JobOptions | None = None) -> tuple[Job, io.StringIO]:
    """A job whose steps only write their name into ``started.txt`` beside the project."""
    log = project.parent / "started.txt"

    def command(name: str, _options: JobOptions) -> list[str]:
        started.append(name)
        return [sys.executable, "-c", f"open({str(log)!r}, 'a').write({name + ' '!r})", name]

    out = io.StringIO()
    return Job(options or JobOptions(), out=out, steps=("build", "report"), command=command, checks=checks), out


def _nothing(line: str):
    return lambda _options, _where: NothingToDo([line])


def _publish_once(project: Path) -> None:
    """A published store and reports, with a gallery page that is current."""
    job, _ = _job(project, {}, [])
    (project / "data" / "processed").mkdir(parents=True)
    (project / "data" / "processed" / "manifest.json").write_text("{}")
    assert job.run() == 0
    assert (project / "reports" / freshness.GALLERY_STATE).exists()


def test_a_step_with_nothing_to_do_is_not_started_and_nothing_is_staged(project, monkeypatch):
    _publish_once(project)
    started: list[str] = []
    job, out = _job(project, {"build": _nothing("store current"), "report": _nothing("reports current")}, started)
    monkeypatch.setattr(job.staging, "prepare", lambda: pytest.fail("a run with nothing to do made a staging area"))
    monkeypatch.setattr(job, "_vintages_changed", lambda: pytest.fail("vintages compared without a build"))
    assert job.run() == 0
    assert started == []
    text = out.getvalue()
    assert "[build] done in 0.0 s: store current" in text and "[report] done in 0.0 s: reports current" in text
    assert "everything was up to date; nothing to publish" in text
    assert [(o.name, o.ran) for o in job.outcomes[:3]] == [("build", False), ("report", False), ("gallery", False)]


def test_a_step_whose_check_says_run_is_started_and_the_next_check_sees_the_staging_area(project):
    _publish_once(project)
    started: list[str] = []
    seen: list[Path] = []

    def report_check(_options, where):
        seen.append(where.reports)
        return NothingToDo(["reports current"])

    job, _ = _job(project, {"build": lambda _o, _w: None, "report": report_check}, started)
    assert job.run() == 0
    assert started == ["build"]
    assert seen == [job.staging.reports]  # the build ran in the staging area: the report is judged there


def test_a_check_that_cannot_decide_runs_the_step(project):
    def broken(_options, _where):
        raise FileNotFoundError("data/sources.toml")

    started: list[str] = []
    job, _ = _job(project, {"build": broken, "report": _nothing("reports current")}, started)
    assert job.run() == 0
    assert started == ["build"]


def test_charts_not_made_by_the_job_make_the_gallery_run_without_any_step(project):
    _publish_once(project)
    stray = project / "reports" / "figures" / "my_try"
    stray.mkdir(parents=True)
    (stray / "x.png").write_text("an experiment")
    job, out = _job(project, {"build": _nothing("store current"), "report": _nothing("reports current")}, [])
    assert job.run() == 0
    assert not stray.exists()
    assert "removed reports/figures/my_try/ (not made by the main job)" in out.getvalue()
    assert "published the store and the reports" in out.getvalue()
