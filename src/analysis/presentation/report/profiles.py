"""Country profiles ``reports/profiles/<ISO3>.pdf``: a country note of one or two A4 pages per focus country.

Each opens with the country's key messages (:func:`analysis.store.messages.country_messages`) and a context
line (population, share aged 65+, income group, ASEAN membership), then, per population group, each profile
indicator (catalogue ``profile = true``) with the country's latest value and year, its rank among the focus
countries with data, its ten-year trend, the ASEAN median (n of N) and, for a Plus Three country, the three
Plus Three values; then the notes that rules attach where a value needs one. Ranks, trends and the context
come from :mod:`analysis.store.standing`; directions, windows and smallest differences from the catalogue.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from analysis.core import atomic
from analysis.presentation.charts import footer as footer_mod
from analysis.presentation.charts import palette, style
from analysis.presentation.charts.layout import fmt
from analysis.presentation.report.context import ReportContext, make_context, window_text
from analysis.presentation.report.pack import PDF_METADATA
from analysis.presentation.report.specs import GROUP_TITLES, profile_groups
from analysis.store import api, standing
from analysis.store.messages import country_messages

#: The SDG 1.3.1 total ("at least one benefit") and the prefix its parts (pensions, children, ...) share.
COVERAGE_TOTAL, COVERAGE_PREFIX = "sp_cov_total", "sp_cov_"
#: A negative value of this gap needs a word on who is in the labour force.
DISABILITY_GAP = "unemployment_disability_gap"


@dataclass
class ProfileRow:
    group: str
    indicator_id: str
    title: str
    unit: str
    better: str
    value: float
    year: int | None
    median: float
    n: int
    big_n: int
    band: str
    judged: str
    lower: float
    upper: float
    others: np.ndarray
    source_id: str | None
    vintage: str | None
    year_text: str = "–"  # "2015–2020" for a value of a five-year period
    rank: int | None = None
    rank_n: int = 0
    rank_text: str = "no data"  # "3 of 14" (1 = best) or, neutral, "2nd highest of 14"
    ranked_years: str = ""  # the years of the ranked values when they differ: "2014–2024"
    trend_text: str = "–"  # "↓ -3.1 since 2014", "→ flat since 2014"
    trend_direction: str = "none"  # up, down, flat, none
    trend_judged: str = "no data"  # better, worse, flat, neutral, no data
    trend_change: float = math.nan
    trend_since: int | None = None
    plus_three: dict[str, tuple[float, int | None]] = field(default_factory=dict)  # iso3 -> (value, year)


def _text_or_none(rec: pd.Series | None, column: str) -> str | None:
    return None if rec is None or pd.isna(rec.get(column)) else str(rec[column])


def _year_text(year: int | None, period: int) -> str:
    if year is None:
        return "–"
    return f"{year}–{year + period}" if period > 1 else str(year)


def _ranked_years(part: pd.DataFrame, focus: list[str]) -> str:
    years = part.reindex(focus).dropna(subset=["value"])["year"].dropna().astype(int)
    return "" if years.empty or years.min() == years.max() else f"{years.min()}–{years.max()}"


def _plus_three_values(part: pd.DataFrame, iso3: str, plus_three: list[str]) -> dict[str, tuple[float, int | None]]:
    """The Plus Three values beside a Plus Three country's own (none for an ASEAN country)."""
    if iso3 not in plus_three:
        return {}
    out = {}
    for code in plus_three:
        rec = part.loc[code] if code in part.index else None
        has = rec is not None and pd.notna(rec["value"])
        out[code] = (float(rec["value"]), int(rec["year"])) if has else (math.nan, None)
    return out


def _add_standing(row: ProfileRow, iso3: str, part: pd.DataFrame, series: pd.DataFrame, focus: list[str]) -> None:
    """The row's rank among the focus countries with data and its ten-year trend."""
    values = part["value"].reindex(focus) if not part.empty else pd.Series(dtype="float64")
    rank = standing.rank_in(values, iso3, row.better)
    mine = (series["iso3"] == iso3).to_numpy(bool) & (series["indicator_id"] == row.indicator_id).to_numpy(bool)
    own = series.loc[mine]
    trend = standing.trend_for(row.indicator_id, own, row.year)
    row.rank, row.rank_n, row.rank_text = rank.k, rank.n, rank.text
    row.ranked_years = _ranked_years(part, focus) if not part.empty else ""
    row.trend_text, row.trend_direction, row.trend_judged = trend.text(), trend.direction, trend.judged
    row.trend_change, row.trend_since = trend.change, trend.start_year


def _profile_row(part: pd.DataFrame, ctx: ReportContext, ind: str, iso3: str, groups: dict[str, list[str]],
                 series: pd.DataFrame) -> ProfileRow:
    meta = ctx.meta(ind)
    focus, members = groups["FOCUS"], groups["ASEAN"]
    vals = part["value"].astype("float64") if not part.empty else pd.Series(dtype="float64")
    b = api.band(vals.reindex(focus), reference=vals.reindex(members), min_difference=api.min_difference_of(ind))
    judged = api.judge(b["band"], meta.better)
    rec = part.loc[iso3] if iso3 in part.index else None
    value = float(rec["value"]) if rec is not None and pd.notna(rec["value"]) else np.nan
    year = int(rec["year"]) if rec is not None and pd.notna(rec["year"]) else None
    row = ProfileRow(
        group=meta.group, indicator_id=ind, title=meta.title, unit=meta.unit, better=meta.better, value=value,
        year=year, median=float(b["center"].iloc[0]), n=int(b["n"].iloc[0]), big_n=len(members),
        band=str(b.loc[iso3, "band"]), judged=str(judged.loc[iso3]), lower=float(b["lower"].iloc[0]),
        upper=float(b["upper"].iloc[0]), others=vals.reindex(focus).dropna().to_numpy(),
        source_id=_text_or_none(rec, "source_id"), vintage=_text_or_none(rec, "vintage"),
        year_text=_year_text(year, ctx.period(ind)), plus_three=_plus_three_values(part, iso3, groups["PLUS_THREE"]))
    _add_standing(row, iso3, part, series, focus)
    return row


def profile_table(latest: pd.DataFrame, ctx: ReportContext, iso3: str) -> list[ProfileRow]:
    """Per profile indicator: the country's latest value and year, its rank among the focus countries with
    data, its ten-year trend, the ASEAN median and band and, for a Plus Three country, the Plus Three values."""
    groups = {g: ctx.members(g) for g in ("FOCUS", "ASEAN", "PLUS_THREE")}
    ids = [ind for ids in profile_groups().values() for ind in ids]
    series = ctx.series([i for i in ids if i in ctx.store_ids])
    rows = []
    for ind in ids:
        part = latest[latest["indicator_id"] == ind].set_index("iso3")
        rows.append(_profile_row(part, ctx, ind, iso3, groups, series))
    return rows


# ----------------------------------------------------------------------------- notes: rules, not prose per country
def _value_text(r: ProfileRow) -> str:
    return f"{fmt(r.value)} {r.unit} ({r.year_text})"


def _coverage_notes(rows: dict[str, ProfileRow]) -> list[str]:
    """SDG 1.3.1 parts above the total: the total counts people of every age, the parts one group each."""
    total = rows.get(COVERAGE_TOTAL)
    if total is None or np.isnan(total.value):
        return []
    min_diff = api.min_difference_of(COVERAGE_TOTAL)
    above = [r for i, r in rows.items() if i.startswith(COVERAGE_PREFIX) and i != COVERAGE_TOTAL
             and not np.isnan(r.value) and r.value > total.value + min_diff]
    if not above:
        return []
    parts = "; ".join(f"{r.title}: {_value_text(r)}" for r in above)
    return [f"Coverage of a group above the total: {parts}; {total.title}: {_value_text(total)}. The total "
            "counts every person of every age who receives at least one benefit, so wide coverage of one group "
            "(such as pensions above retirement age) can sit beside a lower total when children and people of "
            "working age are less often covered."]


def _gap_notes(rows: dict[str, ProfileRow]) -> list[str]:
    gap = rows.get(DISABILITY_GAP)
    if gap is None or np.isnan(gap.value) or gap.value >= 0:
        return []
    return [f"{gap.title}: {_value_text(gap)} is below zero: persons with disabilities who are in the labour "
            "force are less often unemployed than others, which can come with fewer of them being in the labour "
            "force at all (unemployment counts only those looking for work)."]


def _period_notes(rows: list[ProfileRow], ctx: ReportContext) -> list[str]:
    out = []
    for r in rows:
        period = ctx.period(r.indicator_id)
        if period > 1 and r.year is not None:
            out.append(f"{r.title}: the value is an average over the {period}-year period {r.year_text} "
                       f"(the source publishes {period}-year periods), not one calendar year.")
    return out


def _catalogue_notes(rows: list[ProfileRow], ctx: ReportContext) -> list[str]:
    return [f"{r.title}: {ctx.note(r.indicator_id)}" for r in rows if ctx.note(r.indicator_id)]


def _gaps_note(rows: list[ProfileRow], name: str) -> list[str]:
    missing = [r.title for r in rows if np.isnan(r.value)]
    if not missing:
        return []
    return [f"No value for {name} in the window for {len(missing)} of {len(rows)} indicators "
            f"({'; '.join(missing)}): gaps, not zeros; they are left out of ranks and medians."]


def profile_notes(rows: list[ProfileRow], ctx: ReportContext, name: str) -> list[str]:
    """The notes the rules attach to a profile: SDG 1.3.1 parts above the total, a negative disability
    unemployment gap, values of multi-year periods, the catalogue's notes on the indicators shown, gaps."""
    by_id = {r.indicator_id: r for r in rows}
    return (_coverage_notes(by_id) + _gap_notes(by_id) + _period_notes(rows, ctx) + _catalogue_notes(rows, ctx)
            + _gaps_note(rows, name))


# ----------------------------------------------------------------------------- one country's note
@dataclass
class CountryNote:
    """Everything a profile shows, in the order it shows it (the PDF, the notebook and the workbook)."""

    iso3: str
    name: str
    context: str
    messages: list[str]
    rows: list[ProfileRow]
    notes: list[str]
    last_meetings: dict[str, str]  # population group -> "23rd meeting, 2025 (year inferred)"
    window_note: str

    def table(self) -> pd.DataFrame:
        """The rows as a table (what notebook 07 shows)."""
        out = pd.DataFrame({
            "indicator": [r.title for r in self.rows], "unit": [r.unit for r in self.rows],
            "value": [r.value for r in self.rows], "year": [r.year_text for r in self.rows],
            "rank": [r.rank_text for r in self.rows], "years ranked": [r.ranked_years for r in self.rows],
            "10-year trend": [r.trend_text for r in self.rows],
            "ASEAN median": [r.median for r in self.rows],
            "members reporting": [f"{r.n} of {r.big_n}" for r in self.rows]})
        names = api.country_names()
        for code in self.rows[0].plus_three if self.rows else {}:
            out[names.get(code, code)] = [r.plus_three[code][0] for r in self.rows]
        return out


def country_note(iso3: str, ctx: ReportContext | None = None, latest: pd.DataFrame | None = None,
                 window_note: str | None = None) -> CountryNote:
    """One country's profile content: messages, context line, indicator rows, notes, last meetings."""
    ctx = ctx or make_context(None)
    if latest is None:
        latest, window_note = profile_latest(ctx)
    rows = profile_table(latest, ctx, iso3)
    context = standing.country_context(iso3, processed_dir=ctx.processed_dir, latest=latest)
    messages = [m.text for m in country_messages(iso3, processed_dir=ctx.processed_dir)]
    return CountryNote(iso3=iso3, name=context.name, context=context.line(), messages=messages, rows=rows,
                       notes=profile_notes(rows, ctx, context.name), window_note=window_note or "",
                       last_meetings=standing.last_meeting_labels(ctx.meetings, list(profile_groups())))


# ----------------------------------------------------------------------------- writing the profiles
def _latest_of_profile(ctx: ReportContext, wanted: list[str]) -> tuple[pd.DataFrame, tuple[int, int] | None]:
    """Latest values of the profile indicators; one absent from the store is a gap for every country."""
    ids = [i for i in wanted if i in ctx.store_ids]
    latest, window = ctx.latest(ids) if ids else (pd.DataFrame(columns=["iso3", "indicator_id"]), None)
    for ind in wanted:
        if ind not in ctx.store_ids:
            latest = pd.concat([latest, pd.DataFrame({"iso3": palette.focus_iso3(), "indicator_id": ind,
                                                      "value": np.nan, "year": pd.NA})], ignore_index=True)
    return latest, window


def profile_latest(ctx: ReportContext) -> tuple[pd.DataFrame, str]:
    """The latest values of every profile indicator and the sentence stating their windows."""
    wanted = [i for ids in profile_groups().values() for i in ids]
    context_ids = [i for i in (standing.POPULATION, standing.SHARE_65) if i not in wanted]
    latest, window = _latest_of_profile(ctx, wanted + context_ids)
    note = (window_text(wanted) + " up to each indicator's latest year in the store "
            f"(here {window[0]}–{window[1]} at the widest)." if window else "")
    return latest, note


def write_profiles(ctx: ReportContext, out_dir: Path, countries: list[str] | None = None) -> list[Path]:
    """``reports/profiles/<ISO3>.pdf`` for every focus country (or those given; an empty list: none)."""
    if countries is not None and not countries:
        return []
    latest, window_note = profile_latest(ctx)
    written = []
    for iso3 in countries if countries is not None else palette.focus_iso3():
        note = country_note(iso3, ctx, latest, window_note)
        target = out_dir / f"{iso3}.pdf"
        with style.styled():
            figures = draw_profile(note)
            title = f"{note.name}: country profile"

            def writer(tmp: Path, figs=figures, title=title) -> None:
                with PdfPages(tmp, metadata={**PDF_METADATA, "Title": title}) as pdf:
                    for fig in figs:
                        pdf.savefig(fig)

            atomic.write_with(target, writer)
            for fig in figures:
                fig.clear()
        written.append(target)
    return written


# ----------------------------------------------------------------------------- drawing the pages
PAGE = (8.27, 11.69)  # A4 portrait, inches
MARGIN = 0.5
BOTTOM = 0.6  # inches from the bottom: below it only the page line
ROW_SIZE, SUB_SIZE, MESSAGE_SIZE, NOTE_SIZE, FOOT_SIZE = 7.2, 6.3, 8.2, 7.0, 6.4
LINE = 0.118  # inches per line of row text
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

    def __init__(self, note: CountryNote, cols: list[_Col]) -> None:
        self.note, self.cols, self.pages = note, cols, []
        self.in_table = False
        self.group: str | None = None  # the population group whose rows are being drawn
        self.colour = palette.style_of(note.iso3)["colour"]
        self.new_page()

    @property
    def fig(self):
        return self.pages[-1]

    def text(self, x: float, y: float, s: str, **kwargs) -> None:
        self.fig.text(x / PAGE[0], y / PAGE[1], s, **kwargs)

    def rule(self, y: float, colour: str = "#999999") -> None:
        self.fig.add_artist(mpl.lines.Line2D([MARGIN / PAGE[0], 1 - MARGIN / PAGE[0]], [y / PAGE[1]] * 2,
                                             color=colour, lw=0.6))

    def new_page(self) -> None:
        fig = style.new_figure(*PAGE)
        fig.set_layout_engine("none")
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


def _dot_strip(doc: _Doc, col: _Col, top: float, r: ProfileRow) -> None:
    """The focus countries' values as dots, the ASEAN band in grey, its median as a bar, the country large."""
    if len(r.others) == 0:
        return
    ax = doc.fig.add_axes((col.left / PAGE[0], (top - 0.17) / PAGE[1], (col.right - col.left) / PAGE[0],
                           0.16 / PAGE[1]))
    ax.set_axis_off()
    lo, hi = float(np.min(r.others)), float(np.max(r.others))
    pad = (hi - lo) * 0.05 or 1.0
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(-1, 1)
    if r.n:
        ax.axvspan(r.lower, r.upper, color="#000000", alpha=0.08, lw=0)
        ax.plot([r.median, r.median], [-0.9, 0.9], color=palette.AGGREGATE_COLOUR, lw=1.6)
    ax.plot(r.others, np.zeros(len(r.others)), "o", ms=3, color="#b0b0b0", mec="none")
    if not np.isnan(r.value):
        ax.plot([r.value], [0], "o", ms=6, color=doc.colour, mec="#111111", mew=0.8)


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


def _footer_lines(note: CountryNote) -> list[str]:
    """Sources of the values shown with their licences, the window, and how to read ranks, trends and colours."""
    shown = [r for r in note.rows if r.source_id]
    used = footer_mod.sources_used(pd.DataFrame({"source_id": [r.source_id for r in shown],
                                                 "vintage": [r.vintage for r in shown]}))
    foot = footer_mod.source_lines(used)
    licence = footer_mod.licence_line(used)
    foot += ([licence] if licence else []) + [note.window_note] + [
        f"Rank: place among those of the {len(palette.focus_iso3())} focus countries (ASEAN and Plus Three) that "
        "have a value, 1 = best where the indicator has a better direction; indicators without one "
        "(neutral) are ranked by value as highest or lowest, never better or worse. Years ranked: shown when the "
        "ranked values are of different years. 10-year trend: change from the value nearest to ten years before "
        "the latest (within the indicator's tolerance) to the latest; → flat when the change is smaller than the "
        "indicator's smallest meaningful difference. Value colour: blue = better, orange = worse than the ASEAN "
        "band (median of the members' latest values ± one median absolute deviation, at least the smallest "
        "meaningful difference; ▲ above, ● within, ▼ below); trend colour: improving (blue) or worsening "
        "(orange). 'no data': no value in the window (a gap, not zero)."]
    return [line for text in foot if text for line in style.wrap(text, PAGE[0] - 2 * MARGIN, FOOT_SIZE)]


def draw_profile(note: CountryNote) -> list:
    """The profile's pages (matplotlib figures): messages, context, the indicator table, notes, sources."""
    names = api.country_names()
    plus_three = list(note.rows[0].plus_three) if note.rows else []
    doc = _Doc(note, _columns(plus_three, names))
    _draw_front(doc)
    _draw_table(doc)
    if note.notes:
        doc.y -= 0.1
        doc.heading("Notes", 0.3)
        for text in note.notes:
            doc.lines(["• " + line if k == 0 else "   " + line for k, line in
                       enumerate(style.wrap(text, PAGE[0] - 2 * MARGIN - 0.2, NOTE_SIZE))], NOTE_SIZE, color=TEXT)
    doc.y -= 0.12
    foot = _footer_lines(note)
    doc.ensure(len(foot) * FOOT_SIZE * 1.3 / 72)
    doc.lines(foot, FOOT_SIZE, color=GREY)
    for k, fig in enumerate(doc.pages, start=1):
        fig.text(1 - MARGIN / PAGE[0], 0.3 / PAGE[1], f"{note.name} · country profile · page {k} of {len(doc.pages)}",
                 fontsize=FOOT_SIZE, ha="right", va="bottom", color=LIGHT)
    return doc.pages
