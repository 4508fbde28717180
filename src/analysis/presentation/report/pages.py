"""The chart pack's text pages: cover, the meetings' themes beside the data, contents.

Each is a list of lines (text, size, weight) laid out on as many A4 landscape pages as it needs
(:func:`text_pages`), so every page of the pack has one size. Numbers and names come from the API and
the charts' own metadata; file names are the release's, never a folder of the machine that made it.
"""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.presentation.charts import style
from analysis.presentation.gallery import AUTHORS, PACK_FILE, PACK_TITLE, WORKBOOK_FILE, project_title_version
from analysis.presentation.report.specs import GROUP_TITLES
from analysis.store import api, themes

PAGE = (11.69, 8.27)  # A4 landscape, inches: every page of the chart pack
TOP, BOTTOM, LEFT = 0.93, 0.08, 0.07  # figure fractions
Line = tuple[str, float, str]  # text, font size (pt), weight
BLANK: Line = ("", 6, "normal")

DATA_DESCRIPTOR = "datapackage.json"
GALLERY_FILE = "index.html"
HOW_TO_READ = (
    "Each country has one colour in every chart. ASEAN members are drawn with solid lines and filled bars; "
    "Plus Three comparators (China, Japan, Korea) with dashed lines, hatched bars and open markers, and "
    "their names in italics. The thick near-black line is the ASEAN statistic named in the key with its "
    "'n of N' members. Banded bars compare each country with the ASEAN median plus or minus one median "
    "absolute deviation (grey band); blue is better and orange worse where the indicator has a better "
    "direction. 'no data' rows are countries without a value: gaps are shown, never filled.")
REFERENCES_LINE = "Reference tables compiled for this project (meetings, members, events), one cited source per row."
THEMES_TITLE = "The meetings' themes and the indicators that speak to them"
THEMES_INTRO = (
    "Each topic of a meeting (as recorded in the meetings table) is matched, by stated rules, to the indicator "
    "areas it is about, and those to the indicators of the meeting's population groups and of the whole "
    "population that cover them (catalogue group, domain and concept). A match says which data speak to a "
    "theme; it does not say that a meeting changed them.")
EXAMPLES = 3


def _step(pt: float) -> float:
    return pt * 1.45 / 72.0 / PAGE[1]


def hand_laid_figure(width: float, height: float) -> Figure:
    """A page whose text is placed by hand: no layout engine at all. (A figure made with one and then set to
    "none" keeps a placeholder engine, and ``savefig`` then lays every text out twice, once in a dry draw.)"""
    fig = Figure(figsize=(width, height), layout="none")
    FigureCanvasAgg(fig)  # as style.new_figure: text extents can be measured before saving
    return fig


def text_pages(lines: list[Line]) -> list[Figure]:
    """The lines wrapped to the page width, on as many pages as they need (a heading never ends a page)."""
    pages: list[Figure] = []
    fig, y = None, 0.0
    for k, (text, pt, weight) in enumerate(lines):
        parts = style.wrap(text, PAGE[0] * (1 - 2 * LEFT), pt, bold=weight == "bold") or [""]
        needed = len(parts) * _step(pt) + (_step(lines[k + 1][1]) if weight == "bold" and k + 1 < len(lines) else 0)
        if fig is None or y - needed < BOTTOM:
            fig = hand_laid_figure(*PAGE)
            pages.append(fig)
            y = TOP
            if not text:
                continue  # no blank line at the top of a page
        for part in parts:
            fig.text(LEFT, y, part, fontsize=pt, fontweight=weight, va="top", ha="left", color="#222222")
            y -= _step(pt)
    return pages


# ----------------------------------------------------------------------------- cover
def _sources_used(drawn) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for _, chart in drawn:
        for sid, vintages in chart.sources.items():
            used.setdefault(sid, set()).update(vintages)
    return used


def source_lines(used: dict[str, set[str]]) -> list[Line]:
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


def citation(n_charts: int) -> str:
    title, version = project_title_version()
    return (f"{AUTHORS}, {title}" + (f", version {version}" if version else "")
            + f": chart pack ({PACK_FILE}, {n_charts} charts). Cite each data source as listed below, under its "
            "own licence.")


def cover_lines(drawn, example: str) -> list[Line]:
    files = (f"This file is {PACK_FILE}. It is published together with: {WORKBOOK_FILE}, an Excel workbook with one "
             "sheet per chart of this pack (the values drawn, with title, unit, sources and licence), one sheet "
             "per country profile and a sheet of sources, licences and vintages; the values of each chart as a "
             f"CSV file named after it (for example {example}.csv); and the whole indicator store as CSV files "
             f"described by {DATA_DESCRIPTOR} (a data dictionary in the Frictionless Data Package format). The "
             f"page {GALLERY_FILE} lists and links them all.")
    lines: list[Line] = [
        (PACK_TITLE, 20, "bold"), BLANK,
        (f"{len(drawn)} charts, grouped by population group, after key messages and a page that matches the "
         "meetings' themes to the data. Every number is read from the project's indicator store, built from "
         "the pinned sources below.", 10.5, "normal"), BLANK,
        ("Where the data are", 13, "bold"), (files, 9.5, "normal"), BLANK,
        ("How to cite", 13, "bold"), (citation(len(drawn)), 9.5, "normal"), BLANK,
        ("Data sources and vintages", 13, "bold")]
    lines += source_lines(_sources_used(drawn))
    lines += [BLANK, ("How to read the charts", 13, "bold"), (HOW_TO_READ, 9.5, "normal")]
    return lines


# ----------------------------------------------------------------------------- meetings' themes
def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _years(years) -> str:
    return ", ".join(str(y) for y in years)


def _indicator_phrase(ids: tuple[str, ...], titles: dict[str, str], headline: set[str]) -> str:
    if not ids:
        return "no indicator in the data"
    shown = sorted(ids, key=lambda i: (i not in headline, ids.index(i)))[:EXAMPLES]
    more = f" and {len(ids) - len(shown)} more" if len(ids) > len(shown) else ""
    return f"{len(ids)} indicator{'s' if len(ids) != 1 else ''}: " + "; ".join(titles[i] for i in shown) + more


def _meeting_heading(rec) -> str:
    title = rec.theme_en if isinstance(rec.theme_en, str) else "theme not found"
    unofficial = " (unofficial translation)" if rec.unofficial else ""
    return f"{_ordinal(rec.meeting_no)} meeting ({rec.year}): {title}{unofficial}"


def themes_lines() -> list[Line]:
    """The themes page: what the data cannot speak to, then each meeting's topics and their indicators."""
    coverage = themes.theme_coverage()
    catalogue = api.catalogue()
    titles = dict(zip(catalogue["indicator_id"].astype(str), catalogue["title"].astype(str)))
    headline = set(api.headline_indicators())
    lines: list[Line] = [(THEMES_TITLE, 16, "bold"), (THEMES_INTRO, 9.5, "normal"), BLANK,
                         ("Themes the data cannot speak to", 12, "bold")]
    for gap in themes.themes_without_data(coverage).itertuples():
        lines.append((f"{gap.label[:1].upper()}{gap.label[1:]} ({_years(gap.years)}): "
                      f"{'; '.join(gap.topics)}.", 9.0, "normal"))
    unknown = coverage.loc[coverage["topic"] == ""]
    if len(unknown):
        lines.append((f"Theme not found for {len(unknown)} meeting{'s' if len(unknown) != 1 else ''} "
                      f"({_years(unknown['year'])}).", 9.0, "normal"))
    lines += [BLANK, ("Each meeting's topics", 12, "bold")]
    for _, part in coverage.loc[coverage["topic"] != ""].groupby("meeting_no", sort=False):
        lines.append((_meeting_heading(next(part.itertuples())), 9.5, "bold"))
        for rec in part.itertuples():
            lines.append((f"    {rec.topic}: {_indicator_phrase(rec.indicator_ids, titles, headline)}.", 8.6,
                          "normal"))
    return lines


# ----------------------------------------------------------------------------- contents
def contents_lines(drawn, first_chart_page: int, front: list[tuple[str, int]]) -> list[Line]:
    """The contents: the front pages by title, then each chart under its population group."""
    lines: list[Line] = [("Contents", 16, "bold"), BLANK]
    lines += [(f"   p. {page}   {title}", 8.6, "normal") for title, page in front]
    current = None
    for k, (spec, chart) in enumerate(drawn):
        if spec["group"] != current:
            current = spec["group"]
            lines.append((GROUP_TITLES.get(current, current), 10.5, "bold"))
        lines.append((f"   p. {first_chart_page + k}   Figure {k + 1}. {chart.title}", 8.6, "normal"))
    return lines

