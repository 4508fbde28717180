"""Country profiles ``reports/profiles/<ISO3>.pdf``: one A4 page per focus country.

Per population group, each profile indicator (catalogue ``profile = true``) with the country's latest
value and year, the ASEAN median (n of N), the country's band and a dot strip of the focus countries.
Directions, windows and smallest meaningful differences come from the catalogue through the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd

from analysis.core import atomic
from analysis.presentation.charts import footer as footer_mod
from analysis.presentation.charts import palette, style
from analysis.presentation.charts.layout import fmt
from analysis.presentation.report.context import ReportContext, window_text
from analysis.presentation.report.pack import PDF_METADATA
from analysis.presentation.report.specs import GROUP_TITLES, profile_groups
from analysis.store import api

PAGE = (8.27, 11.69)  # A4 portrait, inches
MARGIN = 0.5
TOP = PAGE[1] - 1.4  # inches from the bottom: the column headings
# Left edge (title, band, strip) or right edge (value, year, median) of each column, inches.
COLS = {"title": MARGIN, "value": 4.55, "year": 5.05, "median": 6.05, "band": 6.12, "strip": 6.85}
ROW_SIZE, FOOT_SIZE = 7.2, 6.6
GROUP_GAP, GROUP_RULE_GAP = 0.30, 0.14


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


def _text_or_none(rec: pd.Series | None, column: str) -> str | None:
    return None if rec is None or pd.isna(rec.get(column)) else str(rec[column])


def _profile_row(part: pd.DataFrame, ctx: ReportContext, ind: str, iso3: str, table: pd.DataFrame,
                 members: list[str]) -> ProfileRow:
    meta = ctx.meta(ind)
    vals = part["value"].astype("float64") if not part.empty else pd.Series(dtype="float64")
    b = api.band(vals.reindex(table["iso3"]), reference=vals.reindex(members),
                 min_difference=api.min_difference_of(ind))
    judged = api.judge(b["band"], meta.better)
    rec = part.loc[iso3] if iso3 in part.index else None
    value = float(rec["value"]) if rec is not None and pd.notna(rec["value"]) else np.nan
    year = int(rec["year"]) if rec is not None and pd.notna(rec["year"]) else None
    return ProfileRow(
        group=meta.group, indicator_id=ind, title=meta.title, unit=meta.unit, better=meta.better, value=value,
        year=year, median=float(b["center"].iloc[0]), n=int(b["n"].iloc[0]), big_n=len(members),
        band=str(b.loc[iso3, "band"]), judged=str(judged.loc[iso3]), lower=float(b["lower"].iloc[0]),
        upper=float(b["upper"].iloc[0]), others=vals.reindex(table["iso3"]).dropna().to_numpy(),
        source_id=_text_or_none(rec, "source_id"), vintage=_text_or_none(rec, "vintage"))


def profile_table(latest: pd.DataFrame, ctx: ReportContext, iso3: str) -> list[ProfileRow]:
    """Per profile indicator: the country's latest value and year, the ASEAN median and its band."""
    table = palette.country_table()
    members = table.loc[table["group"] == palette.ASEAN, "iso3"].tolist()
    rows = []
    for ids in profile_groups().values():
        for ind in ids:
            part = latest[latest["indicator_id"] == ind].set_index("iso3")
            rows.append(_profile_row(part, ctx, ind, iso3, table, members))
    return rows


# ----------------------------------------------------------------------------- drawing one page
class _Page:
    """A page figure addressed in inches from the bottom-left corner."""

    def __init__(self) -> None:
        self.width, self.height = PAGE
        self.fig = style.new_figure(*PAGE)
        self.fig.set_layout_engine("none")

    def fx(self, x: float) -> float:
        return x / self.width

    def fy(self, y: float) -> float:
        return y / self.height

    def text(self, x: float, y: float, s: str, **kwargs) -> None:
        self.fig.text(self.fx(x), self.fy(y), s, **kwargs)


def _footer_lines(rows: list[ProfileRow], window_note: str, name: str, n_countries: int) -> list[str]:
    """The footer wrapped to the page: sources of the values shown, the window and how to read the bands."""
    used = pd.DataFrame({"source_id": [r.source_id for r in rows if r.source_id],
                         "vintage": [r.vintage for r in rows if r.source_id]})
    foot = footer_mod.source_lines(footer_mod.sources_used(used))
    foot += [window_note,
             "Band: the ASEAN median of the members' latest values ± one median absolute deviation (grey); ▲ above, "
             "● within, ▼ below; blue = better, orange = worse where the indicator has a better direction. "
             f"Dots: the {n_countries} focus countries; large dot: {name}. 'no data': no value in the window "
             "(a gap, not zero)."]
    lines: list[str] = []
    for line in foot:
        lines.extend(style.wrap(line, PAGE[0] - 2 * MARGIN - 0.2, FOOT_SIZE))
    return lines


def _row_height(wrapped: list[str]) -> float:
    return 0.2 + 0.115 * len(wrapped)


def _draw_header(page: _Page, st: dict, n_countries: int) -> None:
    status = (f"ASEAN member since {st['joined'][:4]}" if st["group"] == palette.ASEAN and st.get("joined")
              else "Plus Three comparator")
    page.text(MARGIN, page.height - 0.45, st["name"], fontsize=20, fontweight="bold", va="top", color=st["colour"])
    page.text(MARGIN, page.height - 0.85, f"Country profile · {status} · headline indicators by population group",
              fontsize=9.5, va="top", color="#444444")
    head = dict(fontsize=ROW_SIZE, fontweight="bold", va="bottom", color="#444444")
    page.text(COLS["value"], TOP, "Value", ha="right", **head)
    page.text(COLS["year"], TOP, "Year", ha="right", **head)
    page.text(COLS["median"], TOP, "ASEAN median\n(n of N)", ha="right", **head)
    page.text(COLS["band"], TOP, "Band", ha="left", **head)
    page.text(COLS["strip"], TOP, f"{n_countries} focus countries", ha="left", **head)


def _draw_group_heading(page: _Page, group: str, y: float) -> None:
    page.text(MARGIN, y, GROUP_TITLES.get(group, group).split(":")[0], fontsize=10, fontweight="bold", va="bottom",
              color="#111111")
    page.fig.add_artist(mpl.lines.Line2D([page.fx(MARGIN), page.fx(page.width - MARGIN)], [page.fy(y - 0.04)] * 2,
                                         color="#999999", lw=0.6))


def _band_colour(r: ProfileRow) -> str:
    if r.band in ("within", "no data"):
        return "#555555"
    return palette.BAND_COLOURS.get(r.judged, "#999999")


def _draw_row(page: _Page, r: ProfileRow, wrapped: list[str], row_top: float, colour: str) -> None:
    page.text(COLS["title"], row_top, "\n".join(wrapped), fontsize=ROW_SIZE, va="top", color="#222222",
              linespacing=1.1)
    has = not np.isnan(r.value)
    page.text(COLS["value"], row_top, fmt(r.value) if has else "no data", fontsize=8 if has else ROW_SIZE,
              fontweight="bold" if has else "normal", style="normal" if has else "italic", ha="right", va="top",
              color="#111111" if has else palette.NO_DATA_COLOUR)
    page.text(COLS["year"], row_top, str(r.year) if r.year else "–", fontsize=ROW_SIZE, ha="right", va="top",
              color="#444444")
    median = f"{fmt(r.median)} ({r.n} of {r.big_n})" if r.n else "no data"
    page.text(COLS["median"], row_top, median, fontsize=ROW_SIZE, ha="right", va="top", color="#444444")
    page.text(COLS["band"], row_top, f"{api.band_symbol(r.band)} {r.judged}", fontsize=ROW_SIZE, ha="left",
              va="top", color=_band_colour(r))
    rect = (page.fx(COLS["strip"]), page.fy(row_top - 0.17), page.fx(page.width - MARGIN - COLS["strip"]),
            page.fy(0.16))
    _dot_strip(page.fig, rect, r, colour)


def _draw_rows(page: _Page, rows: list[ProfileRow], foot_top: float, colour: str) -> None:
    """The rows under their group headings; rows and gaps shrink together (never the text) when space is short."""
    title_w = COLS["value"] - COLS["title"] - 0.55
    wrapped = [style.wrap(f"{r.title} ({r.unit})", title_w, ROW_SIZE)[:2] for r in rows]
    n_groups = len({r.group for r in rows})
    need = sum(_row_height(w) for w in wrapped) + n_groups * GROUP_GAP
    scale = min(1.0, (TOP - foot_top - 0.1 - n_groups * GROUP_RULE_GAP) / need)
    y, current = TOP, None
    for r, w in zip(rows, wrapped, strict=True):
        if r.group != current:
            current = r.group
            y -= GROUP_GAP * scale + 0.06
            _draw_group_heading(page, r.group, y)
            y -= 0.08
        _draw_row(page, r, w, y - 0.04, colour)
        y -= _row_height(w) * scale


def draw_profile(iso3: str, rows: list[ProfileRow], window_note: str):
    """One A4 portrait page: per population group, each profile indicator with value, year,
    ASEAN median (n of N), band, and a dot strip of the focus countries."""
    table = palette.country_table()
    st = palette.style_of(iso3, table)
    foot_lines = _footer_lines(rows, window_note, st["name"], len(table))
    foot_top = 0.35 + len(foot_lines) * 0.118  # inches from the bottom
    page = _Page()
    _draw_header(page, st, len(table))
    _draw_rows(page, rows, foot_top, st["colour"])
    page.text(MARGIN, foot_top, "\n".join(foot_lines), fontsize=FOOT_SIZE, va="top", color="#555555",
              linespacing=1.25)
    return page.fig


def _dot_strip(fig, rect, r: ProfileRow, colour: str) -> None:
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    if len(r.others) == 0:
        return
    lo, hi = float(np.min(r.others)), float(np.max(r.others))
    pad = (hi - lo) * 0.05 or 1.0
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(-1, 1)
    if r.n:
        ax.axvspan(r.lower, r.upper, color="#000000", alpha=0.08, lw=0)
        ax.plot([r.median, r.median], [-0.9, 0.9], color=palette.AGGREGATE_COLOUR, lw=1.6)
    ax.plot(r.others, np.zeros(len(r.others)), "o", ms=3, color="#b0b0b0", mec="none")
    if not np.isnan(r.value):
        ax.plot([r.value], [0], "o", ms=6, color=colour, mec="#111111", mew=0.8)


# ----------------------------------------------------------------------------- writing the profiles
def _profile_latest(ctx: ReportContext, wanted: list[str]) -> tuple[pd.DataFrame, tuple[int, int] | None]:
    """Latest values of the profile indicators; one absent from the store is a gap for every country."""
    ids = [i for i in wanted if i in ctx.store_ids]
    latest, window = ctx.latest(ids) if ids else (pd.DataFrame(columns=["iso3", "indicator_id"]), None)
    for ind in wanted:
        if ind not in ctx.store_ids:
            latest = pd.concat([latest, pd.DataFrame({"iso3": palette.focus_iso3(), "indicator_id": ind,
                                                      "value": np.nan, "year": pd.NA})], ignore_index=True)
    return latest, window


def write_profiles(ctx: ReportContext, out_dir: Path, countries: list[str] | None = None) -> list[Path]:
    """``reports/profiles/<ISO3>.pdf`` for every focus country (or those given; an empty list: none)."""
    if countries is not None and not countries:
        return []
    wanted = [i for ids in profile_groups().values() for i in ids]
    latest, window = _profile_latest(ctx, wanted)
    window_note = (window_text(wanted) + " up to each indicator's latest year in the store "
                   f"(here {window[0]}–{window[1]} at the widest)." if window else "")
    written = []
    for iso3 in countries if countries is not None else palette.focus_iso3():
        rows = profile_table(latest, ctx, iso3)
        with style.styled():
            fig = draw_profile(iso3, rows, window_note)
            target = out_dir / f"{iso3}.pdf"
            atomic.write_with(target, lambda tmp, f=fig: f.savefig(tmp, format="pdf", metadata=dict(PDF_METADATA)))
            fig.clear()
        written.append(target)
    return written
