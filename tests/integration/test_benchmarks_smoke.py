"""The benchmark script on a tiny SYNTHETIC project: it runs, and RESULTS.md has every section.

Benchmarks are not timed tests: nothing here compares a duration with a threshold. The quick mode
(one run per figure, growth factor 2) runs the real build, fetch, panel and per-chart code in child
processes on the synthetic project of conftest.py (with the repository's reference tables, which the
charts read); the steps that need the real repository and data (the report, notebooks, the main job
and the fresh install on a clean checkout) are skipped here and run by `make bench`.
"""

from __future__ import annotations

import json
import shutil
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import make_synthetic_project

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks import growth, run  # noqa: E402
from benchmarks.procs import run_measured  # noqa: E402

MEASURED = ("fetch", "build", "floor", "panel", "charts", "growth")
SKIPPED = ("report", "notebooks", "main-job", "fresh-install")


def add_reference_tables(references: Path) -> None:
    """The meeting tables the report context reads, as committed; the country events only as a header
    (the committed events name real economies, which the synthetic store does not have)."""
    for table in (REPO / "data" / "raw" / "references").glob("*.csv"):
        target = references / table.name
        if target.exists():
            continue
        text = table.read_text(encoding="utf-8")
        if table.name == "events.csv":
            text = text.splitlines(keepends=True)[0]
        target.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick benchmark run on the synthetic project; returns (results text, figures, project root)."""
    tmp = tmp_path_factory.mktemp("bench")
    project = make_synthetic_project(tmp / "project")
    add_reference_tables(project.raw_dir / "references")
    mirror = tmp / "mirror"
    shutil.copytree(project.raw_dir, mirror)
    results = tmp / "RESULTS.md"
    # A previous results file whose hand-written findings must survive the rewrite.
    results.write_text(f"old\n{run.FINDINGS_START}\nSYNTHETIC FINDING: kept\n{run.FINDINGS_END}\n", encoding="utf-8")
    figures = tmp / "figures.json"
    code = run.main(["--quick", "--root", str(project.root), "--src", str(REPO / "src"), "--mirror", str(mirror),
                     "--work", str(tmp / "work"), "--results", str(results), "--json", str(figures),
                     "--skip", ",".join(SKIPPED), "--no-profile", "--keep-work"])
    assert code == 0
    return results.read_text(encoding="utf-8"), json.loads(figures.read_text()), project.root, tmp / "work"


def test_report_has_every_section(quick_run):
    text, data, _, _ = quick_run
    for heading in ("## Machine", "## Targets", "## Figures", "## Growth", "## Profiles", "## Findings"):
        assert heading in text
    for step in run.STEPS:
        if step != "growth":
            assert f"### {run.STEP_TITLES[step]}" in text
    assert data["sections"] == {**{s: "measured" for s in MEASURED}, **{s: "skipped" for s in SKIPPED}}
    assert "SYNTHETIC FINDING: kept" in text and text.count(run.FINDINGS_START) == 1
    assert "| CPU |" in text and "| pyarrow |" in text


def test_measured_figures_and_targets(quick_run):
    text, data, root, _ = quick_run
    figures = data["figures"]
    for key in ("fetch_noop", "build", "floor", "build_ratio", "panel", "build_peak_mb"):
        assert figures[key] > 0, key
    recorded = {t["name"] for t in data["targets"] if t["recorded"]}
    judged = {t["name"] for t in data["targets"] if not t["recorded"]}
    # Issue 12 made these figures without a verdict; its own targets are the only verdicts.
    assert {"build / parse floor", "panel load (warm, in-process)", "peak memory of the build",
            "fetch with valid data/raw/ is a no-op"} <= recorded
    assert {"cost per published chart (CPU, median over charts)", "growth: cost linear in input rows (economies)",
            "growth: peak memory per input row at economies ×8"} <= judged
    noop = next(t for t in data["targets"] if t["name"].startswith("fetch"))
    assert noop["met"] is True  # the raw tree was valid, so fetch must not have touched it
    assert str(root) not in text  # no machine paths in the report
    assert "## Recorded figures" in text and "Load average (1/5/15 min) at the start / end of this step" in text


def test_charts_step_measures_each_drawable_chart(quick_run):
    """The synthetic store holds the data of a few headline charts: each is drawn and saved in every
    format, the others are listed as skipped with the report's reason."""
    text, data, _, _ = quick_run
    figures = data["figures"]
    costs = figures["chart_costs"]
    assert figures["charts_drawn"] == len(costs) > 0
    for c in costs:
        assert c["cpu"] > 0 and c["cpu"] >= c["draw_cpu"] and {"png", "svg", "pdf", "csv", "json"} <= set(c["formats"])
    assert [c["cpu"] for c in costs] == sorted((c["cpu"] for c in costs), reverse=True)
    assert figures["chart_cpu_median"] <= figures["chart_cpu_p90"] <= figures["chart_cpu_max"]
    part = text.split(f"### {run.STEP_TITLES['charts']}", 1)[1].split("### ", 1)[0]
    assert "Slowest charts" in part and "Skipped (" in part and "indicator(s) not in the store" in part


def test_growth_targets_need_the_economies_curve(quick_run):
    """The quick run grows economies and indicators together (x2): the economies x8 targets are
    reported as not measured, and the growth section says how to measure them."""
    text, data, _, _ = quick_run
    growth_targets = [t for t in data["targets"] if t["name"].startswith("growth:")]
    assert len(growth_targets) == 2 and all(t["met"] is None for t in growth_targets)
    assert "Growth targets: not measured" in text


def test_fresh_install_reports_why_it_was_not_run():
    args = run.parse_args(["--quick", "--skip", "main-job"])
    b = run.Bench(args=args, root=REPO, src=REPO / "src", mirror=REPO, work=REPO, python=sys.executable)
    section = run.step_fresh_install(b)
    assert section.status == "not run" and "main job" in section.reason
    assert b.targets[0].recorded and b.targets[0].met is None


def test_build_phases_follow_the_build_code(quick_run):
    """The per-phase breakdown wraps build functions by name; a renamed or moved one would silently
    fold into "other", so every phase of the assemble step must have been timed."""
    _, data, _, _ = quick_run
    phases = {p["phase"]: p for p in data["figures"]["build_phases"]}
    for phase in ("countries table", "select series", "map codes to ISO3", "derive", "latest values",
                  "group aggregates"):
        assert phase in phases and phases[phase]["seconds"] > 0, phase


def test_growth_scales_the_store(quick_run):
    _, data, _, _ = quick_run
    base, scaled = data["figures"]["growth"]
    assert (base["k"], base["m"], scaled["k"], scaled["m"]) == (1, 1, 2, 2)
    assert base["status"] == scaled["status"] == "ok"
    # Twice the economies and twice the indicators: every stored (economy, indicator, year) four times.
    assert scaled["rows_out"] == 4 * base["rows_out"]
    assert scaled["economies"] == 2 * base["economies"]
    assert scaled["indicators"] == 2 * base["indicators"]
    assert 2 * base["rows_in"] < scaled["rows_in"] <= 4 * base["rows_in"]  # source aggregates are not repeated
    # The fit is reported, not judged: its sign depends on timings, which a test must not assert.
    fit = data["figures"]["growth_fit"]
    assert {"slope_us_per_row", "r2"} <= set(fit) and all(isinstance(fit[k], float) for k in ("slope_us_per_row", "r2"))


def test_growth_section_reports_linearity(quick_run):
    text, _, _, _ = quick_run
    growth_part = text.split("## Growth", 1)[1].split("## Profiles", 1)[0]
    assert "µs / input row" in growth_part and "**Linearity**" in growth_part and "R² =" in growth_part
    assert "economies ×2, indicators ×2" in growth_part


def test_scaled_project_is_consistent(quick_run):
    """The generated registry pins the generated files, and synthetic codes collide with nothing real."""
    _, _, root, work = quick_run
    scaled_root = work / "growth" / "e2-i2"
    registry = tomllib.loads((scaled_root / "data" / "sources.toml").read_text())
    for entry in registry["file"]:
        assert growth.sha256_file(scaled_root / "data" / "raw" / entry["path"]) == entry["sha256"], entry["id"]
    original = tomllib.loads((root / "data" / "sources.toml").read_text())
    copies = [f for f in registry["file"] if "@x1" in f["id"]]
    assert copies and all(f["path"].startswith("synthetic-x1/") for f in copies)
    assert len(registry["file"]) == len(original["file"]) + len(copies)
    clones = growth.make_clones(root)
    clones.allocate(2)
    new_codes = {clones.code(e, 1) for e in clones.economies}
    assert len(new_codes) == len(clones.economies) and not new_codes & clones.used_codes


def test_linear_fit_recovers_a_line():
    fit = growth.linear_fit([1, 2, 3, 4], [3.5, 5.5, 7.5, 9.5])
    assert fit.slope == pytest.approx(2.0) and fit.intercept == pytest.approx(1.5) and fit.r2 == pytest.approx(1.0)
    noisy = growth.linear_fit([1, 2, 3, 4], [1.0, 3.0, 2.0, 4.0])
    assert noisy.r2 < 1.0
    with pytest.raises(ValueError):
        growth.linear_fit([1, 1], [2, 3])


def test_toml_writer_round_trips():
    doc = {"indicator": [{"id": "a_x1", "bounds": [0, 100.5], "select": {"sex": "f", "age": ["65_69", "70_74"]},
                          "derive": {"method": "ratio", "of": ["b", "c"], "scale": 100}, "note": 'quote " and é',
                          "high": float("inf"), "flag": True}]}
    assert tomllib.loads(growth.dump_toml(doc)) == doc


def test_run_measured_reports_status_memory_and_result():
    code = "import sys; print('BENCH_RESULT {\"seconds\": 0.5}'); sys.exit(3)"
    m = run_measured([sys.executable, "-c", code])
    assert m.returncode == 3 and not m.ok and "exit status 3" in m.failure()
    assert m.result == {"seconds": 0.5}
    assert m.maxrss_mb > 0 and m.wall > 0


def test_economies_curve_judges_memory_per_row_and_linearity():
    def point(mode, k, rows, seconds, mb):
        return {"mode": mode, "k": k, "m": 1, "status": "ok", "rows_in": rows, "seconds": seconds,
                "maxrss_mb": mb, "tree_mb": mb / 2}

    points = [point("baseline", 1, 1_000, 1.0, 100), point("economies", 2, 2_000, 2.0, 150),
              point("economies", 8, 8_000, 8.0, 400), point("indicators", 8, 8_000, 30.0, 900),
              {"mode": "economies", "k": 4, "status": "not run"}]
    curve = growth.economies_curve(points, 8)
    assert curve.points == 3  # the other mode and the scale that did not run are left out
    assert curve.bytes_per_row == pytest.approx(400 * 2**20 / 8_000)
    assert curve.r2 == pytest.approx(1.0) and curve.us_ratio == pytest.approx(1.0)
    missing = growth.economies_curve(points[:2], 8)
    assert missing.bytes_per_row is None and missing.us_ratio is None and missing.r2 is None


def test_growth_memory_target_is_half_of_the_issue_baseline():
    per_row = run.GROWTH_BASELINE_PEAK_MB * 2**20 / run.GROWTH_BASELINE_INPUT_ROWS
    assert pytest.approx(per_row / 2) == run.TARGET_GROWTH_BYTES_PER_ROW


def test_chart_costs_take_each_charts_median_and_sort_slowest_first():
    def chart(name, cpu):
        return {"name": name, "kind": "lines", "cpu": cpu, "draw_cpu": cpu / 2, "save_cpu": cpu / 2,
                "formats": ["png"]}

    runs = [{"charts": [chart("a", 0.1), chart("b", 0.5)]}, {"charts": [chart("a", 0.3), chart("b", 0.4)]},
            {"charts": [chart("a", 0.2), chart("b", 0.9)]}]
    costs = run.chart_costs(runs)
    assert [(c["name"], c["cpu"], c["runs"]) for c in costs] == [("b", 0.5, 3), ("a", 0.2, 3)]
    assert run.percentile([1, 2, 3, 4, 5], 0.9) == pytest.approx(4.6)
    assert run.percentile([7], 0.9) == 7


def test_step_times_read_the_jobs_summary_lines():
    out = "[fetch] done in 0.1 s: 105 files valid\nnoise\n[report] done in 41.5 s: 36 charts; 14 profiles\n"
    assert run._step_times(out) == {"fetch": 0.1, "report": 41.5}


def test_recorded_figures_have_no_verdict():
    assert run.Target("x", "≤ 1 s", "2 s", False, recorded=True).row()[-1] == "recorded (above)"
    assert run.Target("x", "≤ 1 s", "2 s", False).row()[-1] == "**missed**"
