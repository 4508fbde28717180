"""``build_reports``: headline charts, chart pack, country profiles and gallery, redone only when stale."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis.core import atomic, paths
from analysis.presentation import charts, workbook
from analysis.presentation.charts import pdf_fonts, style
from analysis.presentation.datapackage import write_data_package
from analysis.presentation.gallery import PACK_SUBDIR, project_title_version, thumbnail, write_gallery
from analysis.presentation.report import pages, parallel
from analysis.presentation.report import profile_pages as _profiles
from analysis.presentation.report.context import ReportContext, Skip, make_context
from analysis.presentation.report.front import key_message_pages
from analysis.presentation.report.pack import write_chart_pack
from analysis.presentation.report.profiles import CountryNote
from analysis.presentation.report.specs import HEADLINE_CHARTS, draw, validate_specs
from analysis.presentation.report_freshness import INDEX_FILE, PACK_FILE, STATE_FILE, is_up_to_date, report_state


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


@dataclass(frozen=True)
class DrawnChart:
    """What the chart pack needs of a drawn chart once its figure is saved and released: its title and the
    sources (dataset id -> vintages) the cover lists."""

    title: str
    sources: dict[str, list[str]]


@dataclass(frozen=True)
class _ChartDone:
    spec: dict
    name: str = ""
    chart: DrawnChart | None = None
    skipped: str = ""  # why the chart could not be drawn from this store


class _Tasks:
    """The report's independent tasks, run by :func:`parallel.ordered_results` in this process or in forked
    workers: a chart (draw, export, release), a country profile, or the data download."""

    def __init__(self, ctx: ReportContext, reports: Path, profiles: _profiles.ProfileWriter | None) -> None:
        self.ctx, self.reports, self.profiles = ctx, reports, profiles

    def __call__(self, task: tuple):
        kind, arg = task
        if kind == "chart":
            return self.chart(*arg)
        if kind == "profile":
            return self.profiles(arg)
        return self.data_package()

    def chart(self, k: int, spec: dict) -> _ChartDone:
        try:
            chart = draw(spec, self.ctx)
        except (Skip, charts.ChartDataError) as exc:
            return _ChartDone(spec, skipped=str(exc))
        name = f"{k:02d}-{spec['name']}"
        charts.save(chart, name, PACK_SUBDIR, root=self.reports / "figures")
        chart.close()  # the pack places the saved PDF: the figure is not drawn again
        thumbnail(self.reports, Path("figures") / PACK_SUBDIR / name)  # for the gallery, here on both cores
        return _ChartDone(spec, name, DrawnChart(title=chart.title, sources=chart.sources))

    def data_package(self):
        title, version = project_title_version()
        return write_data_package(self.reports, processed_dir=self.ctx.processed_dir, title=title,
                                  version=version).descriptor


#: Chart kinds that draw many panels, cells or series: two to four times a bar chart's cost (benchmarks/
#: RESULTS.md, slowest charts), so the workers take them first.
HEAVY_KINDS = frozenset({"heatmap", "small_multiples", "lines", "intervals"})


def _start_key(task: tuple) -> tuple[int, int]:
    """The order the workers take the tasks in: the data download (the largest single task) first, then the
    charts, heavy kinds first, then the profiles. Big tasks first let both workers finish together; the
    charts before the profiles let this process write the pack while the workers draw the profiles (only
    the workbook needs the profiles' notes)."""
    kind, arg = task
    if kind == "data_package":
        return (0, 0)
    if kind == "chart":
        return (1, 0 if arg[1]["kind"] in HEAVY_KINDS else 1)
    return (2, 0)


def _write_pack(reports: Path, drawn: list[tuple[dict, DrawnChart]], front: tuple, result: ReportResult) -> None:
    """``front``: the key-message pages and the themes page's lines, made while the workers drew the charts."""
    result.pack = reports / PACK_FILE
    pdfs = [reports / "figures" / PACK_SUBDIR / f"{name}.pdf" for name in result.charts]
    messages, themes = front
    result.pack_pages = write_chart_pack(drawn, pdfs, result.pack, front=messages, themes=themes)


def _write_workbook(reports: Path, names: list[str], countries: list[str] | None, notes: dict[str, CountryNote],
                    result: ReportResult) -> None:
    """The workbook: a sheet per chart (its CSV) and per country profile (the rows the profile drew), the
    profiles in the order asked for, else alphabetical (the members' order)."""
    taken = {workbook.INDEX_SHEET, workbook.SOURCES_SHEET}
    pack = reports / "figures" / PACK_SUBDIR
    sheets = [workbook.chart_sheet(pack / f"{name}.csv", k, taken) for k, name in enumerate(names, start=1)]
    order = countries if countries is not None else sorted(notes)
    sheets += [workbook.profile_sheet(iso3, notes[iso3].name, notes[iso3].rows, taken) for iso3 in order]
    result.workbook = workbook.write_workbook(reports / workbook.WORKBOOK_FILE, sheets)
    result.workbook_sheets = len(sheets) + 2


def _collect_charts(done: Sequence[_ChartDone], result: ReportResult,
                    progress: Callable[[str], None] | None) -> list[tuple[dict, DrawnChart]]:
    drawn = []
    for item in done:
        if item.chart is None:
            result.skipped.append((item.spec["name"], item.skipped))
            continue
        drawn.append((item.spec, item.chart))
        result.charts.append(item.name)
        if progress:
            progress(item.name)
    return drawn


def build_reports(force: bool = False, *, processed_dir: Path | None = None, reports_dir: Path | None = None,
                  charts: Sequence[dict] | None = None, profiles: list[str] | None = None,
                  progress: Callable[[str], None] | None = None, jobs: int | None = None) -> ReportResult:
    """Draw and export the headline charts, the chart pack, the country profiles and the gallery.

    ``processed_dir`` / ``reports_dir`` default to the project's ``data/processed`` and ``reports``;
    ``charts`` (specs like ``HEADLINE_CHARTS``) and ``profiles`` (ISO3 codes; default every focus
    country) are for tests. The specs are checked against the catalogue first: an unknown indicator
    or kind raises ChartSpecError before anything is written. Unless ``force``, nothing is redone
    when the store and the report code are unchanged since the last run. The charts, profiles and the
    data download run on ``jobs`` processes (default: one per usable core; 1: all in this process),
    with the same files as a sequential run.
    """
    specs = tuple(charts) if charts is not None else HEADLINE_CHARTS
    validate_specs(specs)
    reports = Path(reports_dir) if reports_dir is not None else paths.reports_dir()
    state = report_state(processed_dir)
    if not force and is_up_to_date(reports, state):
        return ReportResult(skipped_unchanged=True, index=reports / INDEX_FILE)
    ctx = make_context(processed_dir)
    result = ReportResult()
    codes = _profiles.profile_codes(profiles)
    # made before the workers start, so that they inherit what every profile shares, and the reduced
    # font copies every PDF subsets (made once here, not in each worker and again for the pack)
    writer = _profiles.ProfileWriter(ctx, reports / "profiles", codes) if codes else None
    with style.styled():
        pdf_fonts.prepare()
    tasks = ([("chart", (k, spec)) for k, spec in enumerate(specs, start=1)]
             + [("profile", iso3) for iso3 in codes] + [("data_package", None)])
    with parallel.ordered_results(_Tasks(ctx, reports, writer), tasks, parallel.jobs_or_default(jobs),
                                  first=_start_key) as done:
        # this process works while the workers do: the key messages and the themes page during the charts,
        # then (once every chart is saved) the pack during the profiles
        front = key_message_pages(ctx), pages.themes_lines()
        drawn = _collect_charts([next(done) for _ in specs], result, progress)
        _write_pack(reports, drawn, front, result)
        rest = list(done)
    notes = dict(zip(codes, rest[:len(codes)]))
    result.profiles = [reports / "profiles" / f"{iso3}.pdf" for iso3 in codes]
    result.data_package = rest[-1]
    _write_workbook(reports, result.charts, profiles, notes, result)
    result.index, result.gallery_charts = write_gallery(reports)
    atomic.write_text(reports / STATE_FILE, json.dumps(state, indent=2, sort_keys=True) + "\n")
    return result
