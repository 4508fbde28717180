"""The chart pack ``reports/chart-pack.pdf``: a cover with every source's vintage, contents, one chart per page."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages

from analysis.core import atomic
from analysis.presentation import charts
from analysis.presentation.charts import style
from analysis.presentation.gallery import PACK_SUBDIR, PACK_TITLE
from analysis.presentation.report.specs import GROUP_TITLES
from analysis.store import api

PAGE = (11.69, 8.27)  # A4 landscape, inches
FRONT_PAGES = 2  # cover and contents
# Reproducible bytes: no dates or tool versions in the PDF metadata.
PDF_METADATA = {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None}
Line = tuple[str, float, str]  # text, font size (pt), weight

HOW_TO_READ = (
    "Each country has one colour in every chart. ASEAN members are drawn with solid lines and filled bars; "
    "Plus Three comparators (China, Japan, Korea) with dashed lines, hatched bars and open markers, and "
    "their names in italics. The thick near-black line is the ASEAN statistic named in the key with its "
    "'n of N' members. Banded bars compare each country with the ASEAN median plus or minus one median "
    "absolute deviation (grey band); blue is better and orange worse where the indicator has a better "
    "direction. 'no data' rows are countries without a value: gaps are shown, never filled.")
REFERENCES_LINE = ("Reference tables compiled for this project (data/raw/references/), one cited source per row.")


def _text_page(lines: list[Line], size: tuple[float, float] = PAGE):
    """A page of text lines, wrapped to the page width."""
    fig = style.new_figure(*size)
    fig.set_layout_engine("none")
    y = 0.93
    for text, pt, weight in lines:
        for part in style.wrap(text, size[0] - 1.6, pt, bold=weight == "bold") or [""]:
            fig.text(0.07, y, part, fontsize=pt, fontweight=weight, va="top", ha="left", color="#222222")
            y -= pt * 1.45 / 72.0 / size[1]
    return fig


def _sources_used(drawn: list[tuple[dict, charts.Chart]]) -> dict[str, set[str]]:
    """Source id -> the vintages the drawn charts carry."""
    used: dict[str, set[str]] = {}
    for _, chart in drawn:
        for sid, vintages in chart.sources.items():
            used.setdefault(sid, set()).update(vintages)
    return used


def _source_lines(used: dict[str, set[str]]) -> list[Line]:
    """One line per dataset of the registry used (its vintages and licence); the reference tables as one."""
    reg = api.registry()
    lines: list[Line] = []
    for sid in sorted(used):
        ds = reg.datasets.get(sid)
        if ds is not None:
            vintages = "; ".join(sorted(used[sid])) or ds.vintage
            lines.append((f"{ds.publisher}, {ds.title}: vintage {vintages}; licence {ds.licence}.", 9.5, "normal"))
        elif sid == "references":
            lines.append((REFERENCES_LINE, 9.5, "normal"))
    return lines


def _cover_page(drawn: list[tuple[dict, charts.Chart]]):
    lines: list[Line] = [
        (PACK_TITLE, 20, "bold"), ("", 8, "normal"),
        (f"{len(drawn)} charts, grouped by population group. Every number is read from the project's "
         f"indicator store, built from the pinned sources below; each chart's CSV in reports/figures/{PACK_SUBDIR}/ "
         "holds exactly the values drawn.", 10.5, "normal"), ("", 8, "normal"),
        ("Data sources and vintages", 13, "bold")]
    lines += _source_lines(_sources_used(drawn))
    lines += [("", 8, "normal"), ("How to read the charts", 13, "bold"), (HOW_TO_READ, 9.5, "normal")]
    return _text_page(lines)


def _contents_page(drawn: list[tuple[dict, charts.Chart]], first_page: int):
    lines: list[Line] = [("Contents", 16, "bold"), ("", 6, "normal")]
    current = None
    for k, (spec, chart) in enumerate(drawn):
        if spec["group"] != current:
            current = spec["group"]
            lines.append((GROUP_TITLES.get(current, current), 10.5, "bold"))
        lines.append((f"   p. {first_page + k}   Figure {k + 1}. {chart.title}", 8.6, "normal"))
    return _text_page(lines, size=(PAGE[0], max(PAGE[1], 0.9 + len(lines) * 0.17)))


def _save_labelled(pdf: PdfPages, chart: charts.Chart, label: str) -> None:
    """Save the chart's page with a figure label that is removed again (the exported files stay unlabelled)."""
    text = chart.figure.text(0.985, 0.992, label, ha="right", va="top", fontsize=7.5, color="#666666")
    pdf.savefig(chart.figure)
    text.remove()


def write_chart_pack(drawn: list[tuple[dict, charts.Chart]], target: Path) -> int:
    """Cover, contents, one chart per page (labelled with its figure number and group); returns pages."""
    def writer(tmp: Path) -> None:
        with style.styled(), PdfPages(tmp, metadata={**PDF_METADATA, "Title": PACK_TITLE}) as pdf:
            pdf.savefig(_cover_page(drawn))
            pdf.savefig(_contents_page(drawn, FRONT_PAGES + 1))
            for k, (spec, chart) in enumerate(drawn, start=1):
                _save_labelled(pdf, chart, f"Figure {k} · {GROUP_TITLES.get(spec['group'], spec['group'])}")

    atomic.write_with(target, writer)
    return FRONT_PAGES + len(drawn)
