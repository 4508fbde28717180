"""The chart pack PDF assembled from SYNTHETIC charts (made here; invented titles and values) in a synthetic
project: one page size, bookmarks per section and chart, a cover that names the files, the figure label
above (never over) the chart, and the same bytes twice."""

from __future__ import annotations

import re

import pypdf
import pytest

from analysis.presentation import charts
from analysis.presentation.charts import style
from analysis.presentation.charts.base import Chart
from analysis.presentation.report import pack, pages
from analysis.presentation.report.specs import GROUP_TITLES
from charts_synthetic import synthetic_project_fixture
from pdf_reading import outline as pdf_outline

#: synthetic charts: (group, title, height in inches); one taller than the page, as a timeline can be
SYNTHETIC_CHARTS = (("older_persons", "Synthetic chart alpha with a long title reaching the right edge of the page "
                     "where a label used to be", 5.8),
                    ("older_persons", "Synthetic chart beta", 7.0),
                    ("children", "Synthetic chart gamma, taller than a page", 13.0))


synthetic_project = synthetic_project_fixture()


def _chart(title: str, height: float) -> Chart:
    fig = style.new_figure(10.0, height)
    fig.set_layout_engine("none")
    fig.text(0.02, 0.98, title, va="top", fontsize=12, fontweight="bold")
    fig.add_axes((0.1, 0.1, 0.8, 0.7)).plot([0, 1], [0, 1])
    return Chart(figure=fig, kind="lines", title=title, sources={"synthetic-wdi": ["2099-01-01"]})


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    figures = tmp_path_factory.mktemp("figures")
    out, pdfs = [], []
    for k, (group, title, height) in enumerate(SYNTHETIC_CHARTS, start=1):
        chart = _chart(title, height)
        name = f"{k:02d}-synthetic-{k}"
        pdfs.append(charts.save(chart, name, "pack", root=figures)["pdf"])
        out.append(({"group": group, "name": name}, chart))
    return out, pdfs


def _front():
    fig = style.new_figure(*pages.PAGE)
    fig.text(0.1, 0.9, "Synthetic key message")
    return [("Key messages: synthetic group", fig)]


@pytest.fixture(scope="module")
def written(drawn, tmp_path_factory):
    charts_drawn, pdfs = drawn
    target = tmp_path_factory.mktemp("pack") / pages.PACK_FILE
    n = pack.write_chart_pack(charts_drawn, pdfs, target, front=_front())
    return target, n


def test_every_page_has_one_size(written):
    target, n = written
    reader = pypdf.PdfReader(target)
    assert len(reader.pages) == n
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages}
    assert sizes == {(round(pages.PAGE[0] * 72), round(pages.PAGE[1] * 72))}


def test_bookmarks_per_section_and_per_chart(written):
    target, n = written
    reader = pypdf.PdfReader(target)
    outline = pdf_outline(reader)
    top = [title for depth, title, _ in outline if depth == 0]
    assert top[:4] == [pack.COVER_TITLE, "Key messages", pages.THEMES_TITLE, pack.CONTENTS_TITLE]
    groups = list(dict.fromkeys(g for g, _, _ in SYNTHETIC_CHARTS))
    assert top[4:] == [GROUP_TITLES[g] for g in groups]
    figures = [(title, page) for depth, title, page in outline if depth == 1 and title.startswith("Figure")]
    assert [t for t, _ in figures] == [f"Figure {k}. {title}" for k, (_, title, _) in enumerate(SYNTHETIC_CHARTS, 1)]
    # each chart's bookmark opens the page that carries its label and its title
    for k, (_, page) in enumerate(figures, start=1):
        text = reader.pages[page].extract_text()
        assert f"Figure {k} ·" in text and SYNTHETIC_CHARTS[k - 1][1][:20] in text
    assert figures[-1][1] == n - 1


def test_cover_names_the_files_and_how_to_cite(written):
    cover = pypdf.PdfReader(written[0]).pages[0].extract_text()
    flat = re.sub(r"\s+", " ", cover)
    for name in (pages.PACK_FILE, pages.WORKBOOK_FILE, pages.DATA_DESCRIPTOR, "01-synthetic-1.csv"):
        assert name in flat
    assert "How to cite" in flat and "Synthetic Publisher A" in flat
    assert "reports/" not in flat


def _y_of(page, needle: str) -> float:
    found = []

    def visit(text, cm, tm, font, size):
        if needle in text:
            found.append(cm[5] + tm[5] * cm[3])

    page.extract_text(visitor_text=visit)
    assert found, needle
    return max(found)


def test_the_figure_label_sits_above_the_chart_title(written):
    reader = pypdf.PdfReader(written[0])
    first = pdf_outline(reader)
    page_no = next(p for d, t, p in first if t.startswith("Figure 1."))
    page = reader.pages[page_no]
    label_y = _y_of(page, "Figure 1 ·")
    title_y = _y_of(page, SYNTHETIC_CHARTS[0][1][:20])
    # the label is in the band above the chart box; the chart's title is inside the box
    assert label_y > (pages.PAGE[1] - pack.HEADER) * 72 > title_y


def test_the_pack_is_byte_identical_when_written_again(drawn, written, tmp_path):
    charts_drawn, pdfs = drawn
    again = tmp_path / pages.PACK_FILE
    pack.write_chart_pack(charts_drawn, pdfs, again, front=_front())
    assert again.read_bytes() == written[0].read_bytes()


def test_contents_lists_the_page_of_each_chart(written):
    reader = pypdf.PdfReader(written[0])
    pages_of = {t: p for d, t, p in pdf_outline(reader)}
    contents = reader.pages[pages_of[pack.CONTENTS_TITLE]].extract_text()
    for k, (_, title, _) in enumerate(SYNTHETIC_CHARTS, start=1):
        assert f"p. {pages_of[f'Figure {k}. {title}'] + 1}" in contents


def test_a_pack_without_charts_has_its_front_pages_only(tmp_path):
    target = tmp_path / pages.PACK_FILE
    n = pack.write_chart_pack([], [], target)
    reader = pypdf.PdfReader(target)
    assert len(reader.pages) == n > 0
    assert not any(title.startswith("Figure") for _, title, _ in pdf_outline(reader))


def test_each_chart_page_draws_its_own_chart_content_as_a_form(drawn, written):
    _, pdfs = drawn
    reader = pypdf.PdfReader(written[0])
    placed = []
    for _, title, page in pdf_outline(reader):
        if title.startswith("Figure"):
            form = reader.pages[page]["/Resources"]["/XObject"][pack.CHART_FORM].get_object()
            assert form["/Subtype"] == "/Form"
            placed.append(form.get_data())
    # the chart's own drawing, copied as it is (not parsed and rewritten into the page)
    assert placed == [pypdf.PdfReader(pdf).pages[0].get_contents().get_data() for pdf in pdfs]
