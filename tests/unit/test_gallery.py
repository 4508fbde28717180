"""The gallery page on a small SYNTHETIC reports folder (made here, in tmp_path): what each card says.

Nothing here is read from the data: the synthetic countries, values and sources are invented, and the
expected alt texts, captions and links are derived from the same invented numbers. The browser test
(tests/integration/test_gallery_browser.py) opens the same synthetic folder in Chromium.
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from analysis.presentation import gallery

#: synthetic countries: (iso3, name, group, value, year) of a one-indicator bar chart
SYNTHETIC_BARS = (
    ("XAA", "Synthetica Alpha", "ASEAN", 12.5, 2023),
    ("XBB", "Synthetica Beta", "ASEAN", 47.0, 2021),
    ("XCC", "Synthetica Gamma", "Plus Three", 30.25, 2023),
)
SYNTHETIC_MEDIAN = 21.0
SYNTHETIC_SOURCE = {"id": "synthetic-src", "publisher": "Synthetic Statistics Office", "title": "Invented Indicators",
                    "licence": "CC BY 4.0", "landing_page": "https://example.org/synthetic", "vintages": ["2031-02-03"],
                    "registry_vintage": "2031-02-03"}
COLUMNS = ["iso3", "country", "group", "indicator_id", "year", "value", "unit", "source_id", "vintage", "projection",
           "role"]


def _png(path: Path, size=(1600, 1000), pdf: bool = True) -> None:
    """A synthetic chart image, as PNG and (``pdf``) as the one-page PDF thumbnails are drawn from."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for i in range(6):
        draw.rectangle([100 + i * 220, 900 - i * 120, 260 + i * 220, 900], fill=(0, 96, 160))
    image.save(path)
    if pdf:
        image.save(path.with_suffix(".pdf"), format="PDF", resolution=200.0)


def _write_chart(folder: Path, stem: str, meta: dict, rows: list[dict], *, files=("svg", "pdf")) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _png(folder / f"{stem}.png", pdf="pdf" in files)
    (folder / f"{stem}.json").write_text(json.dumps(meta), encoding="utf-8")
    with (folder / f"{stem}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in COLUMNS} for row in rows)
    for ext in files:
        if ext != "pdf":
            (folder / f"{stem}.{ext}").write_text("synthetic", encoding="utf-8")


def _bar_rows() -> list[dict]:
    rows = [dict(iso3=i, country=n, group=g, indicator_id="synthetic_share", year=y, value=v, unit="%", role="country",
                 projection="False") for i, n, g, v, y in SYNTHETIC_BARS]
    rows.append(dict(iso3="ASEAN", country="ASEAN median", group="aggregate", indicator_id="synthetic_share",
                     value=SYNTHETIC_MEDIAN, unit="%", role="aggregate: median"))
    return rows


def _line_rows() -> list[dict]:
    rows = []
    for k, (iso3, name, group, value, _) in enumerate(SYNTHETIC_BARS):
        for year in (2000, 2010, 2020):
            rows.append(dict(iso3=iso3, country=name, group=group, indicator_id="synthetic_rate", year=year,
                             value=value + year - 2000 + k, unit="per 1,000", role="country", projection="False"))
        # a projected value, larger than all observed ones: the alt text must not read it
        rows.append(dict(iso3=iso3, country=name, group=group, indicator_id="synthetic_rate", year=2050,
                         value=1000 + k, unit="per 1,000", role="country", projection="True"))
    return rows


def _meta(title: str, kind: str, unit: str) -> dict:
    return {"title": title, "kind": kind, "unit": unit, "subtitle": unit,
            "made_by": "analysis.report.build_reports (synthetic-developer-text)",
            "footer": [f"Source: {SYNTHETIC_SOURCE['publisher']}, {SYNTHETIC_SOURCE['title']}.", "Synthetic note."],
            "sources": [SYNTHETIC_SOURCE]}


def synthetic_reports(root: Path) -> Path:
    """A reports folder shaped like the main job's: two pack charts, one notebook chart, profiles, pages."""
    reports = root / "reports"
    pack = reports / "figures" / gallery.PACK_SUBDIR
    _write_chart(pack, "01-older-synthetic-share", _meta("Synthetic share of older persons", "banded_bars", "%"),
                 _bar_rows())
    _write_chart(pack, "02-children-synthetic-rate", _meta("Synthetic child rate over time", "lines", "per 1,000"),
                 _line_rows())
    _write_chart(reports / "figures" / "01_synthetic_topic", "synthetic-notebook-chart",
                 _meta("Synthetic notebook chart", "banded_bars", "%"), _bar_rows()[:2], files=("pdf",))
    (reports / "profiles").mkdir(parents=True)
    for iso3, *_ in SYNTHETIC_BARS:
        (reports / "profiles" / f"{iso3}.pdf").write_text("synthetic", encoding="utf-8")
    (reports / "notebooks").mkdir()
    (reports / "notebooks" / "profiles").mkdir()
    (reports / "notebooks" / "profiles" / f"{SYNTHETIC_BARS[0][0]}.html").write_text("<!DOCTYPE html><title>s</title>")
    (reports / "notebooks" / "01_synthetic_topic.html").write_text("<!DOCTYPE html><title>synthetic</title>",
                                                                   encoding="utf-8")
    (reports / "chart-pack.pdf").write_text("synthetic", encoding="utf-8")
    return reports


@pytest.fixture
def reports(tmp_path) -> Path:
    return synthetic_reports(tmp_path)


def _cards(page: str) -> list[str]:
    return re.findall(r"<figure .*?</figure>", page, flags=re.DOTALL)


def _card_of(page: str, title: str) -> str:
    return next(card for card in _cards(page) if f"<strong>{html.escape(title)}</strong>" in card)


# ----------------------------------------------------------------------------- facts from the CSV
def test_alt_text_of_a_bar_chart_names_range_extremes_median_and_years(reports):
    page, n = gallery.render_gallery(reports)
    assert n == 3
    card = _card_of(page, "Synthetic share of older persons")
    alt = html.unescape(re.search(r'alt="([^"]*)"', card).group(1))
    low = min(SYNTHETIC_BARS, key=lambda r: r[3])
    high = max(SYNTHETIC_BARS, key=lambda r: r[3])
    years = [r[4] for r in SYNTHETIC_BARS]
    top = max(years)
    assert alt.startswith("Bar chart: Synthetic share of older persons;")
    assert f"from {low[3]:.1f}% ({low[1]}) to {high[3]:.1f}% ({high[1]})" in alt
    assert f"ASEAN median {SYNTHETIC_MEDIAN:.1f}%" in alt
    n_top = years.count(top)
    assert f"latest year: {top} for {n_top} of {len(years)}" in alt
    # the caption states the same years, capitalised
    assert f"Latest year: {top} for {n_top} of {len(years)}" in html.unescape(card)


def test_alt_text_of_a_time_series_reads_the_latest_observed_year_not_projections():
    rows = _line_rows()
    facts = gallery.chart_facts("lines", [{k: str(v) for k, v in r.items()} for r in rows], "per 1,000")
    observed = [r for r in rows if r["projection"] == "False"]
    last = max(r["year"] for r in observed)
    at_last = sorted((r for r in observed if r["year"] == last), key=lambda r: r["value"])
    assert f"from {at_last[0]['value']:.1f} per 1,000 ({at_last[0]['country']})" in facts.summary
    assert f"to {at_last[-1]['value']:.1f} per 1,000 ({at_last[-1]['country']}) in {last}" in facts.summary
    assert f"data years {min(r['year'] for r in observed)}–{last}" in facts.summary
    assert "2050" not in facts.summary and "1,000.0" not in facts.summary


def test_a_series_is_read_at_its_latest_year_only():
    rows = [{k: str(v) for k, v in r.items()} for r in _line_rows()]
    # the lowest line, stopped a year early: its last value is still the lowest, but not of the last year
    stops_early = min(SYNTHETIC_BARS, key=lambda r: r[3])
    rows = [r for r in rows if not (r["iso3"] == stops_early[0] and r["year"] == "2020")]
    facts = gallery.chart_facts("lines", rows, "per 1,000")
    assert stops_early[1] not in facts.summary and stops_early[1] in facts.countries


def test_a_pyramid_names_every_year_it_draws_with_projections_marked():
    rows = [{"iso3": "XAA", "country": "Synthetica Alpha", "indicator_id": f"age_{age}", "age": str(age),
             "year": str(year), "value": "1.5", "projection": str(year > 2030)}
            for year in (2000, 2031, 2060) for age in range(4)]
    facts = gallery.chart_facts("pyramid", rows)
    assert facts.years == "years 2000, 2031 and 2060 (2031, 2060 projected)"
    assert facts.summary == f"Synthetica Alpha, 4 age groups, {facts.years}"


def test_years_phrase_says_one_year_or_the_split():
    assert gallery.years_phrase([2031, 2031]) == "data year 2031"
    assert gallery.years_phrase([2031, 2031, 2020, 2025]) == "latest year: 2031 for 2 of 4, 2020–2025 for 2"
    assert gallery.years_phrase([]) == ""


def test_a_chart_without_csv_rows_gets_a_plain_alt_text(tmp_path):
    folder = tmp_path / "figures" / "pack"
    folder.mkdir(parents=True)
    _png(folder / "01-older-no-csv.png")
    (folder / "01-older-no-csv.json").write_text(json.dumps({"title": "Synthetic without CSV", "kind": "heatmap"}))
    page, n = gallery.render_gallery(tmp_path)
    assert n == 1 and 'alt="Heatmap: Synthetic without CSV."' in page


# ----------------------------------------------------------------------------- what a card shows
def test_cards_carry_no_developer_text(reports):
    page, _ = gallery.render_gallery(reports)
    assert "analysis.report" not in page and "synthetic-developer-text" not in page and "made_by" not in page


def test_download_links_say_which_chart_they_belong_to(reports):
    page, _ = gallery.render_gallery(reports)
    anchors = re.findall(r'<a href="([^"]+\.csv)">(.*?)</a>', page)
    texts = [re.sub(r"<[^>]+>", "", text) for _, text in anchors]
    assert len(anchors) == 3 and len(set(texts)) == len(texts)
    assert html.escape("CSV data of “Synthetic child rate over time”") in texts


def test_each_card_and_the_set_say_how_to_cite(reports):
    page, n = gallery.render_gallery(reports)
    for card in _cards(page):
        cite = re.search(r'How to cite:</strong> (.*?)</p>', card).group(1)
        assert SYNTHETIC_SOURCE["publisher"] in cite and SYNTHETIC_SOURCE["licence"] in cite
    assert "How to cite this set:" in page and f"chart gallery of {n} charts" in page
    vintage = SYNTHETIC_SOURCE["vintages"][0]
    assert f"Data vintages: {vintage}." in page and f"data vintages {vintage}" in page


def test_caption_gives_source_and_vintage(reports):
    card = _card_of(gallery.render_gallery(reports)[0], "Synthetic notebook chart")
    assert (f"Source: {SYNTHETIC_SOURCE['publisher']}, {SYNTHETIC_SOURCE['title']} "
            f"(vintage {SYNTHETIC_SOURCE['vintages'][0]}).") in card


def test_profiles_and_notebooks_are_linked_by_name(reports):
    page, _ = gallery.render_gallery(reports)
    for iso3, name, *_ in SYNTHETIC_BARS:
        assert f'{name}: <a href="profiles/{iso3}.pdf">profile (PDF)<span class="vh"> of {name}</span></a>' in page
    # a country whose page of the profile notebook is published gets that link too, under its name
    iso3, name, *_ = SYNTHETIC_BARS[0]
    assert (f'<a href="notebooks/profiles/{iso3}.html">web page<span class="vh"> of {name}</span></a>' in page)
    assert '<a href="notebooks/01_synthetic_topic.html">Synthetic topic (notebook 01)<span' in page
    # the notebook's section links its page too
    assert page.count('href="notebooks/01_synthetic_topic.html"') == 2


def test_pack_is_grouped_by_topic_and_notebooks_get_their_own_section(reports):
    page, _ = gallery.render_gallery(reports)
    order = [page.index(text) for text in ("Headline charts (chart pack)", "<h3>Older persons</h3>",
                                           "<h3>Children</h3>", "Synthetic topic (notebook 01)</h2>")]
    assert order == sorted(order)


def test_country_names_are_searchable(reports):
    page, _ = gallery.render_gallery(reports)
    card = _card_of(page, "Synthetic notebook chart")
    search = re.search(r'data-search="([^"]*)"', card).group(1)
    assert SYNTHETIC_BARS[0][1].lower() in search and SYNTHETIC_BARS[2][1].lower() not in search


def test_workbook_and_data_download_are_linked_with_clear_texts(reports):
    page, _ = gallery.render_gallery(reports)
    assert "Data downloads" not in page  # nothing published yet: no dead links
    (reports / gallery.WORKBOOK_FILE).write_bytes(b"synthetic xlsx")
    data = reports / "data"
    data.mkdir()
    (data / "synthetic.csv").write_text("a\n1\n", encoding="utf-8")
    (data / "datapackage.json").write_text(json.dumps({"resources": [
        {"name": "synthetic", "path": "synthetic.csv", "description": "a synthetic table"},
        {"name": "missing", "path": "missing.csv"}]}), encoding="utf-8")
    page, _ = gallery.render_gallery(reports)
    texts = {href: re.sub(r"<[^>]+>", "", text) for href, text in re.findall(r'<a href="([^"]+)">(.*?)</a>', page)}
    assert texts[gallery.WORKBOOK_FILE].startswith(f"Workbook ({gallery.WORKBOOK_FILE})")
    assert texts["data/datapackage.json"].startswith("Data dictionary (datapackage.json)")
    assert texts["data/synthetic.csv"] == "synthetic.csv: a synthetic table"
    assert "data/missing.csv" not in texts


# ----------------------------------------------------------------------------- thumbnails
def test_thumbnails_are_small_and_link_to_the_full_image(reports):
    page, _ = gallery.render_gallery(reports)
    for card in _cards(page):
        full = re.search(r'<a href="([^"]+\.png)"><img', card).group(1)
        thumb = re.search(r'<img [^>]*src="([^"]+)"', card).group(1)
        assert thumb.startswith(f"{gallery.THUMBNAILS}/") and full.startswith("figures/")
        with Image.open(reports / thumb) as small, Image.open(reports / full) as big:
            assert small.width == gallery.THUMB_WIDTH and big.width > small.width
        assert (reports / thumb).stat().st_size < (reports / full).stat().st_size


def test_thumbnails_are_drawn_once_per_image_and_pruned_with_their_chart(reports):
    gallery.write_gallery(reports)
    thumbs = sorted((reports / gallery.THUMBNAILS).rglob("*.png"))
    assert len(thumbs) == 3
    stamps = {p: p.stat().st_mtime_ns for p in thumbs}
    gallery.write_gallery(reports)
    assert {p: p.stat().st_mtime_ns for p in sorted((reports / gallery.THUMBNAILS).rglob("*.png"))} == stamps
    # a redrawn chart gets a new thumbnail; the old one goes
    chart = reports / "figures" / gallery.PACK_SUBDIR / "01-older-synthetic-share.png"
    _png(chart, size=(1200, 1200))
    index, n = gallery.write_gallery(reports)
    now = sorted((reports / gallery.THUMBNAILS).rglob("*.png"))
    assert n == 3 and len(now) == 3 and len(set(now) - set(thumbs)) == 1
    new_thumb = (set(now) - set(thumbs)).pop()
    assert new_thumb.relative_to(reports).as_posix() in index.read_text(encoding="utf-8")
    with Image.open(new_thumb) as small:
        assert small.size == (gallery.THUMB_WIDTH, gallery.THUMB_WIDTH)
    for path in (reports / "figures" / "01_synthetic_topic").iterdir():
        path.unlink()
    _, n = gallery.write_gallery(reports)
    assert n == 2 and len(list((reports / gallery.THUMBNAILS).rglob("*.png"))) == 2


@pytest.mark.parametrize("pdf", [None, b"not a pdf"], ids=["no PDF", "unreadable PDF"])
def test_a_chart_without_a_readable_pdf_is_shown_full_size(tmp_path, pdf):
    folder = tmp_path / "figures" / "pack"
    folder.mkdir(parents=True)
    _png(folder / "01-older-broken.png", pdf=False)
    if pdf is not None:
        (folder / "01-older-broken.pdf").write_bytes(pdf)
    (folder / "01-older-broken.json").write_text(json.dumps({"title": "Synthetic broken image"}))
    page, n = gallery.render_gallery(tmp_path)
    assert n == 1 and 'src="figures/pack/01-older-broken.png"' in page
    assert not (tmp_path / gallery.THUMBNAILS).exists()


def test_markup_in_metadata_is_escaped(tmp_path):
    folder = tmp_path / "figures" / "pack"
    folder.mkdir(parents=True)
    _png(folder / "01-older-markup.png")
    (folder / "01-older-markup.json").write_text(json.dumps(
        {"title": "<script>alert(1)</script>", "sources": [{**SYNTHETIC_SOURCE, "title": "<b>bold</b>"}]}))
    page, _ = gallery.render_gallery(tmp_path)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_a_five_year_period_is_said_as_the_period():
    # synthetic rows of a bar chart whose values stand for one five-year period
    rows = [{"iso3": iso3, "country": name, "group": group, "indicator_id": "synthetic_period", "year": "2031",
             "period": "2031–2036", "value": str(value), "role": "country"}
            for iso3, name, group, value, _ in SYNTHETIC_BARS]
    facts = gallery.chart_facts("banded_bars", rows, "years")
    assert facts.years == "data period 2031–2036"
    single_years = [{**r, "period": "2031"} for r in rows]
    assert gallery.chart_facts("banded_bars", single_years, "years").years == "data year 2031"


def test_thumbnails_drawn_folder_by_folder_are_the_ones_the_gallery_lists(reports):
    assert gallery.draw_thumbnails(reports, gallery.PACK_SUBDIR) == 2
    made = sorted((reports / gallery.THUMBNAILS).rglob("*.png"))
    assert [p.parent.name for p in made] == [gallery.PACK_SUBDIR] * 2
    stamps = {p: p.stat().st_mtime_ns for p in made}
    assert gallery.draw_thumbnails(reports, gallery.PACK_SUBDIR) == 2  # found, not drawn again
    assert gallery.draw_thumbnails(reports, "no_such_folder") == 0
    page, _ = gallery.render_gallery(reports)
    for path, stamp in stamps.items():
        assert path.stat().st_mtime_ns == stamp
        assert path.relative_to(reports).as_posix() in page
