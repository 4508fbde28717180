"""One drawing written as PDF and SVG together (charts/vector.py), on synthetic figures."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib import patheffects
from matplotlib.figure import Figure

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
