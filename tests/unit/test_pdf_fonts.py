"""PDF font embedding through the reduced font copy (charts/pdf_fonts.py)."""

from __future__ import annotations

import io

import matplotlib as mpl
import pypdf
import pytest
from fontTools import subset
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.backends import _backend_pdf_ps
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

from analysis.presentation.charts import pdf_fonts

TEXT = "Staff coverage ▲ ● ▼ – 2023: effective ﬁgures, 45.2 % (ASEAN)"


@pytest.fixture(scope="module")
def dejavu():
    return font_manager.FontPath(font_manager.findfont("DejaVu Sans"), 0)


def _gids(path, text: str) -> set[int]:
    charmap = FT2Font(path).get_charmap()
    return {charmap[ord(c)] for c in text}


def test_every_requested_glyph_maps_to_the_same_glyph_in_the_subset(dejavu):
    """Without GSUB the subset keeps fewer glyphs than matplotlib's (no closure over ligatures and
    alternates), so indices may differ: what must hold is that each requested glyph lands on the same
    outline."""
    gids = _gids(dejavu, TEXT)
    original = TTFont(dejavu)
    names = original.getGlyphOrder()
    with pdf_fonts.get_glyphs_subset(dejavu, gids) as ours:
        order = ours.font.getGlyphOrder()
        assert set(ours.glyph_index_map) >= gids
        for gid in gids:
            name = names[gid]
            assert order[ours.glyph_index_map[gid]] == name
            assert ours.font["glyf"][name].getCoordinates(ours.font["glyf"])[0] == \
                original["glyf"][name].getCoordinates(original["glyf"])[0]
        assert "GPOS" not in ours.font and "GSUB" not in ours.font


def test_a_glyph_outside_the_copy_goes_to_matplotlibs_subsetting(dejavu, monkeypatch):
    calls = []

    def spy(fontfile, glyphs):
        calls.append(set(glyphs))
        return original(fontfile, glyphs)

    original = pdf_fonts._matplotlib_subset
    monkeypatch.setattr(pdf_fonts, "_matplotlib_subset", spy)
    cyrillic = _gids(dejavu, "Ж")  # U+0416: in DejaVu Sans, outside the copy's ranges
    with pdf_fonts.get_glyphs_subset(dejavu, cyrillic) as result:
        assert set(result.glyph_index_map) >= cyrillic
    assert calls == [cyrillic]
    calls.clear()
    with pdf_fonts.get_glyphs_subset(dejavu, _gids(dejavu, "abc")):
        pass
    assert calls == []


def test_text_in_a_pdf_stays_extractable(dejavu):
    pdf_fonts.install()
    assert _backend_pdf_ps.get_glyphs_subset is pdf_fonts.get_glyphs_subset
    fig = Figure(figsize=(6, 1))
    fig.text(0.02, 0.5, TEXT, fontsize=10)
    fig.text(0.02, 0.1, "bold ▲ line", fontsize=10, fontweight="bold")
    buf = io.BytesIO()
    with mpl.rc_context({"pdf.fonttype": 42}):
        fig.savefig(buf, format="pdf")
    text = pypdf.PdfReader(buf).pages[0].extract_text()
    for word in ("coverage", "▲", "●", "▼", "45.2", "ASEAN", "bold"):
        assert word in text



def _embedded(fontfile, gids) -> tuple[bytes, dict]:
    with pdf_fonts.get_glyphs_subset(fontfile, gids) as result:
        return _backend_pdf_ps.font_as_file(result.font).getvalue(), dict(result.glyph_index_map)


def test_a_subset_asked_again_is_the_same_font_as_made_afresh(dejavu):
    gids = _gids(dejavu, TEXT)
    first = _embedded(dejavu, gids)
    with pdf_fonts.get_glyphs_subset(dejavu, gids) as result:
        result.glyph_index_map.clear()  # a caller changing its map does not change the next caller's
    assert _embedded(dejavu, set(gids)) == first
    pdf_fonts._subset.cache_clear()
    assert _embedded(dejavu, gids) == first
    assert set(first[1]) >= gids
    assert _embedded(dejavu, _gids(dejavu, "abc"))[0] != first[0]


def test_a_subset_handed_out_again_is_the_font_fonttools_subsets_from_the_copy(dejavu):
    """What matplotlib embeds through the kept bytes is what it embedded when every PDF subset the
    copy itself: fontTools' subset of the copy, saved as matplotlib saves it."""
    gids = _gids(dejavu, TEXT)
    _embedded(dejavu, gids)  # kept
    data, to_copy = pdf_fonts._base(str(dejavu), 0)
    options = pdf_fonts._options()
    font = subset.load_font(io.BytesIO(data), options)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(gids={to_copy[g] for g in gids})
    subsetter.subset(font)
    expected = _backend_pdf_ps.font_as_file(font).getvalue()
    font.close()
    assert _embedded(dejavu, gids)[0] == expected


def test_the_prepared_faces_are_the_ones_a_pdf_of_mixed_text_subsets():
    pdf_fonts.install()
    pdf_fonts._base.cache_clear()
    prepared = pdf_fonts.prepare()
    assert len(prepared) == len(set(prepared)) >= 2 and pdf_fonts._base.cache_info().misses == len(prepared)
    fig = Figure(figsize=(6, 1))
    for k, (weight, slant) in enumerate([("normal", "normal"), ("bold", "normal"), ("normal", "italic"),
                                         ("bold", "italic")]):
        fig.text(0.02, 0.1 + 0.2 * k, "synthetic label 45.2", fontweight=weight, fontstyle=slant)
    with mpl.rc_context({"pdf.fonttype": 42}):
        fig.savefig(io.BytesIO(), format="pdf")
    # every face the PDF embedded was found prepared: no reduced copy was made while writing it
    assert pdf_fonts._base.cache_info().misses == len(prepared)
    assert pdf_fonts._base.cache_info().hits >= 1
