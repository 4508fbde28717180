"""``build_reports``: headline charts, chart pack, country profiles and gallery, redone only when stale."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl

from analysis.core import atomic, paths
from analysis.core.fingerprint import fingerprint
from analysis.presentation import charts
from analysis.presentation.gallery import PACK_SUBDIR, write_gallery
from analysis.presentation.report.context import ReportContext, Skip, make_context
from analysis.presentation.report.pack import write_chart_pack
from analysis.presentation.report.profiles import write_profiles
from analysis.presentation.report.specs import HEADLINE_CHARTS, draw, validate_specs
from analysis.store import api

STATE_FILE = ".report-state.json"
PACK_FILE = "chart-pack.pdf"
INDEX_FILE = "index.html"


@dataclass
class ReportResult:
    """What ``build_reports`` did."""

    skipped_unchanged: bool = False
    charts: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    pack: Path | None = None
    pack_pages: int = 0
    profiles: list[Path] = field(default_factory=list)
    index: Path | None = None
    gallery_charts: int = 0

    def summary(self) -> str:
        if self.skipped_unchanged:
            return ("reports are up to date (store and report code unchanged); use --force to rebuild. "
                    f"See {self._shown(self.index)}")
        lines = [f"{len(self.charts)} headline charts exported into reports/figures/{PACK_SUBDIR}/",
                 f"chart pack: {self._shown(self.pack)} ({self.pack_pages} pages)",
                 f"country profiles: {len(self.profiles)} in reports/profiles/",
                 f"gallery: {self._shown(self.index)} ({self.gallery_charts} charts found under reports/figures/)"]
        lines += [f"skipped {name}: {reason}" for name, reason in self.skipped]
        return "\n".join(lines)

    @staticmethod
    def _shown(path: Path | None) -> str:
        return paths.relative_to_root(path) if path else "-"


def _fingerprint(processed_dir: Path | None) -> str:
    """The report's freshness: the store (its manifest covers inputs, catalogue, registry and
    references), the package code and the plotting library's version."""
    return fingerprint({"store": api.store_fingerprint(processed_dir)}, {"matplotlib": mpl.__version__})


def _up_to_date(reports: Path, state: dict) -> bool:
    outputs_exist = (reports / PACK_FILE).exists() and (reports / INDEX_FILE).exists()
    state_path = reports / STATE_FILE
    if not (outputs_exist and state_path.exists()):
        return False
    try:
        return json.loads(state_path.read_text(encoding="utf-8")) == state
    except json.JSONDecodeError:
        return False


def _draw_and_export(specs: Sequence[dict], ctx: ReportContext, figures: Path, result: ReportResult,
                     progress: Callable[[str], None] | None) -> list[tuple[dict, charts.Chart]]:
    """Draw every spec, export each chart into figures/pack/ and list what was skipped and why."""
    drawn: list[tuple[dict, charts.Chart]] = []
    for k, spec in enumerate(specs, start=1):
        try:
            chart = draw(spec, ctx)
        except (Skip, charts.ChartDataError) as exc:
            result.skipped.append((spec["name"], str(exc)))
            continue
        name = f"{k:02d}-{spec['name']}"
        charts.save(chart, name, PACK_SUBDIR, root=figures)
        drawn.append((spec, chart))
        result.charts.append(name)
        if progress:
            progress(name)
    return drawn


def build_reports(force: bool = False, *, processed_dir: Path | None = None, reports_dir: Path | None = None,
                  charts: Sequence[dict] | None = None, profiles: list[str] | None = None,
                  progress: Callable[[str], None] | None = None) -> ReportResult:
    """Draw and export the headline charts, the chart pack, the country profiles and the gallery.

    ``processed_dir`` / ``reports_dir`` default to the project's ``data/processed`` and ``reports``;
    ``charts`` (specs like ``HEADLINE_CHARTS``) and ``profiles`` (ISO3 codes; default every focus
    country) are for tests. The specs are checked against the catalogue first: an unknown indicator
    or kind raises ChartSpecError before anything is written. Unless ``force``, nothing is redone
    when the store and the report code are unchanged since the last run.
    """
    specs = tuple(charts) if charts is not None else HEADLINE_CHARTS
    validate_specs(specs)
    reports = Path(reports_dir) if reports_dir is not None else paths.reports_dir()
    state = {"fingerprint": _fingerprint(processed_dir)}
    if not force and _up_to_date(reports, state):
        return ReportResult(skipped_unchanged=True, index=reports / INDEX_FILE)
    ctx = make_context(processed_dir)
    result = ReportResult()
    drawn = _draw_and_export(specs, ctx, reports / "figures", result, progress)
    result.pack = reports / PACK_FILE
    result.pack_pages = write_chart_pack(drawn, result.pack)
    for _, chart in drawn:
        chart.close()
    result.profiles = write_profiles(ctx, reports / "profiles", profiles)
    result.index, result.gallery_charts = write_gallery(reports)
    atomic.write_text(reports / STATE_FILE, json.dumps(state, indent=2, sort_keys=True) + "\n")
    return result
