"""The static gallery ``reports/index.html``: every published chart, described for a reader.

Charts are grouped by folder (the chart pack, split by population group and topic, then one section per
notebook). Each card has a small thumbnail (the full PNG on click), a caption with the data year and the
source, an alt text computed from the chart's own CSV (kind, range, highest and lowest country, ASEAN
median, year), download links named after the chart, and a "how to cite" line. The page is rendered
from ``templates/gallery.html`` (Jinja2, autoescaped: titles and footers are text, never markup); its
CSS and filter script are inlined from the same folder so the page works opened from disk.

Kept apart from :mod:`analysis.presentation.report` so that listing the charts does not import
matplotlib; the CSVs are read with the standard library for the same reason.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from analysis.core import atomic, paths
from analysis.core.errors import AnalysisError
from analysis.store import api

PACK_TITLE = "Caring societies in ASEAN and Plus Three: chart pack"
PACK_SUBDIR = "pack"
TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "gallery.html"
LINKED_FORMATS = ("png", "svg", "pdf", "csv", "json")
THUMBNAILS = "thumbnails"
THUMB_WIDTH = 320
#: flat chart colours survive a small palette; 64 colours make thumbnails about a quarter smaller than 256
THUMB_COLOURS = 64
#: how the thumbnails' palette is chosen (part of their names: a change redraws them)
THUMB_METHOD = "FASTOCTREE"
AUTHORS = "caring-societies contributors"

FORMAT_LABELS = {"png": "PNG image", "svg": "SVG image", "pdf": "PDF", "csv": "CSV data", "json": "JSON metadata"}
KIND_LABELS = {
    "banded_bars": "Bar chart", "ranked_bars": "Ranked bar chart", "lines": "Line chart",
    "slope": "Slope chart", "small_multiples": "Small-multiple line charts", "scatter": "Scatter plot",
    "heatmap": "Heatmap", "pyramid": "Population pyramid", "stacked_bars": "Stacked bar chart",
    "timeline": "Timeline",
}
#: the chart pack's file names start with the topic (``07-children-...``): its population group or theme
PACK_TOPICS = {
    "older": "Older persons", "children": "Children", "mothers": "Mothers",
    "disability": "Persons with disabilities", "health": "Health and health systems",
    "protection": "Social protection", "headline": "All headline indicators",
    "meetings": "Meetings on caring societies",
}
ACRONYMS = {"uhc": "UHC", "asean": "ASEAN", "hale": "HALE", "sdg": "SDG"}
#: kinds whose values are one series over time: the alt text reads their latest observed year
SERIES_KINDS = frozenset({"lines", "small_multiples"})
SINGLE_VALUE_KINDS = frozenset({"banded_bars", "ranked_bars", "slope", "lines", "small_multiples"})
_ISO_DATE = re.compile(r"^\d{4}(-\d{2}){0,2}$")


@dataclass(frozen=True)
class Link:
    href: str
    label: str
    about: str  # read by screen readers and search, shown only to them: which chart's file this is


@dataclass(frozen=True)
class Facts:
    """What a chart's CSV says: the countries drawn, the years behind the values, the alt-text phrase."""

    countries: tuple[str, ...] = ()
    years: str = ""
    summary: str = ""


@dataclass(frozen=True)
class Card:
    """One chart of the gallery; ``href`` is its path relative to reports/ without the extension."""

    id: str
    href: str
    title: str
    subtitle: str
    kind: str
    thumb: str
    alt: str
    years: str
    sources: tuple[str, ...]
    countries: tuple[str, ...]
    links: tuple[Link, ...]
    cite: str
    search: str


@dataclass(frozen=True)
class Group:
    heading: str
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class Section:
    id: str
    heading: str
    groups: tuple[Group, ...]
    notebook: Link | None = None

    @property
    def cards(self) -> tuple[Card, ...]:
        return tuple(card for group in self.groups for card in group.cards)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


# ----------------------------------------------------------------------------- reading a chart's files
def _read_meta(meta_path: Path) -> dict:
    """A chart's JSON metadata; an unreadable file still lists the chart, by its file name."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _read_rows(csv_path: Path) -> list[dict[str, str]]:
    """The chart's plotted values; a missing or unreadable CSV gives a card without computed facts."""
    try:
        with csv_path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _year(text: str | None) -> int | None:
    value = _number(text)
    return int(value) if value is not None else None


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"


# ----------------------------------------------------------------------------- facts from the CSV
def _is_aggregate(row: dict[str, str]) -> bool:
    return row.get("group") == "aggregate" or (row.get("role") or "").startswith("aggregate")


def _country_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rows of countries with a value, observed (not projected) where the chart has both."""
    drawn = [r for r in rows if r.get("iso3") and not _is_aggregate(r) and r.get("role") != "no data"
             and _number(r.get("value")) is not None]
    if any(r.get("role") == "end" for r in drawn):
        drawn = [r for r in drawn if r.get("role") == "end"]  # a slope's latest end, not its start
    observed = [r for r in drawn if r.get("projection") != "True"]
    return observed or drawn


def _latest_per_country(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    latest: dict[str, dict[str, str]] = {}
    for row in rows:
        held = latest.get(row["iso3"])
        if held is None or (_year(row.get("year")) or 0) > (_year(held.get("year")) or 0):
            latest[row["iso3"]] = row
    return list(latest.values())


def years_phrase(years: list[int]) -> str:
    """"data year 2023" when all values share a year, else "latest year: 2023 for 9 of 11, 2014–2022 for 2"."""
    if not years:
        return ""
    if len(set(years)) == 1:
        return f"data year {years[0]}"
    return "latest year: " + api.year_phrase(years, of_total=True)


def _periods_phrase(rows: list[dict[str, str]]) -> str:
    """"data period 2015–2020" when the chart's CSV labels its values with one multi-year period (the
    ``period`` column of a five-year-period indicator); "" otherwise, so the years are said instead."""
    periods = {r.get("period") or "" for r in rows}
    return f"data period {periods.pop()}" if len(periods) == 1 and "–" in next(iter(periods)) else ""


def _series_phrase(years: list[int]) -> str:
    if not years:
        return ""
    return f"data year {years[0]}" if min(years) == max(years) else f"data years {min(years)}–{max(years)}"


def _median_phrase(rows: list[dict[str, str]], indicator: str, year: int | None, unit: str) -> str:
    """The ASEAN median the chart draws, at the chart's latest year (or the one median a bar chart has)."""
    medians = [r for r in rows if _is_aggregate(r) and r.get("iso3") == "ASEAN" and r.get("indicator_id") == indicator
               and r.get("projection") != "True" and _number(r.get("value")) is not None]
    at_year = [r for r in medians if _year(r.get("year")) in (year, None)]
    if not at_year:
        return ""
    median = at_year[-1]
    when = f" in {year}" if _year(median.get("year")) is not None else ""
    # the members behind the median, as the chart's footer counts them
    members = f" ({median['n']} of {median['N']} members with data)" if median.get("n") and median.get("N") else ""
    return f"; ASEAN median {_fmt(_number(median['value']))}{unit}{when}{members}"


def _single_indicator_summary(kind: str, rows: list[dict[str, str]], drawn: list[dict[str, str]],
                              unit: str) -> Facts:
    latest = _latest_per_country(drawn)
    latest.sort(key=lambda r: _number(r["value"]))
    low, high = latest[0], latest[-1]
    years = sorted(_year(r.get("year")) for r in latest if _year(r.get("year")) is not None)
    top_year = max(years) if years else None
    if kind in SERIES_KINDS:
        phrase = _series_phrase(sorted({_year(r.get("year")) for r in drawn} - {None}))
        when = f" in {top_year}" if top_year else ""
        # a series is read at its latest year: a country whose line stops earlier is not "in" that year
        latest = [r for r in latest if _year(r.get("year")) == top_year]
        low, high = latest[0], latest[-1]
    else:
        phrase, when = _periods_phrase(latest) or years_phrase(years), ""
    if len(latest) == 1:
        values = f"{_name(low)}: {_fmt(_number(low['value']))}{unit}{when}"
    else:
        values = (f"values from {_fmt(_number(low['value']))}{unit} ({_name(low)}) to "
                  f"{_fmt(_number(high['value']))}{unit} ({_name(high)}){when}")
    summary = (values + (f"; {phrase}" if phrase else "")
               + _median_phrase(rows, drawn[0].get("indicator_id", ""), top_year, unit))
    return Facts(countries=_names(drawn), years=phrase, summary=summary)


def _name(row: dict[str, str]) -> str:
    return row.get("country") or row["iso3"]


def _names(rows: list[dict[str, str]]) -> tuple[str, ...]:
    return tuple(sorted({r.get("country") or r["iso3"] for r in rows}))


def _pyramid_facts(rows: list[dict[str, str]], names: tuple[str, ...]) -> Facts:
    """A pyramid compares a few years, projected ones included: it names every year it draws."""
    drawn = [r for r in rows if r.get("iso3") and _number(r.get("value")) is not None]
    years = sorted({y for y in (_year(r.get("year")) for r in drawn) if y is not None})
    projected = sorted({_year(r.get("year")) for r in drawn if r.get("projection") == "True"} - {None})
    listed = ", ".join(map(str, years[:-1])) + (" and " if len(years) > 1 else "") + str(years[-1])
    phrase = f"years {listed}" + (f" ({', '.join(map(str, projected))} projected)" if projected else "")
    ages = len({r.get("age") or r.get("indicator_id") for r in drawn})
    return Facts(countries=names, years=phrase, summary=f"{', '.join(names)}, {ages} age groups, {phrase}")


def chart_facts(kind: str, rows: list[dict[str, str]], unit: str = "") -> Facts:
    """The countries, data years and the alt-text phrase of one chart, from its CSV rows."""
    drawn = _country_rows(rows)
    if not drawn:
        return Facts()
    unit = f" {unit}" if unit and not unit.startswith("%") else unit
    indicators = {r.get("indicator_id") for r in drawn}
    if kind in SINGLE_VALUE_KINDS and len(indicators) == 1:
        return _single_indicator_summary(kind, rows, drawn, unit.split(";")[0])
    years = sorted({y for y in (_year(r.get("year")) for r in drawn) if y is not None})
    phrase = _series_phrase(years)
    names = _names(drawn)
    if kind == "pyramid":
        return _pyramid_facts(rows, names)
    summary = f"{len(names)} {'country' if len(names) == 1 else 'countries'}, {len(indicators)} indicator" \
              f"{'' if len(indicators) == 1 else 's'}, {phrase}"
    return Facts(countries=names, years=phrase, summary=summary)


# ----------------------------------------------------------------------------- one card
def _source_lines(meta: dict) -> tuple[str, ...]:
    """"Source: publisher, title (vintage …)", from the structured sources or else the footer lines."""
    lines = []
    for src in meta.get("sources", []) if isinstance(meta.get("sources"), list) else []:
        vintages = "; ".join(src.get("vintages", [])) or src.get("registry_vintage", "")
        lines.append(f"Source: {src.get('publisher', '')}, {src.get('title', '')}"
                     + (f" (vintage {vintages})" if vintages else "") + ".")
    return tuple(lines) or tuple(line for line in meta.get("footer", []) if line.startswith("Source"))


def _licences(meta: dict) -> str:
    found = sorted({s.get("licence", "") for s in meta.get("sources", []) if isinstance(s, dict)} - {""})
    return "; ".join(found)


def _cite(title: str, href: str, meta: dict, project: str) -> str:
    sources = "; ".join(line.removeprefix("Source: ").rstrip(".") for line in _source_lines(meta))
    licence = _licences(meta)
    return (f"{AUTHORS}, “{title}”, chart in {project}, file {href}.png."
            + (f" Data: {sources}." if sources else "") + (f" Licence of the data: {licence}." if licence else ""))


def _links(meta_path: Path, href: str, title: str) -> tuple[Link, ...]:
    return tuple(Link(href=f"{href}.{ext}", label=FORMAT_LABELS[ext], about=f" of “{title}”")
                 for ext in LINKED_FORMATS if meta_path.with_suffix(f".{ext}").exists())


def _anchor(text: str, prefix: str = "chart") -> str:
    return f"{prefix}-" + re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _card(meta_path: Path, reports: Path, project: str) -> Card:
    meta = _read_meta(meta_path)
    rel = meta_path.relative_to(reports).with_suffix("")
    href = rel.as_posix()
    title = str(meta.get("title") or rel.name)
    kind = KIND_LABELS.get(str(meta.get("kind", "")), "Chart")
    facts = chart_facts(str(meta.get("kind", "")), _read_rows(meta_path.with_suffix(".csv")), str(meta.get("unit", "")))
    alt = f"{kind}: {title}" + (f"; {facts.summary}." if facts.summary else ".")
    sources = _source_lines(meta)
    search = " ".join([title, str(meta.get("subtitle", "")), kind, *sources, *facts.countries, facts.years]).lower()
    return Card(id=_anchor(href), href=href, title=title, subtitle=str(meta.get("subtitle", "")), kind=kind,
                thumb=thumbnail(reports, rel), alt=alt, years=facts.years, sources=sources,
                countries=facts.countries, links=_links(meta_path, href, title), cite=_cite(title, href, meta, project),
                search=search)


# ----------------------------------------------------------------------------- thumbnails
def thumbnail(reports: Path, rel: Path) -> str:
    """The thumbnail of the chart ``rel`` (``figures/<folder>/<name>``, relative to ``reports``), drawn if
    not yet: a small PNG beside the gallery (reports/thumbnails/…), named after the chart and a hash of
    its PDF, so drawn once per drawing however often the job copies or redraws the same chart, and by
    whichever process saved the chart. The full image when the chart has no PDF that PDFium can read."""
    try:
        pdf = (reports / rel.with_suffix(".pdf")).read_bytes()
    except OSError:
        return rel.with_suffix(".png").as_posix()
    # the drawing settings are part of the name: changing them redraws every thumbnail
    digest = hashlib.sha256(f"{THUMB_WIDTH}x{THUMB_COLOURS}-{THUMB_METHOD}".encode() + pdf).hexdigest()[:12]
    target = reports / THUMBNAILS / rel.relative_to("figures").parent / f"{rel.name}-{digest}.png"
    if target.exists() or _draw_thumbnail(pdf, target):
        return target.relative_to(reports).as_posix()
    return rel.with_suffix(".png").as_posix()


def _draw_thumbnail(pdf: bytes, target: Path) -> bool:
    """Rasterise the chart's vector drawing at thumbnail width: about a quarter of the CPU of decoding
    the 200-dpi PNG and shrinking it (benchmarks/PERF-NOTES.md), and text stays sharper."""
    import pypdfium2 as pdfium
    from PIL import Image

    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError:
        return False
    try:
        page = document[0]
        width, height = page.get_size()
        scale = THUMB_WIDTH / width
        image = page.render(scale=scale, rev_byteorder=True).to_pil()
    finally:
        document.close()
    # PDFium rounds the bitmap up; the thumbnail keeps the exact width the page declares
    box = (0, 0, THUMB_WIDTH, max(1, round(height * scale)))
    # the fast octree palette: a seventh of median cut's CPU and smaller files for flat chart colours;
    # Pillow's extra PNG optimisation would cost six times the write for 2 % of the size
    small = image.crop(box).convert("RGB").quantize(THUMB_COLOURS, method=Image.Quantize[THUMB_METHOD])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    small.save(tmp, format="PNG")
    tmp.replace(target)
    return True


def draw_thumbnails(reports: Path, folder: str) -> int:
    """The thumbnails of the charts in ``reports/figures/<folder>`` not drawn yet; returns how many of
    the folder's charts have one.

    The notebook runner calls this as each notebook ends, while the other kernels are still running,
    so that the gallery, written once every notebook has run, finds them made (it would otherwise draw
    them all at the end, on one core). A chart still being written is left for the gallery.
    """
    made = 0
    figures = reports / "figures" / folder
    for meta_path in sorted(figures.glob("*.json")) if figures.is_dir() else []:
        rel = meta_path.relative_to(reports).with_suffix("")
        made += thumbnail(reports, rel) != rel.with_suffix(".png").as_posix()
    return made


def _prune_thumbnails(reports: Path, cards: list[Card]) -> None:
    """Thumbnails of charts no longer published go with them."""
    folder = reports / THUMBNAILS
    keep = {reports / c.thumb for c in cards}
    for path in sorted(folder.rglob("*.png")) if folder.is_dir() else []:
        if path not in keep:
            path.unlink()


# ----------------------------------------------------------------------------- sections
def _words(text: str) -> str:
    words = [ACRONYMS.get(w, w) for w in text.replace("-", "_").split("_") if w]
    joined = " ".join(words)
    return joined[:1].upper() + joined[1:]


def _folder_heading(folder: str) -> str:
    if folder == PACK_SUBDIR:
        return "Headline charts (chart pack)"
    if folder == ".":
        return "Other charts"
    number, _, rest = folder.partition("_")
    return f"{_words(rest)} (notebook {number})" if number.isdigit() and rest else _words(folder)


def _pack_topic(card: Card) -> str:
    stem = Path(card.href).name
    word = stem.split("-")[1] if re.match(r"^\d+-", stem) and stem.count("-") >= 1 else stem.split("-")[0]
    return PACK_TOPICS.get(word, _words(word))


def _groups(folder: str, cards: list[Card]) -> tuple[Group, ...]:
    if folder != PACK_SUBDIR:
        return (Group(heading="", cards=tuple(cards)),)
    by_topic: dict[str, list[Card]] = {}
    for card in cards:
        by_topic.setdefault(_pack_topic(card), []).append(card)
    return tuple(Group(heading=topic, cards=tuple(items)) for topic, items in by_topic.items())


def _notebook_link(reports: Path, folder: str) -> Link | None:
    page = reports / "notebooks" / f"{folder}.html"
    return Link(href=page.relative_to(reports).as_posix(), label="Open the notebook page (text, code and charts)",
                about=f": {_folder_heading(folder)}") if page.exists() else None


def collect_sections(reports: Path, project: str = "") -> list[Section]:
    """Every chart under reports/figures/ with a PNG and a JSON, one section per folder (the pack first)."""
    figures = reports / "figures"
    by_folder: dict[str, list[Card]] = {}
    for meta_path in sorted(figures.rglob("*.json")) if figures.exists() else []:
        if meta_path.with_suffix(".png").exists():
            folder = meta_path.parent.relative_to(figures).as_posix()
            by_folder.setdefault(folder, []).append(_card(meta_path, reports, project or project_title_version()[0]))
    order = sorted(by_folder, key=lambda f: (f != PACK_SUBDIR, f))
    return [Section(id=_anchor(folder, "section"), heading=_folder_heading(folder),
                    groups=_groups(folder, by_folder[folder]), notebook=_notebook_link(reports, folder))
            for folder in order]


# ----------------------------------------------------------------------------- page-wide facts
def project_title_version() -> tuple[str, str]:
    """Title and version from CITATION.cff (the repository's own citation), or the pack's title."""
    cff = paths.project_root() / "CITATION.cff"
    text = cff.read_text(encoding="utf-8") if cff.exists() else ""
    title = re.search(r'^title:\s*"?(.+?)"?\s*$', text, re.MULTILINE)
    version = re.search(r'^version:\s*"?(.+?)"?\s*$', text, re.MULTILINE)
    return (title.group(1) if title else PACK_TITLE.replace(": chart pack", ""),
            version.group(1) if version else "")


def _vintages(reports: Path) -> list[dict[str, str]]:
    """Every source the charts use, once, with its vintages and licence."""
    seen: dict[str, dict[str, str]] = {}
    for meta_path in sorted((reports / "figures").rglob("*.json")) if (reports / "figures").exists() else []:
        for src in _read_meta(meta_path).get("sources", []):
            if isinstance(src, dict) and src.get("id"):
                entry = seen.setdefault(src["id"], {
                    "publisher": src.get("publisher", ""), "title": src.get("title", ""),
                    "licence": src.get("licence", ""), "url": src.get("landing_page", ""), "vintages": set()})
                entry["vintages"].update(src.get("vintages", []) or [src.get("registry_vintage", "")])
    return [{**v, "vintages": ", ".join(sorted(v["vintages"] - {""}))} for _, v in sorted(seen.items())]


def _vintage_span(sources: list[dict[str, str]]) -> str:
    dates = sorted(d.strip() for s in sources for d in s["vintages"].split(",") if _ISO_DATE.match(d.strip()))
    if not dates:
        return ""
    return dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"


def _country_names(reports: Path, codes: list[str]) -> dict[str, str]:
    """Names as the charts print them; codes no chart draws are named by the store, if there is one."""
    names: dict[str, str] = {}
    for csv_path in sorted((reports / "figures").rglob("*.csv")) if (reports / "figures").exists() else []:
        for row in _read_rows(csv_path):
            if row.get("iso3") in codes and row.get("country"):
                names.setdefault(row["iso3"], row["country"])
    missing = [c for c in codes if c not in names]
    if missing:
        from analysis.store import api

        # without a store the gallery still lists the profile, under its code
        with contextlib.suppress(AnalysisError, OSError):
            names.update(api.country_names(missing))
    return names


@dataclass(frozen=True)
class Country:
    name: str
    links: tuple[Link, ...]  # its profile (PDF) and its page of the country-profile notebook, as published


def _profiles(reports: Path) -> list[Country]:
    """Every country with a published profile, by name: the PDF and the notebook's page (HTML)."""
    kinds = (("profiles", "*.pdf", "profile (PDF)"), ("notebooks/profiles", "*.html", "web page"))
    found: dict[str, list[Link]] = {}
    for folder, pattern, label in kinds:
        for path in sorted((reports / folder).glob(pattern)) if (reports / folder).is_dir() else []:
            found.setdefault(path.stem, []).append(Link(href=f"{folder}/{path.name}", label=label, about=""))
    names = _country_names(reports, list(found))
    countries = [Country(name=names.get(code, code),
                         links=tuple(Link(link.href, link.label, f" of {names.get(code, code)}") for link in links))
                 for code, links in found.items()]
    return sorted(countries, key=lambda c: c.name)


def _notebooks(reports: Path) -> list[Link]:
    pages = sorted((reports / "notebooks").glob("*.html")) if (reports / "notebooks").exists() else []
    return [Link(href=f"notebooks/{p.name}", label=_folder_heading(p.stem), about=" (notebook page)") for p in pages]


# The deliverables' file names, declared once here (the lowest module that lists them) and imported elsewhere.
WORKBOOK_FILE = "caring-societies-data.xlsx"
PACK_FILE = "chart-pack.pdf"
DATA_DESCRIPTOR = "data/datapackage.json"
# Written by the main job only when a source vintage changed (presentation.changes_report).
CHANGES_FILES = ((paths.DATA_CHANGES_MD, ": per concept and country, revised, added and dropped values"),
                 (paths.DATA_CHANGES_CSV, ": the same, one row per concept, country and year"))


def _downloads(reports: Path) -> list[Link]:
    """The workbook, the data dictionary and each file of the store's download, as published."""
    links = []
    if (reports / WORKBOOK_FILE).is_file():
        links.append(Link(WORKBOOK_FILE, f"Workbook ({WORKBOOK_FILE})", ": the values of every chart of the pack "
                          "and every country profile, with sources and licences"))
    descriptor = reports / DATA_DESCRIPTOR
    if descriptor.is_file():
        links.append(Link(DATA_DESCRIPTOR, "Data dictionary (datapackage.json)",
                          ": the fields, units, sources and licences of the store's tables"))
        with contextlib.suppress(json.JSONDecodeError, KeyError, TypeError):
            folder = Path(DATA_DESCRIPTOR).parent
            for res in json.loads(descriptor.read_text(encoding="utf-8"))["resources"]:
                href = (folder / res["path"]).as_posix()
                if (reports / href).is_file():
                    links.append(Link(href, res["path"], f": {res.get('description', res['name'])}"))
    for name, about in CHANGES_FILES:
        if (reports / name).is_file():
            links.append(Link(name, f"What the last data refresh changed ({name})", about))
    return links


def render_gallery(reports: Path) -> tuple[str, int]:
    """The gallery page's HTML and the number of charts it lists (thumbnails drawn and pruned on the way)."""
    title, version = project_title_version()
    sections = collect_sections(reports, title)
    cards = [card for section in sections for card in section.cards]
    _prune_thumbnails(reports, cards)
    sources = _vintages(reports)
    span = _vintage_span(sources)
    cite_all = (f"{AUTHORS}, {title}" + (f", version {version}" if version else "")
                + f": chart gallery of {len(cards)} charts" + (f", data vintages {span}" if span else "")
                + ". Cite each data source as listed below, under its own licence.")
    page = _environment().get_template(TEMPLATE).render(
        title=PACK_TITLE.replace(": chart pack", ""), n_charts=len(cards), sections=sections, sources=sources,
        vintage_span=span, cite_all=cite_all, has_pack=(reports / PACK_FILE).exists(),
        profiles=_profiles(reports), notebooks=_notebooks(reports), downloads=_downloads(reports))
    return page, len(cards)


def write_gallery(reports: Path) -> tuple[Path, int]:
    """``reports/index.html``: every chart under reports/figures/ (any subfolder), with its files."""
    page, n_charts = render_gallery(reports)
    target = reports / "index.html"
    # Unchanged content is not rewritten: a re-run with nothing new leaves the file as it was.
    if not (target.exists() and target.read_text(encoding="utf-8") == page):
        atomic.write_text(target, page)
    return target, n_charts
