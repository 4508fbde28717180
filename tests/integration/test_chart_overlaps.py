"""No chart the main job publishes has overlapping text or text leaving the figure, and each states its
licences: read from the layout check every chart's JSON recorded when it was saved (charts.save), without
drawing anything again."""

from __future__ import annotations

import json
from pathlib import Path

from conftest_job import JobRun

# the session's one run of the real main job (the fixture ``main_job``)
pytest_plugins = ["conftest_job"]


def chart_metadata(figures: Path) -> dict[str, dict]:
    """Every chart JSON under ``figures`` (relative path -> metadata); other JSON files are skipped."""
    out = {}
    for path in sorted(figures.rglob("*.json")):
        meta = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(meta, dict) and "kind" in meta and "files" in meta:
            out[path.relative_to(figures).as_posix()] = meta
    return out


def layout_problems(metas: dict[str, dict]) -> list[str]:
    """One line per chart without a recorded layout, per recorded overlap and per text outside the figure."""
    problems = []
    for name, meta in metas.items():
        layout = meta.get("layout")
        if layout is None:
            problems.append(f"{name}: no layout recorded (saved without charts.save?)")
            continue
        problems += [f"{name}: {o['a']} overlaps {o['b']} by {o['depth_px']} px" for o in layout["overlaps"]]
        problems += [f"{name}: {o['text']} leaves the figure by {o['beyond_px']} px" for o in layout["outside"]]
    return problems


def licence_problems(metas: dict[str, dict]) -> list[str]:
    """Charts whose registry sources have no licence in the JSON, or whose footer does not state it."""
    problems = []
    for name, meta in metas.items():
        registered = [s["id"] for s in meta.get("sources", []) if "licence" in s]
        if not registered:
            continue
        licences = {entry["licence"] for entry in meta.get("licences", [])}
        wanted = {s["licence"] for s in meta["sources"] if "licence" in s}
        if not wanted <= licences:
            problems.append(f"{name}: licences {sorted(licences)} miss {sorted(wanted - licences)}")
        lines = [line for line in meta.get("footer", []) if line.startswith("Licence: ")]
        if len(lines) != 1 or not all(lic in lines[0] for lic in wanted):
            problems.append(f"{name}: footer licence line {lines} does not state {sorted(wanted)}")
    return problems


def test_the_checks_fail_on_a_recorded_overlap(tmp_path):
    # a synthetic chart JSON as charts.save writes it, with one overlap and one text outside
    meta = {"kind": "synthetic", "files": {}, "footer": ["Licence: Synthetic licence."],
            "sources": [{"id": "synthetic", "licence": "Synthetic licence"}],
            "licences": [{"licence": "Synthetic licence", "sources": ["synthetic"]}],
            "layout": {"overlaps": [{"a": "'12.0'", "b": "line (aggregate)", "depth_px": 2.5}],
                       "outside": [{"text": "'key entry'", "beyond_px": 14.5}]}}
    (tmp_path / "synthetic.json").write_text(json.dumps(meta))
    (tmp_path / "unrelated.json").write_text(json.dumps({"not": "a chart"}))
    metas = chart_metadata(tmp_path)
    assert list(metas) == ["synthetic.json"]
    assert len(layout_problems(metas)) == 2
    assert licence_problems(metas) == []
    meta["footer"] = []
    (tmp_path / "synthetic.json").write_text(json.dumps(meta))
    assert licence_problems(chart_metadata(tmp_path))


def _published_charts(main_job: JobRun) -> dict[str, dict]:
    assert main_job.returncode == 0, main_job.output[-3000:]
    metas = chart_metadata(main_job.root / "reports" / "figures")
    assert metas, "the main job published no chart JSON"
    return metas


def test_no_published_chart_has_overlapping_or_escaping_text(main_job: JobRun):
    problems = layout_problems(_published_charts(main_job))
    assert not problems, "\n".join(problems)


def test_every_published_chart_states_its_licences(main_job: JobRun):
    problems = licence_problems(_published_charts(main_job))
    assert not problems, "\n".join(problems)
