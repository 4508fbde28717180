"""Cheaper TrueType embedding in PDFs: every PDF subsets a small copy of each font, parsed once.

Matplotlib embeds fonts in a PDF (``pdf.fonttype: 42``, so text stays extractable) by subsetting the
font file with fontTools, and it reads the whole file again for every PDF and every face: for DejaVu
Sans that is about 6,000 glyphs and its layout tables, and it was the largest single cost of a chart's
PDF (measured in benchmarks/PERF-NOTES.md). Here each font file is reduced once per process to a copy
that

* holds only the glyphs of the character ranges below (renumbered: the glyph indices matplotlib passes
  in and the index map it gets back are translated, so they mean the same as with the file itself);
* drops the layout tables (GSUB, GPOS, GDEF, kern): matplotlib writes every glyph's position into the
  page itself, so a viewer never reads them.

Each PDF then subsets that copy. A request for a glyph outside the copy goes to matplotlib's own
subsetting of the full file, so no text can lose a glyph. The embedded programs differ from
matplotlib's only in those dropped tables; the same chart still gives the same bytes.

A subset is made once per process for each face and set of glyphs: charts share many (the italic
note under every chart, the bold titles of charts in one series), and a subset is a function of the
copy and the glyphs only, so the bytes fontTools wrote the first time are handed out again.
"""

from __future__ import annotations

import functools
import io

from fontTools import subset
from fontTools.ttLib import TTFont, TTLibError
from matplotlib.backends import _backend_pdf_ps
from matplotlib.font_manager import FontProperties, findfont

#: Characters of the copy: Latin-1 and Latin Extended-A, dashes, quotes, bullets and the ellipsis,
#: super/subscripts and currency, arrows, minus and the comparison signs, geometric shapes (▲●▼) and the
#: Latin ligatures (ﬀ, ﬁ, ﬂ…) that matplotlib's text shaping substitutes. Every PDF subsets the copy, and
#: its cost grows with the copy's glyphs (a third of the time of the Latin, Greek and symbol blocks whole,
#: benchmarks/PERF-NOTES.md); any other character is still embedded, through matplotlib's own subsetting.
BASE_RANGES = ((0x0020, 0x017F), (0x2010, 0x2044), (0x2070, 0x20AC), (0x2190, 0x2199), (0x2212, 0x2265),
               (0x25A0, 0x25FF), (0xFB00, 0xFB06))
#: Tables a PDF viewer does not read from an embedded TrueType program.
LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF", "kern", "MATH")
#: subsets kept per process (a few KB each; the 36 headline charts ask for about 80 different ones)
SUBSETS_KEPT = 512

_matplotlib_subset = _backend_pdf_ps.get_glyphs_subset


def _options() -> subset.Options:
    """Matplotlib's subsetting options (glyph names, recommended glyphs, its dropped tables)."""
    options = subset.Options(glyph_names=True, recommended_glyphs=True)
    # the tables matplotlib drops (Apple/FontForge extras) plus the layout tables
    options.drop_tables += ["FFTM", "PfEd", "BDF", "meta", "MERG", "TSIV", "Zapf", "bdat", "bloc", "cidg",
                            "fdsc", "feat", "fmtx", "fond", "just", "kerx", "ltag", "morx", "trak", "xref",
                            *LAYOUT_TABLES]
    return options


@functools.lru_cache(maxsize=16)
def _base(path: str, face_index: int) -> tuple[bytes, dict[int, int]] | None:
    """The reduced copy of one face (bytes) and the map from the file's glyph indices to the copy's;
    None if fontTools cannot read the file."""
    options = _options()
    options.font_number = face_index
    try:
        font = subset.load_font(path, options)
    except (OSError, ValueError, TTLibError):
        return None  # matplotlib's own subsetting decides
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=[code for lo, hi in BASE_RANGES for code in range(lo, hi + 1)])
    subsetter.subset(font)
    buf = io.BytesIO()
    font.save(buf, reorderTables=False)
    font.close()
    return buf.getvalue(), dict(subsetter.glyph_index_map)


class _SavedSubset(TTFont):
    """A subset read back from the bytes fontTools wrote for it. Saved untouched and without reordering
    (as matplotlib embeds it), it writes those bytes again, as fontTools does for a font none of whose
    tables was read; once one was, fontTools compiles the font."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), recalcTimestamp=False)
        self._data = data

    def save(self, file, reorderTables=True) -> None:
        if self.tables or reorderTables or not hasattr(file, "write"):
            super().save(file, reorderTables)  # read or changed since: fontTools compiles it
        else:
            file.write(self._data)


@functools.lru_cache(maxsize=SUBSETS_KEPT)
def _subset(path: str, face_index: int, glyphs: frozenset[int]) -> tuple[bytes, dict[int, int]] | None:
    """The subset of a face's reduced copy holding ``glyphs`` (the file's indices) as bytes, and the
    map from the file's indices to the subset's; None if the copy lacks one of them."""
    base = _base(path, face_index)
    if base is None or not glyphs <= base[1].keys():
        return None
    data, to_base = base
    options = _options()
    font = subset.load_font(io.BytesIO(data), options)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(gids={to_base[g] for g in glyphs})
    subsetter.subset(font)
    buf = io.BytesIO()
    font.save(buf, reorderTables=False)  # as matplotlib's font_as_file writes it into the PDF
    font.close()
    # matplotlib looks glyphs up by the file's indices: compose file -> copy -> subset
    index_map = {g: subsetter.glyph_index_map[b] for g, b in to_base.items() if b in subsetter.glyph_index_map}
    return buf.getvalue(), index_map


def get_glyphs_subset(fontfile, glyphs):
    """Drop-in for matplotlib's ``get_glyphs_subset``: the same glyphs and index map, from the copy."""
    made = _subset(str(fontfile), getattr(fontfile, "face_index", 0), frozenset(glyphs))
    if made is None:
        return _matplotlib_subset(fontfile, set(glyphs))
    data, index_map = made
    return _backend_pdf_ps.SubsetResults(_SavedSubset(data), dict(index_map))._as_cm()


def install() -> None:
    """Route matplotlib's PDF font subsetting through :func:`get_glyphs_subset` (idempotent)."""
    _backend_pdf_ps.get_glyphs_subset = get_glyphs_subset


def prepare() -> list[str]:
    """Make the reduced copy of each face the current style's text resolves to (regular, bold, italic and
    bold italic) now, and return their files. A process about to fork workers that write PDFs (the
    report) makes them once for all of them, instead of once in each worker and again in itself."""
    faces = {findfont(FontProperties(weight=weight, style=slant))
             for weight in ("normal", "bold") for slant in ("normal", "italic")}
    # keyed as get_glyphs_subset asks for them: the file's path and the face's index in it
    for face in faces:
        _base(str(face), getattr(face, "face_index", 0))
    return sorted(str(face) for face in faces)
