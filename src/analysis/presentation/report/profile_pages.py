"""Drawing the country profiles: ``reports/profiles/<ISO3>.pdf``, one or two A4 pages per focus country,
from the :class:`~analysis.presentation.report.profiles.CountryNote` that ``profiles`` assembles."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import Affine2D, Bbox, Transform, TransformedBbox

from analysis.core import atomic
from analysis.presentation.charts import footer as footer_mod
from analysis.presentation.charts import palette, style, vector
from analysis.presentation.charts.layout import fmt
from analysis.presentation.report.context import ReportContext
from analysis.presentation.report.pack import PDF_METADATA
from analysis.presentation.report.pages import hand_laid_figure
from analysis.presentation.report.parallel import ordered_results
from analysis.presentation.report.profiles import (
    CountryNote,
    ProfileRow,
    country_note,
    profile_basis,
    profile_latest,
)
from analysis.presentation.report.specs import GROUP_TITLES
from analysis.store import api
from analysis.store.messages import messages_by_country


def profile_codes(countries: list[str] | None = None) -> list[str]:
    """The countries that get a profile: those given (an empty list: none), else every focus country."""
    return list(countries) if countries is not None else palette.focus_iso3()


class ProfileWriter:
    """Writes one country's ``<ISO3>.pdf`` per call and returns its note; what every country's note shares
    (the latest values, their windows, the per-indicator bands) is computed once, when it is made."""

    def __init__(self, ctx: ReportContext, out_dir: Path, countries: list[str] | None = None) -> None:
        self.ctx, self.out_dir = ctx, out_dir
        self.latest, self.window_note = profile_latest(ctx)
        self.basis = profile_basis(self.latest, ctx)
        self.countries = palette.country_table()
        # the key messages of all the countries to be written, made in one pass over the store
        made = messages_by_country(countries, processed_dir=ctx.processed_dir) if countries else {}
        self.messages = {iso3: [m.text for m in items] for iso3, items in made.items()}

    def __call__(self, iso3: str) -> CountryNote:
        note = country_note(iso3, self.ctx, self.latest, self.window_note, self.basis, self.messages.get(iso3))
        with style.styled():
            figures = draw_profile(note, self.countries)

            def writer(tmp: Path) -> None:
                with vector.PdfPages(tmp, metadata={**PDF_METADATA, "Title": f"{note.name}: country profile"}) as pdf:
                    for fig in figures:
                        pdf.savefig(fig)

            atomic.write_with(self.out_dir / f"{iso3}.pdf", writer)
            for fig in figures:
                fig.clear()
        return note


def write_profiles(ctx: ReportContext, out_dir: Path, countries: list[str] | None = None, *,
                   jobs: int = 1) -> list[Path]:
    """``reports/profiles/<ISO3>.pdf`` for every focus country (or those given; an empty list: none), on
    ``jobs`` processes (1: in this one)."""
    codes = profile_codes(countries)
    if not codes:
        return []
    with ordered_results(ProfileWriter(ctx, out_dir, codes), codes, jobs) as notes:
        for _ in notes:
            pass
    return [out_dir / f"{iso3}.pdf" for iso3 in codes]


# ----------------------------------------------------------------------------- drawing the pages
PAGE = (8.27, 11.69)  # A4 portrait, inches
MARGIN = 0.5
BOTTOM = 0.6  # inches from the bottom: below it only the page line
ROW_SIZE, SUB_SIZE, MESSAGE_SIZE, NOTE_SIZE, FOOT_SIZE = 7.2, 6.3, 8.2, 7.0, 6.4
LINE = 0.118  # inches per line of row text
STRIP_HEIGHT = 0.16  # inches: a row's dot strip
TEXT, GREY, LIGHT = "#222222", "#555555", "#777777"


@dataclass(frozen=True)
class _Col:
    key: str
    left: float
    right: float
    header: str
    align: str  # "left" or "right"

    @property
    def x(self) -> float:
        return self.left if self.align == "left" else self.right


def _short_lines(text: str, width_in: float, size_pt: float) -> str:
    """``text`` broken into lines of about ``width_in`` inches (column headers are narrower than style.wrap's
    smallest width)."""
    return "\n".join(textwrap.wrap(text, width=max(4, int(width_in / (size_pt * 0.6 / 72))), break_long_words=False))


def _columns(plus_three: list[str], names: dict[str, str]) -> list[_Col]:
    """The table's columns from the right edge leftwards; the indicator title takes what remains. A Plus
    Three country's table gets the three Plus Three values; an ASEAN country's a dot strip of the focus
    countries instead."""
    right = PAGE[0] - MARGIN
    cols = []
    for code in reversed(plus_three):
        cols.append(_Col(code, right - 0.5, right, _short_lines(names.get(code, code), 0.5, SUB_SIZE + 0.4),
                         "right"))
        right -= 0.56
    for key, width, gap, header, align in (("median", 0.75, 0.12, "ASEAN median\nn of N", "right"),
                                           ("trend", 0.8, 0.12, "10-year trend\nsince", "left"),
                                           ("rank", 1.0, 0.26, "Rank (1 = best)\nyears ranked", "left"),
                                           ("value", 0.7, 0.12, "Value\nyear", "right")):
        cols.append(_Col(key, right - width, right, header, align))
        right -= width + gap
    if not plus_three:
        cols.append(_Col("strip", right - 1.3, right, "Focus countries\n(grey: ASEAN band)", "left"))
        right -= 1.3 + 0.15
    cols.append(_Col("title", MARGIN, right, "", "left"))
    return cols[::-1]


def _colour_of(judged: str, directional: bool) -> str:
    return palette.BAND_COLOURS[judged] if directional and judged in ("better", "worse") else TEXT


def _cells(r: ProfileRow) -> dict[str, tuple[str, str, str]]:
    """Per column: first line, second line, colour of the first line."""
    has = not np.isnan(r.value)
    directional = r.better != "neutral"
    band = r.judged if r.band not in ("within", "no data") else "within"
    arrow_part, _, since = r.trend_text.partition(" since ")
    cells = {
        "value": (fmt(r.value) if has else "no data", r.year_text if has else "", _colour_of(band, directional)),
        "rank": (r.rank_text, r.ranked_years, TEXT),
        "trend": (arrow_part, since, _colour_of(r.trend_judged, directional)),
        "median": (fmt(r.median) if r.n else "no data", f"{r.n} of {r.big_n}", TEXT)}
    for code, (value, year) in r.plus_three.items():
        cells[code] = (fmt(value), str(year) if year else "", TEXT)
    return cells


class _Doc:
    """Pages of a profile, filled from the top; a block that does not fit starts a new page."""

    def __init__(self, note: CountryNote, cols: list[_Col], colour: str) -> None:
        self.note, self.cols, self.pages = note, cols, []
        self.in_table = False
        self.group: str | None = None  # the population group whose rows are being drawn
        self.colour = colour
        self.new_page()

    @property
    def fig(self):
        return self.pages[-1]

    def text(self, x: float, y: float, s: str, **kwargs) -> None:
        self.fig.text(x / PAGE[0], y / PAGE[1], s, **kwargs)

    def rule(self, y: float, colour: str = "#999999") -> None:
        self.fig.add_artist(Line2D([MARGIN / PAGE[0], 1 - MARGIN / PAGE[0]], [y / PAGE[1]] * 2, color=colour, lw=0.6))

    def new_page(self) -> None:
        fig = hand_laid_figure(*PAGE)
        self.pages.append(fig)
        self.y = PAGE[1] - MARGIN
        if len(self.pages) > 1:
            self.text(MARGIN, self.y, f"{self.note.name} (continued)", fontsize=11, fontweight="bold", va="top",
                      color=self.colour)
            self.y -= 0.4
            if self.in_table:
                self.table_header()
            if self.in_table and self.group:
                self.group_heading(self.group, continued=True)

    def ensure(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.new_page()

    def lines(self, lines: list[str], size: float, x: float = MARGIN, **kwargs) -> None:
        step = size * 1.3 / 72
        for line in lines:
            self.ensure(step)
            self.text(x, self.y, line, fontsize=size, va="top", **kwargs)
            self.y -= step

    def heading(self, title: str, after: float) -> None:
        self.ensure(0.3 + after)
        self.text(MARGIN, self.y, title, fontsize=10, fontweight="bold", va="top", color="#111111")
        self.y -= 0.24

    def group_heading(self, group: str, continued: bool = False) -> None:
        self.y -= 0.2
        title = GROUP_TITLES.get(group, group).split(":")[0] + (" (continued)" if continued else "")
        self.text(MARGIN, self.y, title, fontsize=9.5, fontweight="bold", va="bottom", color="#111111")
        if group in self.note.last_meetings and not continued:
            self.text(PAGE[0] - MARGIN, self.y, f"last meeting on this group: {self.note.last_meetings[group]}",
                      fontsize=SUB_SIZE, ha="right", va="bottom", color=LIGHT)
        self.rule(self.y - 0.04)
        self.y -= 0.12

    def table_header(self) -> None:
        size = SUB_SIZE + 0.4
        for col in self.cols:
            if col.header:
                self.text(col.x, self.y, col.header, fontsize=size, fontweight="bold", va="top", ha=col.align,
                          color=GREY, linespacing=1.15)
        most = max(col.header.count("\n") + 1 for col in self.cols)
        self.y -= 0.06 + most * size * 1.15 * 1.2 / 72


def _draw_front(doc: _Doc) -> None:
    note = doc.note
    doc.text(MARGIN, doc.y, note.name, fontsize=20, fontweight="bold", va="top", color=doc.colour)
    doc.y -= 0.42
    doc.text(MARGIN, doc.y, "Country profile · profile indicators by population group, beside ASEAN and the "
             "focus countries", fontsize=9.5, va="top", color="#444444")
    doc.y -= 0.27
    doc.lines(style.wrap(note.context, PAGE[0] - 2 * MARGIN, 8.6), 8.6, color=TEXT)
    doc.y -= 0.12
    if note.messages:
        doc.heading("Key messages", 0.3)
        for message in note.messages:
            wrapped = style.wrap(message, PAGE[0] - 2 * MARGIN - 0.2, MESSAGE_SIZE)
            doc.ensure(len(wrapped) * MESSAGE_SIZE * 1.3 / 72)
            doc.text(MARGIN, doc.y, "•", fontsize=MESSAGE_SIZE, va="top", color=TEXT)
            doc.lines(wrapped, MESSAGE_SIZE, x=MARGIN + 0.15, color=TEXT)
            doc.y -= 0.05
        doc.y -= 0.08


def _row_lines(r: ProfileRow, width: float) -> list[str]:
    return style.wrap(f"{r.title} ({r.unit})", width, ROW_SIZE)


def _draw_row(doc: _Doc, r: ProfileRow, title: list[str]) -> None:
    top = doc.y
    doc.text(MARGIN, top, "\n".join(title), fontsize=ROW_SIZE, va="top", color=TEXT, linespacing=1.15)
    for col in doc.cols[1:]:
        if col.key == "strip":
            _dot_strip(doc, col, top, r)
            continue
        first, second, colour = _cells(r).get(col.key, ("", "", TEXT))
        bold = col.key == "value" and first != "no data"
        doc.text(col.x, top, first, fontsize=ROW_SIZE + (0.6 if bold else 0), ha=col.align, va="top", color=colour,
                 fontweight="bold" if bold else "normal", style="italic" if first == "no data" else "normal")
        if second:
            doc.text(col.x, top - LINE, second, fontsize=SUB_SIZE, ha=col.align, va="top", color=LIGHT)
    if col_symbol := api.band_symbol(r.band) if r.band != "no data" else "":
        value_col = next(c for c in doc.cols if c.key == "value")
        doc.text(value_col.right + 0.04, top, col_symbol, fontsize=SUB_SIZE, va="top", color=_cells(r)["value"][2])


def _strip_transform(fig, left: float, bottom: float, width: float, xlim: tuple[float, float]) -> Transform:
    """Values (x within ``xlim``, y from -1 to 1) to the page: a strip box of ``width`` x STRIP_HEIGHT inches
    whose lower left corner is at (``left``, ``bottom``) inches."""
    x_scale = width / (xlim[1] - xlim[0])
    return (Affine2D().scale(x_scale, STRIP_HEIGHT / 2).translate(left - xlim[0] * x_scale, bottom + STRIP_HEIGHT / 2)
            + fig.dpi_scale_trans)


def _dot_strip(doc: _Doc, col: _Col, top: float, r: ProfileRow) -> None:
    """The focus countries' values as dots, the ASEAN band in grey, its median as a bar, the country large.

    Drawn straight on the page, clipped to the strip's box as an axes would clip it, rather than in an axes
    per row: an axes (with its ticks and spines, even hidden) cost more than the rest of the row together."""
    if len(r.others) == 0:
        return
    lo, hi = float(np.min(r.others)), float(np.max(r.others))
    pad = (hi - lo) * 0.05 or 1.0
    xlim = (lo - pad, hi + pad)
    to_page = _strip_transform(doc.fig, col.left, top - 0.17, col.right - col.left, xlim)
    box = TransformedBbox(Bbox([[xlim[0], -1], [xlim[1], 1]]), to_page)
    artists = []
    if r.n:
        artists += [Rectangle((r.lower, -1), r.upper - r.lower, 2, color="#000000", alpha=0.08, lw=0),
                    Line2D([r.median, r.median], [-0.9, 0.9], color=palette.AGGREGATE_COLOUR, lw=1.6)]
    artists.append(Line2D(r.others, np.zeros(len(r.others)), ls="none", marker="o", ms=3, color="#b0b0b0",
                          mec="none"))
    if not np.isnan(r.value):
        artists.append(Line2D([r.value], [0], ls="none", marker="o", ms=6, color=doc.colour, mec="#111111", mew=0.8))
    for artist in artists:
        artist.set_transform(to_page)
        artist.set_clip_box(box)
        doc.fig.add_artist(artist)


def _draw_table(doc: _Doc) -> None:
    title_width = doc.cols[0].right - doc.cols[0].left - 0.1  # style.wrap estimates glyph widths: keep a margin
    doc.ensure(1.0)
    doc.table_header()
    doc.in_table = True
    for r in doc.note.rows:
        title = _row_lines(r, title_width)
        height = 0.07 + LINE * max(len(title), 2)
        if r.group != doc.group:
            doc.group = None  # a new group starting a page needs no "(continued)" heading
            doc.ensure(0.4 + height)
            doc.group = r.group
            doc.group_heading(r.group)
        doc.ensure(height)
        _draw_row(doc, r, title)
        doc.y -= height
    doc.in_table, doc.group = False, None


def _footer_lines(note: CountryNote, n_focus: int) -> list[str]:
    """Sources of the values shown with their licences, the window, and how to read ranks, trends and colours."""
    shown = [r for r in note.rows if r.source_id]
    used = footer_mod.sources_used(pd.DataFrame({"source_id": [r.source_id for r in shown],
                                                 "vintage": [r.vintage for r in shown]}))
    foot = footer_mod.source_lines(used)
    licence = footer_mod.licence_line(used)
    foot += ([licence] if licence else []) + [note.window_note] + [
        f"Rank: place among those of the {n_focus} focus countries (ASEAN and Plus Three) that "
        "have a value, 1 = best where the indicator has a better direction; indicators without one "
        "(neutral) are ranked by value as highest or lowest, never better or worse. Years ranked: shown when the "
        "ranked values are of different years. 10-year trend: change from the value nearest to ten years before "
        "the latest (within the indicator's tolerance) to the latest; → flat when the change is smaller than the "
        "indicator's smallest meaningful difference. Value colour: blue = better, orange = worse than the ASEAN "
        "band (median of the members' latest values ± one median absolute deviation, at least the smallest "
        "meaningful difference; ▲ above, ● within, ▼ below); trend colour: improving (blue) or worsening "
        "(orange). 'no data': no value in the window (a gap, not zero)."]
    return [line for text in foot if text for line in style.wrap(text, PAGE[0] - 2 * MARGIN, FOOT_SIZE)]


def draw_profile(note: CountryNote, countries: pd.DataFrame | None = None) -> list:
    """The profile's pages (matplotlib figures): messages, context, the indicator table, notes, sources.
    ``countries``: :func:`palette.country_table`, when several profiles are drawn (else read here)."""
    names = api.country_names()
    plus_three = list(note.rows[0].plus_three) if note.rows else []
    n_focus = len(countries) if countries is not None else len(palette.focus_iso3())
    doc = _Doc(note, _columns(plus_three, names), palette.style_of(note.iso3, countries)["colour"])
    _draw_front(doc)
    _draw_table(doc)
    if note.notes:
        doc.y -= 0.1
        doc.heading("Notes", 0.3)
        for text in note.notes:
            doc.lines(["• " + line if k == 0 else "   " + line for k, line in
                       enumerate(style.wrap(text, PAGE[0] - 2 * MARGIN - 0.2, NOTE_SIZE))], NOTE_SIZE, color=TEXT)
    doc.y -= 0.12
    foot = _footer_lines(note, n_focus)
    doc.ensure(len(foot) * FOOT_SIZE * 1.3 / 72)
    doc.lines(foot, FOOT_SIZE, color=GREY)
    for k, fig in enumerate(doc.pages, start=1):
        fig.text(1 - MARGIN / PAGE[0], 0.3 / PAGE[1], f"{note.name} · country profile · page {k} of {len(doc.pages)}",
                 fontsize=FOOT_SIZE, ha="right", va="bottom", color=LIGHT)
    return doc.pages
