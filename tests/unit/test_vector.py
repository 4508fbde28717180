"""One drawing written as PDF and SVG together (charts/vector.py), on synthetic figures."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pypdf
import pytest
from matplotlib import patheffects
from matplotlib.backends import backend_pdf
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from analysis.presentation.charts import layout, style, vector

METADATA = {"svg": {"Date": None, "Creator": None},
            "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None}}
NUMBER = re.compile(rb"-?\d+\.\d+")


def _synthetic_figure() -> Figure:
    """Lines, markers, bars with hatching, rotated and multi-line text, a legend and a colour bar whose
    gradient matplotlib rasterises: every kind of drawing call the charts make."""
    fig = Figure(figsize=(6, 4))
    left, right = fig.subplots(1, 2)
    x = np.arange(12)
    left.plot(x, np.sqrt(x), marker="o", label="synthetic line")
    left.bar(x, x / 3, hatch="//", alpha=0.5, label="synthetic bars")
    left.text(2, 2, "rotated\nsynthetic label", rotation=30)
    left.set_title("Synthetic ▲ ● ▼ title – with ﬁ")
    left.legend()
    image = right.imshow(np.arange(120).reshape(10, 12), aspect="auto")
    fig.colorbar(image, ax=right)
    fig.text(0.01, 0.01, "Source: synthetic fixture", gid="chart-footer")
    return fig


def _savefig(fig: Figure, fmt: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=72, metadata=METADATA[fmt])
    return buf.getvalue()


def test_the_pdf_is_byte_identical_to_savefig():
    with style.styled():
        fig = _synthetic_figure()
        pdf, _ = vector.render_pdf_svg(fig, METADATA)
        assert pdf == _savefig(fig, "pdf")


def test_the_svg_draws_what_savefig_draws_with_the_pdf_text_measurements():
    """Same elements in the same order; coordinates differ only where text is placed with the PDF's
    measurements instead of the SVG backend's (rounding: well under a point)."""
    with style.styled():
        fig = _synthetic_figure()
        _, svg = vector.render_pdf_svg(fig, METADATA)
        reference = _savefig(fig, "svg")
    ours, theirs = ET.fromstring(svg), ET.fromstring(reference)
    assert [e.tag for e in ours.iter()] == [e.tag for e in theirs.iter()]
    texts = [e.text for e in ours.iter() if e.tag.endswith("text")]
    assert "Source: synthetic fixture" in texts and "Synthetic ▲ ● ▼ title – with ﬁ" in texts
    a, b = NUMBER.findall(svg), NUMBER.findall(reference)
    assert len(a) == len(b)
    assert max(abs(float(p) - float(q)) for p, q in zip(a, b)) < 1.0


def test_the_drawn_figure_is_handed_over_with_the_renderer_that_measured_it():
    seen = []
    with style.styled():
        fig = _synthetic_figure()
        vector.render_pdf_svg(fig, METADATA, on_drawn=lambda f, r: seen.append((f, r.points_to_pixels(10.0))))
    assert seen == [(fig, 10.0)]  # PDF units: a point is a pixel


def test_a_figure_with_path_effects_is_refused():
    with style.styled():
        fig = _synthetic_figure()
        fig.text(0.5, 0.5, "halo", path_effects=[patheffects.withStroke(linewidth=3, foreground="w")])
        with pytest.raises(vector.UnsupportedFigure, match="path-effect"):
            vector.render_pdf_svg(fig, METADATA)


def test_a_figure_whose_layout_engine_would_still_run_is_refused():
    with style.styled():
        fig = Figure(figsize=(3, 2), layout="constrained")
        fig.subplots().plot([0, 1])
        with pytest.raises(vector.UnsupportedFigure, match="freeze the layout"):
            vector.render_pdf_svg(fig, METADATA)


def test_texts_are_laid_out_with_the_line_metrics_matplotlib_reads_from_the_font():
    """The renderer answers the line ascent/descent/gap from a per-process record; a multi-line text's
    extent must be what the PDF renderer alone (matplotlib measuring the font itself) gives."""
    extents = []

    def measure(fig, renderer):
        for text in (t for t in renderer.drawn_artists if "\n" in getattr(t, "get_text", str)()):
            extents.append((text.get_window_extent(renderer).bounds, text.get_window_extent(renderer.pdf).bounds))

    with style.styled():
        fig = _synthetic_figure()
        fig.text(0.5, 0.5, "two\nlines", fontsize=13, fontweight="bold", linespacing=1.6)
        vector.render_pdf_svg(fig, METADATA, on_drawn=measure)
    assert len(extents) == 2
    for ours, matplotlibs in extents:
        assert ours == matplotlibs


def test_the_drawn_artists_are_the_figures_artists_after_the_draw():
    seen = []
    with style.styled():
        fig = _synthetic_figure()
        vector.render_pdf_svg(fig, METADATA, on_drawn=lambda f, r: seen.append(r.drawn_artists))
        assert seen == [fig.findobj()]


def test_the_layout_check_of_the_listed_artists_is_the_check_of_the_figure():
    checks = []

    def check(fig, renderer):
        fig.text(0.02, 0.02, "overlapping the footer")  # a finding to compare
        checks.append((layout.check_drawn(fig, renderer, 200, fig.findobj()), layout.check_drawn(fig, renderer, 200)))

    with style.styled():
        vector.render_pdf_svg(_synthetic_figure(), METADATA, on_drawn=check)
    listed, found = checks[0]
    assert listed == found and listed["overlaps"]


# ----------------------------------------------------------------------------- several pages (vector.PdfPages)
PAGES_METADATA = {**METADATA["pdf"], "Title": "Synthetic pages"}


def _text_page(k: int) -> Figure:
    """A hand-laid page of text: several fonts, sizes, weights and styles, rotated and multi-line text,
    with a line and a dot strip as the profiles draw them."""
    fig = Figure(figsize=(8.27, 11.69), layout="none")
    fig.text(0.05, 0.95, f"Synthetic page {k}", fontsize=20, fontweight="bold", va="top", color="#1f77b4")
    fig.text(0.05, 0.9, "Serif ▲ ● ▼ – with ﬁ", family="serif", fontsize=9.5 + k, style="italic", va="top")
    fig.text(0.05, 0.85, "first line\nsecond, longer line\nthird", fontsize=7.2, linespacing=1.15, va="top")
    fig.text(0.95, 0.85, "Monospace → right", family="monospace", fontsize=6.3, ha="right", va="top")
    fig.text(0.5, 0.5, f"rotated {k}", rotation=30 + 15 * k, fontsize=11, ha="center")
    fig.text(0.1, 0.3, "vertical\ntext", rotation=90, fontsize=8.2, fontweight="bold")
    fig.add_artist(Line2D([0.05, 0.95], [0.2, 0.2], color="#999999", lw=0.6))
    fig.add_artist(Line2D([0.2, 0.3, 0.45], [0.15] * 3, ls="none", marker="o", ms=3, color="#b0b0b0"))
    fig.text(0.95, 0.02, f"page {k} of 3", fontsize=6.4, ha="right", va="bottom", color="#777777")
    return fig


def _pages_with(pages_class, figures: list[Figure]) -> bytes:
    buf = io.BytesIO()
    with pages_class(buf, metadata=dict(PAGES_METADATA)) as pdf:
        for fig in figures:
            pdf.savefig(fig)
    return buf.getvalue()


def test_pdf_pages_are_byte_identical_to_matplotlibs():
    with style.styled():
        figures = [_text_page(k) for k in (1, 2, 3)] + [_synthetic_figure()]
        ours = _pages_with(vector.PdfPages, figures)
        theirs = _pages_with(backend_pdf.PdfPages, figures)
    assert len(pypdf.PdfReader(io.BytesIO(ours)).pages) == len(figures)
    assert b"Synthetic pages" in ours
    assert ours == theirs


def test_pdf_pages_written_twice_are_the_same_bytes():
    """The second file is made from the caches the first filled: still matplotlib's bytes."""
    with style.styled():
        first = _pages_with(vector.PdfPages, [_text_page(1), _text_page(2)])
        again = _pages_with(vector.PdfPages, [_text_page(1), _text_page(2)])
        theirs = _pages_with(backend_pdf.PdfPages, [_text_page(1), _text_page(2)])
    assert first == again == theirs


def test_pdf_pages_write_nothing_without_a_page():
    buf = io.BytesIO()
    with vector.PdfPages(buf, metadata=dict(PAGES_METADATA)):
        pass
    assert buf.getvalue() == b""


def test_a_page_with_a_layout_engine_is_saved_by_matplotlib_into_the_same_file():
    """savefig lays such a figure out in a dry draw first: that page is left to savefig itself."""
    def figures() -> list[Figure]:
        constrained = Figure(figsize=(6, 4), layout="constrained")
        constrained.subplots().set_title("Constrained synthetic page")
        placeholder = _text_page(2)
        placeholder.set_layout_engine("none")
        return [_text_page(1), constrained, placeholder]

    with style.styled():
        ours = _pages_with(vector.PdfPages, figures())
        theirs = _pages_with(backend_pdf.PdfPages, figures())
    assert len(pypdf.PdfReader(io.BytesIO(ours)).pages) == 3
    assert ours == theirs
