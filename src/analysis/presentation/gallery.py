"""The static gallery ``reports/index.html``: every exported chart, linking its PNG, SVG, PDF, CSV and JSON.

The page is rendered from ``templates/gallery.html`` (Jinja2, autoescaped: titles and footers are
text, never markup). Kept apart from :mod:`analysis.presentation.report` so that listing the charts
does not import matplotlib.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from analysis.core import atomic

PACK_TITLE = "Caring societies in ASEAN and Plus Three: chart pack"
PACK_SUBDIR = "pack"
TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "gallery.html"
LINKED_FORMATS = ("png", "svg", "pdf", "csv", "json")


@dataclass(frozen=True)
class Card:
    """One chart of the gallery; ``href`` is its path relative to reports/ without the extension."""

    href: str
    title: str
    sources: tuple[str, ...]
    made_by: str
    formats: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    heading: str
    cards: tuple[Card, ...]


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _read_meta(meta_path: Path) -> dict:
    """A chart's JSON metadata; an unreadable file still lists the chart, by its file name."""
    try:
        return json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}


def _card(meta_path: Path, reports: Path) -> Card:
    meta = _read_meta(meta_path)
    rel = meta_path.relative_to(reports).with_suffix("")
    return Card(href=rel.as_posix(), title=meta.get("title", rel.name),
                sources=tuple(line for line in meta.get("footer", []) if line.startswith("Source")),
                made_by=meta.get("made_by", ""),
                formats=tuple(ext for ext in LINKED_FORMATS if meta_path.with_suffix(f".{ext}").exists()))


def _heading(folder: str) -> str:
    if folder == PACK_SUBDIR:
        return "Headline charts (chart pack)"
    return folder if folder != "." else "Other charts"


def collect_sections(reports: Path) -> list[Section]:
    """Every chart under reports/figures/ with a PNG and a JSON, one section per folder (the pack first)."""
    figures = reports / "figures"
    by_folder: dict[str, list[Card]] = {}
    for meta_path in sorted(figures.rglob("*.json")) if figures.exists() else []:
        if meta_path.with_suffix(".png").exists():
            folder = meta_path.parent.relative_to(figures).as_posix()
            by_folder.setdefault(folder, []).append(_card(meta_path, reports))
    order = sorted(by_folder, key=lambda f: (f != PACK_SUBDIR, f))
    return [Section(heading=_heading(folder), cards=tuple(by_folder[folder])) for folder in order]


def render_gallery(reports: Path) -> tuple[str, int]:
    """The gallery page's HTML and the number of charts it lists."""
    sections = collect_sections(reports)
    profiles = sorted((reports / "profiles").glob("*.pdf")) if (reports / "profiles").exists() else []
    n_charts = sum(len(s.cards) for s in sections)
    page = _environment().get_template(TEMPLATE).render(
        title=PACK_TITLE.replace(": chart pack", ""), n_charts=n_charts, sections=sections,
        has_pack=(reports / "chart-pack.pdf").exists(), profiles=[{"file": p.name, "label": p.stem} for p in profiles])
    return page, n_charts


def write_gallery(reports: Path) -> tuple[Path, int]:
    """``reports/index.html``: every chart under reports/figures/ (any subfolder), with its files."""
    page, n_charts = render_gallery(reports)
    target = reports / "index.html"
    # Unchanged content is not rewritten: a re-run with nothing new leaves the file as it was.
    if not (target.exists() and target.read_text(encoding="utf-8") == page):
        atomic.write_text(target, page)
    return target, n_charts
