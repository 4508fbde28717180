"""Export a chart: PNG (200 dpi), SVG, PDF, the plotted values as CSV and the metadata as JSON.

Every format comes from one drawing: the PDF and the SVG are written in one pass over the figure
(:mod:`analysis.presentation.charts.vector`) and the PNG is rasterised from the PDF. Text stays text
in all three: the PDF embeds subsets of the fonts (:mod:`analysis.presentation.charts.pdf_fonts`), the
SVG names DejaVu Sans with a sans-serif fallback (``svg.fonttype: none``), so a reader can select,
search and have it read aloud.

Every file is written atomically and deterministically: the same data gives byte-identical files
(fixed SVG hash salt, no dates in SVG/PDF/PNG metadata, sorted JSON, fixed CSV line endings).
"""

from __future__ import annotations

import ctypes
import json
import math
import re
from pathlib import Path

import pandas as pd
import pypdfium2 as pdfium

from analysis.core import atomic, paths
from analysis.presentation.charts import footer as footer_mod
from analysis.presentation.charts import pdf_fonts, png, style, vector
from analysis.presentation.charts.base import Chart
from analysis.presentation.charts.layout import check_drawn
from analysis.presentation.charts.style import styled
from analysis.store.api import Registry

PNG_DPI = style.EXPORT_DPI
FORMATS = ("png", "svg", "pdf")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Matplotlib writes its version into the files; keep that out so upgrades do not churn outputs.
_METADATA = {
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


def figures_dir(root: Path | None = None) -> Path:
    """``root``, else :func:`analysis.core.paths.figures_dir`: the main job's staged figures, or a
    scratch folder that nothing publishes (notebooks run by hand, tests)."""
    return Path(root) if root is not None else paths.figures_dir()


pdf_fonts.install()  # every PDF this process writes subsets a font parsed once

_SVG_CLIP_ID = re.compile(rb'id="(p[0-9a-f]{10})"')


def _stable_svg_ids(svg: bytes) -> bytes:
    """Renumber clip-path ids in order of appearance.

    Matplotlib hashes a non-rectangular clip path's ids from ``id()`` of the path object (a memory
    address), so ``svg.hashsalt`` alone does not make them reproducible.
    """
    ids = list(dict.fromkeys(_SVG_CLIP_ID.findall(svg)))
    if not ids:
        return svg
    mapping = {old: f"clip{k:05d}".encode() for k, old in enumerate(ids)}
    pattern = re.compile(b"|".join(re.escape(i) for i in ids))
    return pattern.sub(lambda m: mapping[m.group(0)], svg)


def render_all(chart: Chart, png: bool = True) -> tuple[dict[str, bytes], dict]:
    """The chart's files as bytes (deterministic) and its layout check, from one drawing.

    The figure is drawn once into PDF and SVG together (:mod:`analysis.presentation.charts.vector`),
    the PNG is rasterised from that PDF, and the layout check
    (:func:`analysis.presentation.charts.layout.check_drawn`, in pixels of the PNG) measures the texts
    as that drawing placed them.
    """
    checks: list[dict] = []
    with styled():
        pdf, svg = vector.render_pdf_svg(
            chart.figure, _METADATA,
            on_drawn=lambda fig, renderer: checks.append(check_drawn(fig, renderer, PNG_DPI, renderer.drawn_artists)))
    files = {"pdf": pdf, "svg": _stable_svg_ids(svg)}
    if png:
        files["png"] = png_from_pdf(pdf)
    return files, checks[0]


def png_from_pdf(pdf: bytes, dpi: float = PNG_DPI) -> bytes:
    """The first page of a PDF as a PNG at ``dpi``.

    PDFium rasterises the vector drawing matplotlib already wrote in a fraction of the time Agg takes
    to draw the figure again (measured in benchmarks/PERF-NOTES.md), straight into the PNG's scanlines
    (:func:`analysis.presentation.charts.png.scanline_buffer`); the PNG carries no metadata but its
    resolution.
    """
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        scale = dpi / 72
        # matplotlib's canvas (and the layout check) rounds the size in pixels down, PDFium up: PDFium's
        # bitmap is cropped at its right and bottom edges to matplotlib's size
        width, height = (int(size / 72 * dpi) for size in page.get_size())
        extra = (math.ceil(page.get_width() * scale) - width, math.ceil(page.get_height() * scale) - height)
        rows, stride = png.scanline_buffer(width, height)

        def into_rows(w: int, h: int, format: int, rev_byteorder: bool) -> pdfium.PdfBitmap:
            pixels = (ctypes.c_ubyte * (h * stride)).from_buffer(rows, 1)
            return pdfium.PdfBitmap.new_native(w, h, format, rev_byteorder, buffer=pixels, stride=stride)

        bitmap = page.render(scale=scale, crop=(0, _crop(extra[1], scale), _crop(extra[0], scale), 0),
                             rev_byteorder=True, force_bitmap_format=pdfium.raw.FPDFBitmap_BGR,
                             bitmap_maker=into_rows)
        if (bitmap.width, bitmap.height) != (width, height):
            raise RuntimeError(f"PDFium drew {bitmap.width} x {bitmap.height} pixels, expected {width} x {height}")
        bitmap.close()  # the bitmap's shell only: the pixels stay in rows
        return png.encode_scanlines(rows, width, height, dpi)
    finally:
        document.close()


def _crop(pixels: int, scale: float) -> float:
    """A crop in PDF points that PDFium rounds up (``ceil(points * scale)``) to exactly ``pixels``."""
    return (pixels - 0.5) / scale if pixels > 0 else 0.0


def csv_bytes(chart: Chart) -> bytes:
    """The plotted values: one row per drawn value (and per "no data" country)."""
    data = chart.data.copy()
    return data.to_csv(index=False, lineterminator="\n", float_format="%.6g").encode("utf-8")


def metadata(chart: Chart, name: str, made_by: str | None = None, reg: Registry | None = None) -> dict:
    """The JSON sidecar: what the chart shows, where the numbers come from, what made it."""
    reg = reg or footer_mod.registry()
    sources = []
    for sid, vintages in sorted(chart.sources.items()):
        ds = reg.datasets.get(sid)
        entry = {"id": sid, "vintages": list(vintages)}
        if ds is not None:
            entry.update(publisher=ds.publisher, title=ds.title, licence=ds.licence, landing_page=ds.landing_page,
                         registry_vintage=ds.vintage)
        sources.append(entry)
    return {
        "name": name,
        "kind": chart.kind,
        "title": chart.title,
        "subtitle": chart.subtitle,
        "unit": chart.unit,
        "indicator_ids": list(chart.indicator_ids),
        "sources": sources,
        "footer": list(chart.footer),
        "notes": list(chart.notes),
        "coverage": _jsonable(chart.coverage),
        "licences": [{"licence": lic, "sources": ids}
                     for lic, ids in footer_mod.licences(chart.sources, reg).items()],
        "made_by": made_by or chart.made_by,
        "files": {fmt: f"{name}.{fmt}" for fmt in (*FORMATS, "csv")},
        "rows": int(len(chart.data)),
    }


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item"):
        return obj.item()
    if obj is pd.NA or (isinstance(obj, float) and obj != obj):
        return None
    return obj


def save(chart: Chart, name: str, subdir: str | None = None, *, made_by: str | None = None,
         root: Path | None = None, formats: tuple[str, ...] = FORMATS) -> dict[str, Path]:
    """Write ``reports/figures/[subdir/]<name>.{png,svg,pdf,csv,json}``; returns the paths written.

    ``made_by``: the notebook or function that made the chart (recorded in the JSON).
    ``root``: the figures directory (default ``reports/figures`` under the project root).
    """
    if not _NAME.match(name):
        raise ValueError(f"chart name {name!r}: use letters, digits, '.', '_' or '-' only")
    if subdir is not None and (Path(subdir).is_absolute() or ".." in Path(subdir).parts):
        raise ValueError(f"subdir {subdir!r} must be a relative folder inside reports/figures")
    out_dir = figures_dir(root) / subdir if subdir else figures_dir(root)
    written: dict[str, Path] = {}
    files, layout = render_all(chart, png="png" in formats)
    for fmt in formats:
        target = out_dir / f"{name}.{fmt}"
        atomic.write_bytes(target, files[fmt])
        written[fmt] = target
    target = out_dir / f"{name}.csv"
    atomic.write_bytes(target, csv_bytes(chart))
    written["csv"] = target
    meta = metadata(chart, name, made_by)
    # Recorded as saved: a test reads it without drawing again.
    meta["layout"] = layout
    meta["files"] = {k: f"{name}.{k}" for k in written} | {"json": f"{name}.json"}
    target = out_dir / f"{name}.json"
    atomic.write_text(target, json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    written["json"] = target
    return written
