"""The report's tasks on several processes (analysis.presentation.report.parallel) in a SYNTHETIC project:
the same files, results and errors as a sequential run.

The synthetic store has no profile indicators, messages or published aggregates, so the profile indicators,
the country context, the key messages and the data download are stood in for by synthetic ones; the charts,
the profiles' tables and pages, the pack, the workbook and the gallery are the real code.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from analysis.presentation import report
from analysis.presentation.report import build, parallel, profiles
from analysis.presentation.report.context import Skip
from analysis.store import standing
from charts_synthetic import synthetic_project_fixture

synthetic_project = synthetic_project_fixture()

SPECS = (dict(name="syn-pension", group="older_persons", kind="ranked_bars", indicators=["sp_cov_pension"]),
         dict(name="syn-u5", group="children", kind="lines", indicators=["under5_mortality"], start=2010),
         dict(name="syn-u5-panels", group="children", kind="small_multiples", indicators=["under5_mortality"],
              start=2010),
         dict(name="syn-health", group="whole_population", kind="stacked_bars",
              indicators=["gov_share_che", "oop_share_che"]))
PROFILES = ["THA", "JPN", "LAO"]


def _synthetic_data_package(reports: Path, **_) -> SimpleNamespace:
    folder = reports / "data"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "datapackage.json").write_text('{"name": "synthetic"}\n', encoding="utf-8")
    return SimpleNamespace(descriptor=folder / "datapackage.json")


@pytest.fixture
def synthetic_report(monkeypatch):
    """What the synthetic store cannot give, stood in for (inherited by forked workers)."""
    monkeypatch.setattr(profiles, "profile_groups", lambda: {"older_persons": ("sp_cov_pension",),
                                                             "children": ("under5_mortality",)})
    monkeypatch.setattr(profiles, "country_messages", lambda iso3, processed_dir=None: [])
    monkeypatch.setattr(standing, "country_context", lambda iso3, processed_dir=None, latest=None: SimpleNamespace(
        name=f"Synthetic {iso3}", line=lambda: "Synthetic context line."))
    monkeypatch.setattr(build, "key_message_pages", lambda ctx: [])
    monkeypatch.setattr(build, "write_data_package", _synthetic_data_package)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _shown(result: report.ReportResult, root: Path) -> tuple:
    return (result.charts, result.skipped, result.pack_pages, result.workbook_sheets, result.gallery_charts,
            [p.relative_to(root) for p in result.profiles])


def test_two_processes_write_the_bytes_of_one(synthetic_report, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    first = report.build_reports(reports_dir=one, charts=SPECS, profiles=PROFILES, jobs=1)
    second = report.build_reports(reports_dir=two, charts=SPECS, profiles=PROFILES, jobs=2)
    assert _shown(first, one) == _shown(second, two)
    assert len(first.charts) == len(SPECS) and len(first.profiles) == len(PROFILES)
    files = _files(one)
    assert any(name.startswith("profiles/") for name in files) and "chart-pack.pdf" in files
    assert files == _files(two)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_skipped_chart_is_listed_and_keeps_the_numbering(synthetic_report, monkeypatch, tmp_path, jobs):
    real_draw = build.draw

    def draw(spec, ctx):
        if spec["name"] == "syn-u5":
            raise Skip("synthetic reason")
        return real_draw(spec, ctx)

    monkeypatch.setattr(build, "draw", draw)
    result = report.build_reports(reports_dir=tmp_path, charts=SPECS[:3], profiles=[], jobs=jobs)
    assert result.skipped == [("syn-u5", "synthetic reason")]
    assert result.charts == ["01-syn-pension", "03-syn-u5-panels"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_chart_raises_its_own_error(synthetic_report, monkeypatch, tmp_path, jobs):
    def draw(spec, ctx):
        raise ValueError(f"synthetic failure drawing {spec['name']}")

    monkeypatch.setattr(build, "draw", draw)
    with pytest.raises(ValueError, match="synthetic failure drawing syn-pension"):
        report.build_reports(reports_dir=tmp_path, charts=SPECS[:2], profiles=[], jobs=jobs)
    assert not (tmp_path / "chart-pack.pdf").exists()


def test_results_come_back_in_the_order_of_the_tasks():
    tasks = list(range(12))
    with parallel.ordered_results(lambda k: (k, k * k), tasks, 2) as results:
        assert list(results) == [(k, k * k) for k in tasks]
    with parallel.ordered_results(lambda k: (k, k * k), tasks, 1) as results:
        assert list(results) == [(k, k * k) for k in tasks]


def test_the_default_is_one_worker_per_usable_core():
    from analysis.presentation.notebook_runner import default_jobs

    assert parallel.jobs_or_default(None) == default_jobs()
    assert parallel.jobs_or_default(0) == 1 and parallel.jobs_or_default(3) == 3


def test_tasks_start_in_the_given_order_and_results_still_come_in_task_order():
    tasks = list(range(8))
    assert parallel.start_order(tasks, lambda k: -k) == [7, 6, 5, 4, 3, 2, 1, 0]
    assert parallel.start_order(tasks, lambda k: k % 2) == [0, 2, 4, 6, 1, 3, 5, 7]  # ties keep their order
    assert parallel.start_order(tasks, None) == tasks
    with parallel.ordered_results(lambda k: k * 10, tasks, 2, first=lambda k: -k) as results:
        assert list(results) == [k * 10 for k in tasks]


def test_the_workers_take_the_data_download_then_the_heavy_charts_then_the_profiles():
    tasks = ([("chart", (k, spec)) for k, spec in enumerate(SPECS, start=1)] + [("profile", iso3) for iso3 in PROFILES]
             + [("data_package", None)])
    started = [tasks[k] for k in parallel.start_order(tasks, build._start_key)]
    assert started[0] == ("data_package", None)
    charts = [arg[1]["kind"] for kind, arg in started if kind == "chart"]
    assert charts == ["lines", "small_multiples", "ranked_bars", "stacked_bars"]  # heavy kinds first, else as given
    assert [arg for kind, arg in started[-len(PROFILES):]] == PROFILES
