"""``build_reports``: headline charts, chart pack, country profiles and gallery, redone only when stale."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl

from analysis.core import atomic, paths
from analysis.core.fingerprint import fingerprint
from analysis.presentation import charts, workbook
from analysis.presentation.datapackage import write_data_package
from analysis.presentation.gallery import PACK_SUBDIR, project_title_version, write_gallery
from analysis.presentation.report.context import ReportContext, Skip, make_context
from analysis.presentation.report.front import key_message_pages
from analysis.presentation.report.pack import write_chart_pack
from analysis.presentation.report.profile_pages import write_profiles
from analysis.presentation.report.profiles import profile_table
from analysis.presentation.report.specs import HEADLINE_CHARTS, draw, profile_groups, validate_specs
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
    workbook: Path | None = None
    workbook_sheets: int = 0
    data_package: Path | None = None

    def summary(self) -> str:
        if self.skipped_unchanged:
            return ("reports are up to date (store and report code unchanged); use --force to rebuild. "
                    f"See {self._shown(self.index)}")
        lines = [f"{len(self.charts)} headline charts exported into reports/figures/{PACK_SUBDIR}/",
                 f"chart pack: {self._shown(self.pack)} ({self.pack_pages} pages)",
                 f"country profiles: {len(self.profiles)} in reports/profiles/",
                 f"workbook: {self._shown(self.workbook)} ({self.workbook_sheets} sheets)",
                 f"data download: {self._shown(self.data_package)} with the store's tables",
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
    outputs_exist = all((reports / f).exists() for f in (PACK_FILE, INDEX_FILE, workbook.WORKBOOK_FILE))
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


def _profile_sheets(ctx: ReportContext, countries: list[str] | None, taken: set[str]) -> list[workbook.Sheet]:
    """One workbook sheet per country profile: the profile's indicator table."""
    wanted = [i for ids in profile_groups().values() for i in ids if i in ctx.store_ids]
    if not wanted or (countries is not None and not countries):
        return []
    latest, _ = ctx.latest(wanted)
    codes = countries if countries is not None else api.members("FOCUS", processed_dir=ctx.processed_dir)
    names = api.country_names(codes, processed_dir=ctx.processed_dir)
    return [workbook.profile_sheet(iso3, names.get(iso3, iso3), profile_table(latest, ctx, iso3), taken)
            for iso3 in codes]


def _write_workbook(reports: Path, names: list[str], ctx: ReportContext, countries: list[str] | None,
                    result: ReportResult) -> None:
    taken = {workbook.INDEX_SHEET, workbook.SOURCES_SHEET}
    pack = reports / "figures" / PACK_SUBDIR
    sheets = [workbook.chart_sheet(pack / f"{name}.csv", k, taken) for k, name in enumerate(names, start=1)]
    sheets += _profile_sheets(ctx, countries, taken)
    result.workbook = workbook.write_workbook(reports / workbook.WORKBOOK_FILE, sheets)
    result.workbook_sheets = len(sheets) + 2


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
    for _, chart in drawn:
        chart.close()  # the pack places the saved PDFs: the figures are not drawn again
    result.pack = reports / PACK_FILE
    pdfs = [reports / "figures" / PACK_SUBDIR / f"{name}.pdf" for name in result.charts]
    result.pack_pages = write_chart_pack(drawn, pdfs, result.pack, front=key_message_pages(ctx))
    result.profiles = write_profiles(ctx, reports / "profiles", profiles)
    _write_workbook(reports, result.charts, ctx, profiles, result)
    title, version = project_title_version()
    result.data_package = write_data_package(reports, processed_dir=ctx.processed_dir, title=title,
                                             version=version).descriptor
    result.index, result.gallery_charts = write_gallery(reports)
    atomic.write_text(reports / STATE_FILE, json.dumps(state, indent=2, sort_keys=True) + "\n")
    return result
