"""The main job's transaction, lock, clean-up and summary, with SYNTHETIC steps in a temporary project.

The real steps take minutes; these tests replace each step's command line with a small synthetic
program (``FAKE_STEP`` below) that writes made-up deliverables where the job's staging area says,
so the job's own logic (staging, publication, failure, interruption, leftovers, lock) is tested in
seconds. The last tests use the one run of the REAL job on the real data that the session shares
(``main_job`` in tests/conftest_job.py, in a temporary copy of the project).
"""

from __future__ import annotations

import configparser
import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from analysis.cli import lock as lock_module
from analysis.cli import main
from analysis.cli.job import Job, JobOptions
from analysis.cli.lock import LockBusy, checkout_lock
from analysis.cli.staging import clean_leftovers, prune_figures, prune_report
from analysis.core import paths
from analysis.presentation.notebook_runner import merge_streams
from analysis.store import api

if TYPE_CHECKING:
    from conftest_job import JobRun

# the session's one run of the real main job (the fixture ``main_job``)
pytest_plugins = ["conftest_job"]

# A synthetic step: writes made-up deliverables (only when they differ, like the real steps) into the
# folders the job's environment names, then its account for the job. FAKE_VERSION changes the
# content, FAKE_FAIL=<step>[:code] makes that step fail, FAKE_SLEEP=<step> makes it wait to be stopped.
FAKE_STEP = textwrap.dedent('''
    import json, os, sys, time
    from pathlib import Path

    step = sys.argv[1]
    account = Path(sys.argv[sys.argv.index("--job-summary") + 1])
    version = os.environ.get("FAKE_VERSION", "1")

    def put(path, text):
        path = Path(path)
        if not (path.exists() and path.read_text() == text):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    if os.environ.get("FAKE_SLEEP") == step:
        print("[" + step + "] started", flush=True)
        time.sleep(60)
    fail = os.environ.get("FAKE_FAIL", "").split(":")
    if fail[0] == step:
        print("error: synthetic failure in " + step, file=sys.stderr)
        sys.exit(int(fail[1]) if len(fail) > 1 else 3)
    store = Path(os.environ["ANALYSIS_PROCESSED_DIR"])
    reports = Path(os.environ["ANALYSIS_REPORTS_DIR"])
    figures = Path(os.environ["ANALYSIS_FIGURES_DIR"])
    facts = {}
    if step == "build":
        put(store / "manifest.json", json.dumps({"synthetic": version}))
        put(store / "indicators.parquet", "synthetic table " + version)
    elif step == "report":
        put(reports / "chart-pack.pdf", "synthetic pack " + version)
        put(reports / "figures" / "pack" / "01-a.png", "png " + version)
        put(reports / "figures" / "pack" / "01-a.json", json.dumps({"title": "Synthetic pack chart"}))
    elif step == "notebooks":
        put(figures / "01_synthetic" / "chart.png", "png " + version)
        put(figures / "01_synthetic" / "chart.json", json.dumps({"title": "Synthetic notebook chart"}))
        put(reports / "notebooks" / "01_synthetic.html", "<p>synthetic " + version + "</p>")
        facts["figure_folders"] = ["01_synthetic"]
    account.write_text(json.dumps({"lines": [step + " synthetic " + version], "warnings": [], "facts": facts}))
''')


@pytest.fixture()
def project(tmp_path, monkeypatch):
    """An empty synthetic project root; the synthetic step program beside it."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "notebooks").mkdir()
    monkeypatch.setenv(paths.ROOT_ENV, str(root))
    for env in (paths.PROCESSED_ENV, paths.REPORTS_ENV, paths.FIGURES_ENV, lock_module.HELD_ENV,
                "FAKE_VERSION", "FAKE_FAIL", "FAKE_SLEEP"):
        monkeypatch.delenv(env, raising=False)
    fake = tmp_path / "fake_step.py"
    fake.write_text(FAKE_STEP)
    return root


def _job(fake: Path, out: io.StringIO | None = None) -> Job:
    return Job(JobOptions(), out=out or io.StringIO(), steps=("build", "report", "notebooks"),
               command=lambda name, _opts: [sys.executable, str(fake), name])


def _fake(project: Path) -> Path:
    return project.parent / "fake_step.py"


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every published file with its bytes and modification time."""
    out = {}
    for top in (root / "data" / "processed", root / "reports"):
        for path in sorted(top.rglob("*")) if top.exists() else []:
            if path.is_file():
                out[path.relative_to(root).as_posix()] = (path.read_bytes(), path.stat().st_mtime_ns)
    return out


def staging_left(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob(".staging-*"))


# ------------------------------------------------------------------------------ all or nothing


def test_success_publishes_every_deliverable_and_prints_one_summary(project):
    out = io.StringIO()
    assert _job(_fake(project), out).run() == 0
    assert json.loads((project / "data" / "processed" / "manifest.json").read_text()) == {"synthetic": "1"}
    assert (project / "reports" / "chart-pack.pdf").read_text() == "synthetic pack 1"
    assert (project / "reports" / "figures" / "01_synthetic" / "chart.png").exists()
    gallery = (project / "reports" / "index.html").read_text()
    assert "Synthetic pack chart" in gallery and "Synthetic notebook chart" in gallery
    assert staging_left(project) == []
    text = out.getvalue()
    assert "main job finished" in text and "published the store and the reports" in text
    for step in ("build", "report", "notebooks", "gallery", "publish"):
        assert f"  {step}" in text
    assert "lists 2 charts" in text


def test_failed_step_publishes_nothing_and_says_so_last(project, monkeypatch):
    assert _job(_fake(project)).run() == 0
    before = snapshot(project)
    monkeypatch.setenv("FAKE_VERSION", "2")
    monkeypatch.setenv("FAKE_FAIL", "notebooks")
    out = io.StringIO()
    assert _job(_fake(project), out).run() == 3
    assert snapshot(project) == before  # bytes and modification times: nothing was touched
    assert staging_left(project) == []
    last = out.getvalue().strip().splitlines()[-1]
    assert "failed at step 'notebooks'" in last and "nothing was published" in last


def test_config_error_in_a_step_exits_2(project, monkeypatch):
    monkeypatch.setenv("FAKE_FAIL", "build:2")
    assert _job(_fake(project)).run() == 2
    assert not (project / "data" / "processed").exists()
    assert not (project / "reports").exists()


def test_unchanged_run_publishes_nothing_and_touches_nothing(project):
    assert _job(_fake(project)).run() == 0
    before = snapshot(project)
    inode = (project / "reports" / "figures").stat().st_ino
    out = io.StringIO()
    assert _job(_fake(project), out).run() == 0
    assert snapshot(project) == before
    assert (project / "reports" / "figures").stat().st_ino == inode
    assert "nothing to publish" in out.getvalue()


def test_new_content_replaces_old_and_charts_not_made_by_the_job_are_removed(project, monkeypatch):
    assert _job(_fake(project)).run() == 0
    experiment = project / "reports" / "figures" / "my_try"
    experiment.mkdir()
    (experiment / "x.png").write_text("an experiment")
    (experiment / "x.json").write_text(json.dumps({"title": "Experiment chart"}))
    monkeypatch.setenv("FAKE_VERSION", "2")
    out = io.StringIO()
    assert _job(_fake(project), out).run() == 0
    assert (project / "reports" / "chart-pack.pdf").read_text() == "synthetic pack 2"
    assert not experiment.exists()
    assert "Experiment chart" not in (project / "reports" / "index.html").read_text()
    assert "removed reports/figures/my_try/ (not made by the main job)" in out.getvalue()


def test_leftover_staging_folders_are_removed_at_the_next_start(project):
    leftovers = [project / "data" / ".staging-999999" / "processed", project / "reports" / ".staging-999999",
                 project / "data" / "processed" / ".staging-abc123"]
    for folder in leftovers:
        folder.mkdir(parents=True)
        (folder / "partial.parquet").write_text("half-written")
    out = io.StringIO()
    assert _job(_fake(project), out).run() == 0
    assert staging_left(project) == []
    assert "removed 3 leftover staging folder(s)" in out.getvalue()


def test_publication_killed_half_way_is_repaired_from_the_parked_copy(project):
    parked = project / "data" / ".staging-999999" / ".previous" / "processed"
    parked.mkdir(parents=True)
    (parked / "manifest.json").write_text("the previous store")
    removed, restored = clean_leftovers()
    assert restored == ["data/processed"]
    assert (project / "data" / "processed" / "manifest.json").read_text() == "the previous store"
    assert removed == ["data/.staging-999999"] and staging_left(project) == []


def test_publication_parks_nothing_when_the_swap_completes_and_keeps_other_files(project):
    (project / "reports").mkdir()
    (project / "reports" / "README-mine.txt").write_text("a note the user keeps here")
    assert _job(_fake(project)).run() == 0
    assert (project / "reports" / "README-mine.txt").read_text() == "a note the user keeps here"
    assert not list(project.rglob(".previous"))


# ------------------------------------------------------------------------------ interruption


def _start_job(project: Path, **env: str) -> subprocess.Popen:
    script = textwrap.dedent(f'''
        import sys
        from analysis.cli.job import Job, JobOptions
        job = Job(JobOptions(), steps=("build", "report", "notebooks"),
                  command=lambda name, _o: [sys.executable, {str(_fake(project))!r}, name])
        sys.exit(job.run())
    ''')
    return subprocess.Popen([sys.executable, "-c", script], env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _wait_for(proc: subprocess.Popen, text: str) -> str:
    seen = ""
    deadline = time.monotonic() + 60
    while text not in seen and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
    assert text in seen, seen
    return seen


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupted_run_publishes_nothing(project, how):
    assert _job(_fake(project)).run() == 0
    before = snapshot(project)
    proc = _start_job(project, FAKE_VERSION="2", FAKE_SLEEP="notebooks")
    seen = _wait_for(proc, "[notebooks] started")
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)  # a terminal sends Ctrl-C to the whole process group
    else:
        proc.send_signal(signal.SIGTERM)  # e.g. a CI timeout: the job alone
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, seen + rest
    last = rest.strip().splitlines()[-1]
    assert "interrupted during step 'notebooks'" in last and "nothing was published" in last
    assert snapshot(project) == before
    assert staging_left(project) == []


# ------------------------------------------------------------------------------ the lock


def _hold_lock(project: Path, seconds: float) -> subprocess.Popen:
    script = textwrap.dedent(f'''
        import time
        from analysis.cli.lock import checkout_lock
        with checkout_lock():
            print("holding", flush=True)
            time.sleep({seconds})
    ''')
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_second_run_with_no_wait_exits_at_once_naming_the_holder(project, capsys):
    holder = _hold_lock(project, 30)
    try:
        with pytest.raises(LockBusy, match=rf"another run \(pid {holder.pid}\)"), checkout_lock(wait=False):
            pass
        assert main(["run", "--no-wait"]) == 4
        assert f"pid {holder.pid}" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()


def test_second_run_waits_with_a_message_then_runs(project):
    holder = _hold_lock(project, 1.5)
    said: list[str] = []
    start = time.monotonic()
    with checkout_lock(wait=True, say=said.append):
        waited = time.monotonic() - start
        assert lock_module.lock_path().read_text().strip() == str(os.getpid())
    holder.wait()
    assert said and f"pid {holder.pid}" in said[0] and "waiting" in said[0]
    assert waited > 0.5


def test_stale_lock_of_a_killed_run_is_taken_over(project):
    holder = _hold_lock(project, 60)
    holder.kill()  # SIGKILL: no clean-up ran, the pid is still in the file
    holder.wait()
    assert lock_module.lock_path().read_text().strip() == str(holder.pid)
    with checkout_lock(wait=False):
        assert lock_module.lock_path().read_text().strip() == str(os.getpid())


def test_steps_of_the_job_do_not_wait_for_the_jobs_own_lock(project, monkeypatch):
    with checkout_lock(wait=False):
        monkeypatch.setenv(lock_module.HELD_ENV, str(os.getpid()))
        with checkout_lock(wait=False):  # would raise LockBusy without the hand-over
            pass


# ------------------------------------------------------------------------------ staging paths and pruning


def test_paths_point_at_the_staging_area_and_show_published_locations(project, monkeypatch):
    assert paths.figures_dir() == project.resolve() / "scratch" / "figures"
    stage = project / "reports" / ".staging-1"
    monkeypatch.setenv(paths.REPORTS_ENV, str(stage))
    monkeypatch.setenv(paths.PROCESSED_ENV, str(project / "data" / ".staging-1" / "processed"))
    monkeypatch.setenv(paths.FIGURES_ENV, str(stage / "figures"))
    assert paths.reports_dir() == stage.resolve()
    assert paths.figures_dir() == (stage / "figures").resolve()
    assert paths.published_reports_dir() == project.resolve() / "reports"
    assert paths.relative_to_root(stage / "figures" / "pack" / "01-a.png") == "reports/figures/pack/01-a.png"
    assert paths.relative_to_root(paths.processed_dir() / "manifest.json") == "data/processed/manifest.json"


def test_prune_report_removes_pack_charts_and_profiles_not_made(tmp_path):
    pack = tmp_path / "figures" / "pack"
    pack.mkdir(parents=True)
    for name in ("01-kept.png", "01-kept.json", "02-renamed.png", "02-renamed.csv"):
        (pack / name).write_text("x")
    (tmp_path / "profiles").mkdir()
    for iso3 in ("AAA", "ZZZ"):
        (tmp_path / "profiles" / f"{iso3}.pdf").write_text("x")
    removed = prune_report(tmp_path, ["01-kept"], [tmp_path / "profiles" / "AAA.pdf"])
    assert removed == ["figures/pack/02-renamed.csv", "figures/pack/02-renamed.png", "profiles/ZZZ.pdf"]
    assert sorted(p.name for p in pack.iterdir()) == ["01-kept.json", "01-kept.png"]


def test_prune_figures_keeps_the_pack_and_notebook_folders_only(tmp_path):
    figures = tmp_path / "figures"
    for folder in ("pack", "01_synthetic", "my_try"):
        (figures / folder).mkdir(parents=True)
    (figures / "loose.png").write_text("x")
    assert prune_figures(figures, ["01_synthetic"]) == ["figures/loose.png", "figures/my_try/"]
    assert sorted(p.name for p in figures.iterdir()) == ["01_synthetic", "pack"]


# ------------------------------------------------------------------------------ the real job, run once


def _notebook_stems(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_real_job_publishes_every_deliverable(main_job: JobRun):
    assert main_job.returncode == 0, main_job.output[-3000:]
    reports = main_job.root / "reports"
    assert (reports / "chart-pack.pdf").stat().st_size > 0
    assert (reports / "index.html").exists()
    focus = sorted(api.members("FOCUS", processed_dir=main_job.root / "data" / "processed"))
    assert sorted(p.stem for p in (reports / "profiles").glob("*.pdf")) == focus
    assert sorted(p.stem for p in (reports / "notebooks" / "profiles").glob("*.html")) == sorted(main_job.countries)
    stems = _notebook_stems(main_job.root)
    assert sorted(p.stem for p in (reports / "notebooks").glob("*.html")) == stems
    folders = {p.name for p in (reports / "figures").iterdir()}
    assert "pack" in folders and folders <= {"pack", *stems}
    assert not (main_job.root / "scratch").exists()  # the job's charts are published, not scratch
    assert staging_left(main_job.root) == []


def test_real_job_is_quiet_counts_its_work_and_ends_with_a_summary(main_job: JobRun):
    text = main_job.output
    for noise in ("without encryption", "KeyboardInterrupt", "Traceback", "Unable to parse", "ERROR"):
        assert noise not in text
    assert "[report] chart 1 of" in text
    executions = len(_notebook_stems(main_job.root)) + len(list((main_job.root / "reports" / "notebooks" /
                                                                  "profiles").glob("*.html")))
    assert f"[notebooks] {executions} of {executions} executed" in text
    summary = text[text.index("main job finished"):].splitlines()
    assert "published the store and the reports" in summary[0]
    assert [line.split()[0] for line in summary[1:7]] == ["fetch", "build", "report", "notebooks", "gallery",
                                                          "publish"]
    assert summary[-1].startswith("see reports/index.html")


def test_real_job_again_publishes_nothing_and_touches_nothing(main_job: JobRun):
    before = main_job.snapshot()
    again = main_job.run()
    assert again.returncode == 0, again.output[-3000:]
    assert "everything was up to date; nothing to publish" in again.output
    assert main_job.snapshot() == before


def test_real_job_with_a_failing_notebook_publishes_nothing(main_job: JobRun):
    import nbformat

    path = main_job.root / "notebooks" / f"{_notebook_stems(main_job.root)[0]}.ipynb"
    original = path.read_bytes()
    before = main_job.snapshot()
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("raise RuntimeError('synthetic failure for the test')"))
    nbformat.write(nb, path)
    try:
        failed = main_job.run()
    finally:
        path.write_bytes(original)
    assert failed.returncode == 3, failed.output[-3000:]
    assert "synthetic failure for the test" in failed.output
    last = failed.output.strip().splitlines()[-1]
    assert "failed at step 'notebooks'" in last and "nothing was published" in last
    assert main_job.snapshot() == before
    assert staging_left(main_job.root) == []


def _sanitizers() -> list[tuple[re.Pattern[str], str]]:
    """The nbval sanitising rules (tests/nbval_sanitize.cfg): what differs between machines, never a result."""
    config = configparser.ConfigParser()
    config.read(Path(__file__).parents[1] / "nbval_sanitize.cfg", encoding="utf-8")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


def _checked_outputs(path: Path, rules: list[tuple[re.Pattern[str], str]]) -> list[list[tuple[str, str]]]:
    """Per code cell tagged ``nbval-check-output``: its outputs as (kind, sanitised text), streams merged."""
    import nbformat

    def clean(text: str) -> str:
        for pattern, replacement in rules:
            text = pattern.sub(replacement, text)
        return text

    cells = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or "nbval-check-output" not in cell.metadata.get("tags", []):
            continue
        outputs = []
        for out in merge_streams([dict(o) for o in cell.outputs]):
            if out["output_type"] == "stream":
                outputs.append((out["name"], clean("".join(out["text"]))))
            elif out["output_type"] == "error":
                outputs.append(("error", out["ename"]))
            else:
                outputs.append(("data", clean("".join(out.get("data", {}).get("text/plain", "")))))
        cells.append(outputs)
    return cells


def test_committed_notebooks_match_their_fresh_execution_by_the_job(main_job: JobRun):
    """What nbval --nbval-lax checks, on the executions the job made anyway: every cell tagged
    ``nbval-check-output`` in a committed notebook prints what executing it on the store prints now."""
    rules = _sanitizers()
    committed_dir = paths.notebooks_dir()
    for stem in _notebook_stems(main_job.root):
        executed = main_job.root / "reports" / "notebooks" / "executed" / f"{stem}.ipynb"
        committed = committed_dir / f"{stem}.ipynb"
        assert committed.read_bytes() != b"" and executed.exists(), stem
        assert _checked_outputs(executed, rules) == _checked_outputs(committed, rules), (
            f"notebooks/{stem}.ipynb: checked outputs differ from a fresh execution; run `make notebooks`")
