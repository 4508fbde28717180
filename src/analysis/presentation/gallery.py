"""The static gallery ``reports/index.html``: every exported chart, linking its PNG, SVG, PDF, CSV and JSON.

Kept apart from ``analysis.report`` so that listing the charts does not import matplotlib.
"""

from __future__ import annotations

import html
import json
import string
from pathlib import Path

from analysis.core import atomic

PACK_TITLE = "Caring societies in ASEAN and Plus Three: chart pack"
PACK_SUBDIR = "pack"


def write_gallery(reports: Path) -> tuple[Path, int]:
    """``reports/index.html``: every chart under reports/figures/ (any subfolder), with its files."""
    figures = reports / "figures"
    cards_by_folder: dict[str, list[str]] = {}
    n = 0
    for meta_path in sorted(figures.rglob("*.json")) if figures.exists() else []:
        png = meta_path.with_suffix(".png")
        if not png.exists():
            continue
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            meta = {}
        rel = meta_path.relative_to(reports).with_suffix("")
        folder = meta_path.parent.relative_to(figures).as_posix()
        links = " · ".join(f'<a href="{html.escape(rel.as_posix())}.{ext}">{ext.upper()}</a>'
                           for ext in ("png", "svg", "pdf", "csv", "json") if meta_path.with_suffix(f".{ext}").exists())
        sources = "<br>".join(html.escape(line) for line in meta.get("footer", []) if line.startswith("Source"))
        cards_by_folder.setdefault(folder, []).append(
            f'<figure><a href="{html.escape(rel.as_posix())}.png"><img loading="lazy" src="{html.escape(rel.as_posix())}.png" '
            f'alt="{html.escape(meta.get("title", rel.name))}"></a><figcaption><strong>'
            f'{html.escape(meta.get("title", rel.name))}</strong><br><span class="src">{sources}</span>'
            f'<br><span class="made">{html.escape(meta.get("made_by", ""))}</span><br>{links}</figcaption></figure>')
        n += 1
    sections = []
    for folder in sorted(cards_by_folder, key=lambda f: (f != PACK_SUBDIR, f)):
        heading = "Headline charts (chart pack)" if folder == PACK_SUBDIR else (folder if folder != "." else "Other charts")
        sections.append(f'<section><h2>{html.escape(heading)}</h2><div class="grid">'
                        + "\n".join(cards_by_folder[folder]) + "</div></section>")
    profiles = sorted((reports / "profiles").glob("*.pdf")) if (reports / "profiles").exists() else []
    prof_links = " · ".join(f'<a href="profiles/{p.name}">{p.stem}</a>' for p in profiles)
    template = string.Template((Path(__file__).parent / "templates" / "gallery.html").read_text(encoding="utf-8"))
    page = template.substitute(
        title=html.escape(PACK_TITLE.replace(": chart pack", "")), n_charts=str(n),
        pack_link='<a href="chart-pack.pdf">chart pack (PDF)</a>' if (reports / "chart-pack.pdf").exists() else "",
        profiles=prof_links or "none yet", sections="\n".join(sections) or "<p>No charts exported yet.</p>")
    target = reports / "index.html"
    # Unchanged content is not rewritten: a re-run with nothing new leaves the file as it was.
    if not (target.exists() and target.read_text(encoding="utf-8") == page):
        atomic.write_text(target, page)
    return target, n
