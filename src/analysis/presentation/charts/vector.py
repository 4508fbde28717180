"""One drawing of a figure, written as PDF and SVG at once.

``savefig`` draws the whole figure for each format: every artist is visited, every text measured and
laid out again. Here the figure is drawn once, through a renderer that passes each drawing call on to
matplotlib's own PDF and SVG renderers, so both files come from the same visit (and the PNG is
rasterised from the PDF). The PDF is byte-identical to ``savefig(format="pdf")`` (tested); the SVG
places text with the PDF's measurements, which differ from the SVG backend's own by rounding only.

:class:`PdfPages` writes several figures (the report's text pages) into one PDF through the same PDF
renderer and measurements, byte-identical to matplotlib's ``PdfPages`` (tested).

Only what the project's charts draw is supported: no TeX, no path effects, no agg filters;
:func:`render_pdf_svg` refuses a figure that asks for them rather than write a wrong file.

Like :mod:`analysis.presentation.charts.pdf_fonts`, this leans on matplotlib internals (the renderers'
interface, the PDF backend's ``_text_helpers`` reference, replaced below so that glyph layouts are
cached, and the ``_get_font_height_metrics`` hook ``Text`` asks a renderer for line metrics). After a
matplotlib upgrade, ``tests/unit/test_vector.py`` checks that the PDF is still the one
``savefig`` writes.
"""

from __future__ import annotations

import contextvars
import io
from collections.abc import Callable

import matplotlib as mpl
from matplotlib import _text_helpers, cbook
from matplotlib.backend_bases import RendererBase
from matplotlib.backends import backend_pdf
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_pdf import PdfFile, RendererPdf
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import fontManager, get_font
from matplotlib.ft2font import LoadFlags
from matplotlib.layout_engine import PlaceHolderLayoutEngine

#: points per inch: PDF and SVG are written in points
POINTS = 72

#: the rcParams a FontProperties' family list is resolved with
_FONT_KEYS = ("font.family", "font.sans-serif", "font.serif", "font.monospace")
#: entries each per-process cache below holds before it starts again (a bound the charts never reach)
_KEPT_MAX = 50_000
_EXTENTS: dict[tuple, tuple[float, float, float]] = {}
#: a font's line metrics in font units per FontProperties (see _font_height_metrics)
_LINE_METRICS: dict[tuple, tuple[float, float, float, float] | None] = {}

#: the font files a FontProperties resolves to (see _RendererPdf._get_font_ttf)
_FONT_PATHS: dict[tuple, list] = {}
_LAYOUTS: dict[tuple, tuple] = {}
_MISSING = object()
#: the size of the text the PDF renderer below is drawing (None: any other PDF, laid out as matplotlib does)
_DRAWING_SIZE: contextvars.ContextVar[float | None] = contextvars.ContextVar("pdf_text_size", default=None)


class _PdfTextLayouts:
    """Stands in for ``matplotlib._text_helpers`` inside the PDF backend: the glyph layout of a string
    in a font at a size is made once per process while a chart is written (country names, tick labels
    and footers recur in every chart). The PDF backend reads only the layout items, never the glyph
    matplotlib's own ``layout`` loads for each (kept for text drawn as paths elsewhere)."""

    def __getattr__(self, name: str):
        return getattr(_text_helpers, name)

    @staticmethod
    def layout(string, font, *, features=None, language=None):
        size = _DRAWING_SIZE.get()
        if size is None:
            return _text_helpers.layout(string, font, features=features, language=language)
        key = (id(font), size, string, features, language)
        try:
            found = _LAYOUTS.get(key)
        except TypeError:  # features or language given as a list: not cached
            return _text_helpers.layout(string, font, features=features, language=language)
        if found is None or found[0] is not font:  # the font object is kept, so its id is not reused
            if len(_LAYOUTS) >= _KEPT_MAX:
                _LAYOUTS.clear()
            items = tuple(font._layout(string, LoadFlags.NO_HINTING, features=features, language=language))
            found = _LAYOUTS[key] = (font, items)
        return found[1]


backend_pdf._text_helpers = _PdfTextLayouts()


class _RendererPdf(RendererPdf):
    """matplotlib's PDF renderer, telling the layouts above the size of the text it draws, with the font
    files of a text's properties looked up once per process (every text drawn asks)."""

    def _get_font_ttf(self, prop):
        paths = _per_props(_FONT_PATHS, _props_key(prop), prop, lambda: fontManager._find_fonts_by_props(prop))
        # as matplotlib's: the face (shared, per process and thread) reset and sized for the PDF's 72 dpi
        font = get_font(paths)
        font.clear()
        font.set_size(prop.get_size_in_points(), 72)
        return font

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        token = _DRAWING_SIZE.set(prop.get_size_in_points())
        try:
            super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        finally:
            _DRAWING_SIZE.reset(token)


class _MeasuringRendererPdf(_RendererPdf):
    """The PDF renderer of :class:`PdfPages`: its text extents and line metrics come from the caches
    the one-pass writer's renderer uses (the same numbers, measured once per process)."""

    def __init__(self, file: PdfFile, image_dpi: float, height: float, width: float, figure: Figure) -> None:
        super().__init__(file, image_dpi, height, width)
        self._figure = figure

    def get_text_width_height_descent(self, s, prop, ismath):
        return _text_extent(super().get_text_width_height_descent, s, prop, ismath)

    def _get_font_height_metrics(self, prop):
        if mpl.rcParams["pdf.use14corefonts"]:  # the core fonts' own metrics, as matplotlib answers
            return super()._get_font_height_metrics(prop)
        return _font_height_metrics(prop, self._figure.dpi)


class UnsupportedFigure(ValueError):
    """The figure uses a feature the one-pass writer does not pass on to both formats."""


class _PairedGC:
    """A graphics context that sets every property on the PDF's and the SVG's own context."""

    def __init__(self, pdf, svg) -> None:
        self.pdf = pdf
        self.svg = svg

    def __getattr__(self, name: str):
        first, second = getattr(self.pdf, name), getattr(self.svg, name)
        if not callable(first):
            return first

        def both(*args, **kwargs):
            result = first(*args, **kwargs)
            second(*args, **kwargs)
            return result

        return both


class _PairedRenderer(RendererBase):
    """Passes each drawing call to the PDF renderer and the SVG renderer.

    Layout questions (text extents, canvas size, y direction) are answered by the PDF renderer, so
    the PDF is exactly what ``savefig`` writes; text bound for the SVG has its baseline flipped to
    the SVG's downward y axis.
    """

    def __init__(self, pdf: MixedModeRenderer, svg: MixedModeRenderer, height_pt: float, figure: Figure) -> None:
        super().__init__()
        self.pdf = pdf
        self.svg = svg
        self._height = height_pt
        self._figure = figure
        #: the figure's artists once drawn (see render_pdf_svg)
        self.drawn_artists: list = []

    # -- answered by the PDF renderer
    def flipy(self):
        return self.pdf.flipy()

    def get_canvas_width_height(self):
        return self.pdf.get_canvas_width_height()

    def get_text_width_height_descent(self, s, prop, ismath):
        return _text_extent(self.pdf.get_text_width_height_descent, s, prop, ismath)

    def _get_font_height_metrics(self, prop):
        """The line ascent, descent and gap ``Text`` lays out every text with (see :func:`_font_height_metrics`)."""
        return _font_height_metrics(prop, self._figure.dpi)

    def points_to_pixels(self, points):
        return self.pdf.points_to_pixels(points)

    def get_image_magnification(self):
        return self.pdf.get_image_magnification()

    def option_image_nocomposite(self):
        return self.pdf.option_image_nocomposite()

    def option_scale_image(self):
        return self.pdf.option_scale_image()

    def new_gc(self):
        return _PairedGC(self.pdf.new_gc(), self.svg.new_gc())

    # -- passed on to both
    def open_group(self, s, gid=None):
        self.pdf.open_group(s, gid)
        self.svg.open_group(s, gid)

    def close_group(self, s):
        self.pdf.close_group(s)
        self.svg.close_group(s)

    def draw_path(self, gc, path, transform, rgbFace=None):
        self.pdf.draw_path(gc.pdf, path, transform, rgbFace)
        self.svg.draw_path(gc.svg, path, transform, rgbFace)

    def draw_markers(self, gc, marker_path, marker_trans, path, trans, rgbFace=None):
        self.pdf.draw_markers(gc.pdf, marker_path, marker_trans, path, trans, rgbFace)
        self.svg.draw_markers(gc.svg, marker_path, marker_trans, path, trans, rgbFace)

    def draw_path_collection(self, gc, *args, **kwargs):
        self.pdf.draw_path_collection(gc.pdf, *args, **kwargs)
        self.svg.draw_path_collection(gc.svg, *args, **kwargs)

    def draw_quad_mesh(self, gc, *args, **kwargs):
        self.pdf.draw_quad_mesh(gc.pdf, *args, **kwargs)
        self.svg.draw_quad_mesh(gc.svg, *args, **kwargs)

    def draw_gouraud_triangles(self, gc, *args, **kwargs):
        self.pdf.draw_gouraud_triangles(gc.pdf, *args, **kwargs)
        self.svg.draw_gouraud_triangles(gc.svg, *args, **kwargs)

    def draw_image(self, gc, x, y, im, transform=None):
        self.pdf.draw_image(gc.pdf, x, y, im, transform)
        self.svg.draw_image(gc.svg, x, y, im, transform)

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        self.pdf.draw_text(gc.pdf, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        self.svg.draw_text(gc.svg, x, self._height - y, s, prop, angle, ismath=ismath, mtext=mtext)

    def start_rasterizing(self):
        # each writer rasterises on its own (a colour bar's many-step gradient), as savefig does
        self.pdf.start_rasterizing()
        self.svg.start_rasterizing()

    def stop_rasterizing(self):
        self.pdf.stop_rasterizing()
        self.svg.stop_rasterizing()

    # -- not passed on: refused
    def draw_tex(self, *args, **kwargs):
        raise UnsupportedFigure("TeX text is not supported by the one-pass PDF/SVG writer")

    def start_filter(self):
        raise UnsupportedFigure("agg filters are not supported by the one-pass PDF/SVG writer")


def _measure_key(s, prop, ismath) -> tuple:
    """What a PDF text extent depends on besides the string: the font properties, the families they
    resolve through, the hinting the extent is measured with and whether the 14 core fonts stand in."""
    return (s, prop, ismath, mpl.rcParams["text.hinting"], mpl.rcParams["pdf.use14corefonts"],
            *(tuple(mpl.rcParams[k]) for k in _FONT_KEYS))


def _text_extent(measure: Callable, s, prop, ismath) -> tuple[float, float, float]:
    """``measure(s, prop, ismath)`` (a PDF renderer's text extent), made once per process.

    The PDF renderer measures at a fixed 72 dpi, so a text's extent depends only on the text, its font
    properties and the fonts they resolve to: measured once per process, not once per chart or page
    (tick labels, country names, headers and footers recur on every one)."""
    return _per_props(_EXTENTS, _measure_key(s, prop, ismath), prop, lambda: measure(s, prop, ismath))


def _props_key(prop) -> tuple:
    """Font properties with the families they resolve through: what finds a text's font files."""
    return (prop, *(tuple(mpl.rcParams[k]) for k in _FONT_KEYS))


def _per_props(cache: dict, key: tuple, prop, make: Callable):
    """``make()`` kept in ``cache`` under ``key``, once per process; ``key``'s item ``prop`` is stored as a
    copy (font properties are mutable: a caller changing them afterwards must not change the key)."""
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        if len(cache) >= _KEPT_MAX:
            cache.clear()
        found = cache[tuple(prop.copy() if item is prop else item for item in key)] = make()
    return found


def _font_height_metrics(prop, dpi: float) -> tuple:
    """The line ascent, descent and gap ``Text`` lays out every text with at ``dpi`` (matplotlib's hook
    for the PDF backend, which answers "measure as usual" for TrueType fonts).

    Answered as ``Text._get_layout`` measures them itself, from the font's OS/2 or hhea table, with the
    font's numbers looked up once per font properties rather than once for every text laid out (every
    draw and every extent asks)."""
    found = _per_props(_LINE_METRICS, _props_key(prop), prop, lambda: _line_metrics(prop))
    if found is None:
        return None, None, None
    gap, ascent, descent, units_per_em = found
    scale = 1 / units_per_em * prop.get_size_in_points() * dpi / 72
    return ascent * scale, -descent * scale, gap * scale


def _line_metrics(prop) -> tuple[float, float, float, float] | None:
    """(line gap, ascent, descent, units per em) of the font ``prop`` resolves to, from the tables
    ``Text._get_layout`` reads, in its order; None if the font has neither."""
    font = get_font(fontManager._find_fonts_by_props(prop))
    for table_name, keys in (("OS/2", ("sTypoLineGap", "sTypoAscender", "sTypoDescender")),
                             ("hhea", ("lineGap", "ascent", "descent"))):
        table = font.get_sfnt_table(table_name)
        if table is not None:
            return (*(table[k] for k in keys), font.get_sfnt_table("head")["unitsPerEm"])
    return None


def _remember_glyphs(pdf_file: PdfFile) -> PdfFile:
    """``pdf_file`` with its glyph tracker answering a glyph it has already tracked from a dict keyed by
    the font object. The tracker's own lookup builds a font path for every character drawn; a glyph once
    tracked returns what it returned the first time and changes nothing, so the file is the same."""
    tracker = pdf_file._character_tracker
    track, seen = tracker.track_glyph, {}

    def track_glyph(font, chars, glyph):
        key = (font, chars, glyph)
        found = seen.get(key)
        if found is None:
            found = seen[key] = track(font, chars, glyph)
        return found

    tracker.track_glyph = track_glyph
    return pdf_file


def _refuse_unsupported(artists: list) -> None:
    for artist in artists:
        if artist.get_agg_filter() is not None or artist.get_path_effects():
            raise UnsupportedFigure(f"{type(artist).__name__} {artist.get_gid() or ''}: filtered or path-effect "
                                    "artists are not supported by the one-pass PDF/SVG writer")


def render_pdf_svg(figure: Figure, metadata: dict[str, dict], on_drawn: Callable | None = None) -> tuple[bytes, bytes]:
    """The figure as PDF and SVG bytes from one draw, as ``savefig(dpi=72)`` would write them.

    ``metadata``: per format ("pdf", "svg") as for ``savefig``. ``on_drawn(figure, renderer)`` runs
    once the figure is drawn, with the renderer that measured its texts (for a layout check); the
    renderer's ``drawn_artists`` are the figure's artists as drawn (``figure.findobj()``), listed once
    (a traversal asks the tick locators again). Call inside the style the figure is saved with.
    The figure must have no layout engine left to run (none, or matplotlib's "none" placeholder).
    """
    if not isinstance(figure.get_layout_engine(), type(None) | PlaceHolderLayoutEngine):
        raise UnsupportedFigure("freeze the layout first (the one-pass writer runs no layout engine)")
    # the SVG is written as text and encoded once (savefig encodes each of its many small writes)
    pdf_buf, svg_text = io.BytesIO(), io.StringIO()
    facecolor = mpl.rcParams["savefig.facecolor"]
    edgecolor = mpl.rcParams["savefig.edgecolor"]
    with (cbook._setattr_cm(figure, dpi=POINTS), cbook._setattr_cm(figure.canvas, _is_saving=True),
          figure._cm_set(**_colours(facecolor, edgecolor))):
        width, height = figure.get_size_inches()
        pdf_file = _remember_glyphs(PdfFile(pdf_buf, metadata=metadata["pdf"]))
        pdf_file.newPage(width, height)
        pdf = MixedModeRenderer(figure, width, height, POINTS, _RendererPdf(pdf_file, POINTS, height, width))
        svg = MixedModeRenderer(figure, width, height, POINTS,
                                RendererSVG(width * POINTS, height * POINTS, svg_text, image_dpi=POINTS,
                                            metadata=metadata["svg"]))
        paired = _PairedRenderer(pdf, svg, height * POINTS, figure)
        figure.draw(paired)
        # checked on the drawn figure, before anything is returned: a refused figure gives no file
        paired.drawn_artists = figure.findobj()
        _refuse_unsupported(paired.drawn_artists)
        if on_drawn is not None:
            on_drawn(figure, paired)
        pdf.finalize()
        pdf_file.finalize()
        pdf_file.close()
        svg.finalize()
    return pdf_buf.getvalue(), svg_text.getvalue().encode("utf-8")


def _colours(facecolor, edgecolor) -> dict:
    """savefig's rule: a colour other than "auto" replaces the figure's own while saving."""
    return {prop: colour for prop, colour in (("facecolor", facecolor), ("edgecolor", edgecolor))
            if not cbook._str_equal(colour, "auto")}


class PdfPages:
    """Figures written as the pages of one PDF, byte for byte as matplotlib's ``PdfPages`` writes them
    (tested), with the text measured and laid out through the caches above: the country profiles and
    the chart pack's front pages repeat their headers, column titles and footers on every page.

    ``target``: a path or binary file; nothing is written when no page is saved (as matplotlib). A page
    is drawn here when ``savefig`` would only draw it (no layout engine to run, ``savefig.bbox`` not
    "tight", ``savefig.transparent`` off, as the report's hand-laid pages); any other figure is saved into
    the same file by matplotlib's own ``savefig``. Save the pages inside the style they are drawn with.
    """

    def __init__(self, target, metadata: dict | None = None) -> None:
        self._target, self._metadata = target, metadata
        self._file: PdfFile | None = None

    def __enter__(self) -> PdfPages:
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        self.close()

    def savefig(self, figure: Figure) -> None:
        """The figure as the next page, as ``savefig`` with the style's settings draws it."""
        if self._file is None:
            self._file = _remember_glyphs(PdfFile(self._target, metadata=self._metadata))
        if not _drawn_as_is(figure):
            pages = backend_pdf.PdfPages(None)
            pages._file = self._file  # matplotlib's PdfPages writing a page into this file
            figure.savefig(pages, format="pdf", backend="pdf")
            return
        dpi = mpl.rcParams["savefig.dpi"]
        if dpi == "figure":
            dpi = getattr(figure, "_original_dpi", figure.dpi)
        colours = _colours(mpl.rcParams["savefig.facecolor"], mpl.rcParams["savefig.edgecolor"])
        # as print_pdf: the figure is drawn at 72 dpi (PDF points), images are sampled at savefig's dpi
        with (cbook._setattr_cm(figure, dpi=POINTS), cbook._setattr_cm(figure.canvas, _is_saving=True),
              figure._cm_set(**colours)):
            width, height = figure.get_size_inches()
            self._file.newPage(width, height)
            try:
                renderer = MixedModeRenderer(figure, width, height, dpi,
                                             _MeasuringRendererPdf(self._file, dpi, height, width, figure))
                figure.draw(renderer)
                renderer.finalize()
            finally:
                self._file.endStream()

    def close(self) -> None:
        """Finish the file (fonts, page tree, cross-reference table)."""
        if self._file is not None:
            self._file.finalize()
            self._file.close()
            self._file = None


def _drawn_as_is(figure: Figure) -> bool:
    """Whether ``savefig`` would only draw the figure: no layout engine to run first (a dry draw), no
    bounding box to fit, no transparency to set on its patches."""
    return (figure.get_layout_engine() is None  # a "none" placeholder: savefig still draws twice
            and mpl.rcParams["savefig.bbox"] is None and not mpl.rcParams["savefig.transparent"])
