"""The chart pack ``reports/chart-pack.pdf``: one A4 landscape page size throughout, with bookmarks.

Order: cover (where the data and the workbook are, how to cite, sources), the key-message pages, the
meetings' themes beside the data, contents, then one chart per page grouped by population group. Each
chart page takes the chart's own PDF, already written by ``charts.save``, scaled to fit below a header
band that carries the figure label (so the label never crosses a chart title) and above the page
number. The outline has one entry per section and one per chart. Reproducible bytes: no dates, no
tool versions, no file identifier.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdf
from matplotlib.figure import Figure
from pypdf.generic import (
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    RectangleObject,
    StreamObject,
)

from analysis.core import atomic
from analysis.presentation.charts import style, vector
from analysis.presentation.gallery import AUTHORS, PACK_TITLE
from analysis.presentation.report import pages
from analysis.presentation.report.specs import GROUP_TITLES

PAGE = pages.PAGE
PT = 72.0
MARGIN, HEADER, FOOTER = 0.35, 0.45, 0.35  # inches: sides, the label band on top, the page-number band
LABEL_SIZE = 8.0
# Reproducible bytes: no dates or tool versions in the PDF metadata.
PDF_METADATA = {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None}
CONTENTS_TITLE = "Contents"
COVER_TITLE = "Cover: where the data are, how to cite, sources"
CHART_FORM = "/Chart"  # the chart's form on a chart page (matplotlib names its own XObjects otherwise)


@dataclass
class _Section:
    """Pages of the pack drawn by matplotlib, with their outline title (children: (title, page offset))."""

    title: str
    figures: list[Figure]
    children: list[tuple[str, int]]


def _stamp(fig: Figure, page_no: int, label: str = "") -> None:
    """The page number at the bottom right and, on chart pages, the figure label in the top band."""
    fig.text(1 - MARGIN / PAGE[0], 0.45 * FOOTER / PAGE[1], f"{PACK_TITLE} · p. {page_no}", ha="right",
             va="center", fontsize=7, color="#666666")
    if label:
        fig.text(MARGIN / PAGE[0], 1 - 0.5 * HEADER / PAGE[1], label, ha="left", va="center",
                 fontsize=LABEL_SIZE, color="#444444", fontweight="bold")


def _frame(page_no: int, label: str) -> Figure:
    fig = pages.hand_laid_figure(*PAGE)
    _stamp(fig, page_no, label)
    return fig


def _front_sections(drawn, front: Sequence[tuple[str, Figure]], example: str,
                    themes: list[pages.Line] | None) -> list[_Section]:
    sections = [_Section(COVER_TITLE, pages.text_pages(pages.cover_lines(drawn, example)), [])]
    if front:
        sections.append(_Section("Key messages", [fig for _, fig in front],
                                 [(title, k) for k, (title, _) in enumerate(front)]))
    themes = themes if themes is not None else pages.themes_lines()
    sections.append(_Section(pages.THEMES_TITLE, pages.text_pages(themes), []))
    return sections


def _contents(drawn, sections: list[_Section]) -> _Section:
    """Contents pages: their number is known before the page numbers they list (one line per entry)."""
    def listed(first_chart: int) -> list[pages.Line]:
        page, front = 1, []
        for s in sections:
            front.append((s.title, page))
            front += [(f"   {title}", page + k) for title, k in s.children]
            page += len(s.figures)
        return pages.contents_lines(drawn, first_chart, front)

    before = sum(len(s.figures) for s in sections)
    n_contents = len(pages.text_pages(listed(before + 1)))
    return _Section(CONTENTS_TITLE, pages.text_pages(listed(before + n_contents + 1)), [])


def _text_pdf(sections: list[_Section]) -> tuple[bytes, int]:
    """The matplotlib pages as one PDF (bytes) and their number."""
    buf = io.BytesIO()
    page_no = 0
    with style.styled(), vector.PdfPages(buf, metadata=dict(PDF_METADATA)) as pdf:
        for section in sections:
            for fig in section.figures:
                page_no += 1
                _stamp(fig, page_no)
                pdf.savefig(fig)
                fig.clear()
    return buf.getvalue(), page_no


def _chart_frames(drawn, first_page: int) -> bytes:
    buf = io.BytesIO()
    with style.styled(), vector.PdfPages(buf, metadata=dict(PDF_METADATA)) as pdf:
        for k, (spec, _) in enumerate(drawn, start=1):
            fig = _frame(first_page + k - 1, f"Figure {k} · {GROUP_TITLES.get(spec['group'], spec['group'])}")
            pdf.savefig(fig)
            fig.clear()
    return buf.getvalue()


def _form_of(writer: pypdf.PdfWriter, chart: pypdf.PageObject) -> IndirectObject | None:
    """The chart's page as a Form XObject of the pack: its content stream copied as it is (pypdf never parses
    it) with the page's own resources, so their names cannot clash with the frame's. None for a page this
    does not fit (several content streams, or annotations a form would drop: matplotlib writes neither)."""
    contents = chart.get("/Contents")
    stream = contents.get_object() if contents is not None else None
    annotations = chart.get("/Annots")
    if not isinstance(stream, StreamObject) or (annotations is not None and len(annotations.get_object())):
        return None
    form = stream.clone(writer, force_duplicate=True)
    form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                 NameObject("/BBox"): RectangleObject(chart.mediabox),
                 NameObject("/Resources"): chart["/Resources"].get_object().clone(writer)})
    return form.indirect_reference


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _draw_form(frame: pypdf.PageObject, form: IndirectObject, scale: float, tx: float, ty: float) -> None:
    """The frame's content (kept in its own graphics state), then the form scaled and moved into place."""
    # matplotlib's pages share one resource dictionary: each chart page gets its own, naming its own chart
    resources = DictionaryObject(frame["/Resources"].get_object())
    xobjects = DictionaryObject(resources["/XObject"].get_object()) if "/XObject" in resources else DictionaryObject()
    xobjects[NameObject(CHART_FORM)] = form
    resources[NameObject("/XObject")] = xobjects
    frame[NameObject("/Resources")] = resources
    matrix = " ".join(_number(v) for v in (scale, 0, 0, scale, tx, ty))
    content = DecodedStreamObject()
    content.set_data(b"q\n" + frame.get_contents().get_data() + f"\nQ\nq {matrix} cm {CHART_FORM} Do Q\n".encode())
    frame.replace_contents(content.flate_encode())


def _place(writer: pypdf.PdfWriter, frame: pypdf.PageObject, chart_pdf: Path) -> None:
    """The chart's page scaled (never enlarged) into the box below the label band, centred."""
    chart = pypdf.PdfReader(chart_pdf).pages[0]
    width, height = float(chart.mediabox.width), float(chart.mediabox.height)
    box_w, box_h = (PAGE[0] - 2 * MARGIN) * PT, (PAGE[1] - HEADER - FOOTER) * PT
    scale = min(1.0, box_w / width, box_h / height)
    tx = (PAGE[0] * PT - width * scale) / 2
    ty = FOOTER * PT + box_h - height * scale
    form = _form_of(writer, chart)
    if form is None:
        raise ValueError(f"{chart_pdf}: not a one-stream page without annotations, as charts.save writes them; "
                         "the chart pack places only those")
    _draw_form(frame, form, scale, tx, ty)


def _outline(writer: pypdf.PdfWriter, sections: list[_Section], drawn, first_chart: int) -> None:
    page = 0
    for section in sections:
        parent = writer.add_outline_item(title=section.title, page_number=page)
        for title, offset in section.children:
            writer.add_outline_item(title=title, page_number=page + offset, parent=parent)
        page += len(section.figures)
    group, parent = None, None
    for k, (spec, chart) in enumerate(drawn):
        if spec["group"] != group:
            group = spec["group"]
            parent = writer.add_outline_item(title=GROUP_TITLES.get(group, group), page_number=first_chart + k)
        writer.add_outline_item(title=f"Figure {k + 1}. {chart.title}", page_number=first_chart + k,
                                parent=parent)


def write_chart_pack(drawn: Sequence[tuple[dict, Any]], chart_pdfs: Sequence[Path], target: Path,
                     front: Sequence[tuple[str, Figure]] = (), themes: list[pages.Line] | None = None) -> int:
    """Write the pack; ``drawn`` are (spec, chart) pairs where a chart needs only its ``title`` and ``sources``
    (a :class:`charts.Chart`, or the record the report keeps once the figure is saved and released);
    ``chart_pdfs`` are the charts' saved PDFs (same order), ``front`` the key-message pages (title, figure),
    ``themes`` the lines of the themes page (:func:`pages.themes_lines`) when made beforehand.
    Returns the number of pages."""
    example = Path(chart_pdfs[0]).stem if chart_pdfs else "01-chart"
    sections = _front_sections(drawn, front, example, themes)
    sections.append(_contents(drawn, sections))
    text_pdf, n_front = _text_pdf(sections)
    # matplotlib writes no file for no pages: a pack whose charts were all skipped has front pages only
    frames = pypdf.PdfReader(io.BytesIO(_chart_frames(drawn, n_front + 1))).pages if drawn else []
    writer = pypdf.PdfWriter()
    for page in pypdf.PdfReader(io.BytesIO(text_pdf)).pages:
        writer.add_page(page)
    for frame, pdf in zip(frames, chart_pdfs, strict=True):
        _place(writer, writer.add_page(frame), Path(pdf))  # placed once the page belongs to the writer
    _outline(writer, sections, drawn, n_front)
    writer.page_mode = "/UseOutlines"
    writer.add_metadata({"/Title": PACK_TITLE, "/Author": AUTHORS})
    writer.compress_identical_objects()
    atomic.write_with(target, lambda tmp: writer.write(tmp))
    return n_front + len(drawn)
