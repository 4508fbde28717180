"""The report builder on the real store (data/processed), writing into a temporary reports dir.

Every expectation is read independently through the public API (catalogue, latest values, registry,
country names) or from small synthetic gallery fixtures; nothing is typed from the data. The user's
reports/ is never touched.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pypdf
import pypdfium2
import pytest

from analysis.core import paths
from analysis.core.errors import AnalysisError
from analysis.presentation import report
from analysis.presentation.gallery import PACK_SUBDIR, render_gallery, write_gallery
from analysis.store import api
from pdf_reading import outline as pdf_outline


def _first_spec_of_each_kind() -> tuple[dict, ...]:
    """One headline spec per chart kind: every drawer of the dispatch table runs."""
    seen: dict[str, dict] = {}
    for spec in report.HEADLINE_CHARTS:
        seen.setdefault(spec["kind"], spec)
    return tuple(seen.values())


KIND_SPECS = _first_spec_of_each_kind()


def _spec_of_kind(kind: str) -> dict:
    return next(s for s in KIND_SPECS if s["kind"] == kind)


def _exported_name(spec: dict) -> str:
    return f"{KIND_SPECS.index(spec) + 1:02d}-{spec['name']}"


def _variance(image) -> float:
    return float(np.asarray(image.convert("L"), dtype="float64").var())


@pytest.fixture(scope="module")
def profiles() -> list[str]:
    # One ASEAN member and one Plus Three comparator keep the test fast (each PDF embeds font subsets).
    return [api.members("ASEAN")[0], api.members("PLUS_THREE")[0]]


@pytest.fixture(scope="module")
def built(tmp_path_factory, profiles):
    reports = tmp_path_factory.mktemp("reports")
    # A notebook's export in a subfolder must show up in the gallery too.
    figures = reports / "figures" / "01_synthetic_notebook"
    figures.mkdir(parents=True)
    (figures / "nb-chart.png").write_bytes(b"synthetic png")
    (figures / "nb-chart.csv").write_text("synthetic,csv\n")
    (figures / "nb-chart.json").write_text(json.dumps({"title": "Synthetic notebook chart"}))
    result = report.build_reports(reports_dir=reports, charts=KIND_SPECS, profiles=profiles)
    return reports, result


def test_the_user_reports_dir_is_not_used(built):
    reports, result = built
    assert reports != paths.reports_dir()
    assert result.pack.parent == reports and result.index.parent == reports


def test_every_kind_is_drawn_and_exported(built):
    reports, result = built
    assert {s["kind"] for s in KIND_SPECS} == set(report.specs.DRAWERS)
    assert result.skipped == []
    assert result.charts == [_exported_name(s) for s in KIND_SPECS]
    pack = reports / "figures" / PACK_SUBDIR
    for name in result.charts:
        for ext in ("png", "svg", "pdf", "csv", "json"):
            assert (pack / f"{name}.{ext}").stat().st_size > 0
    spec = _spec_of_kind("banded_bars")
    meta = json.loads((pack / f"{_exported_name(spec)}.json").read_text())
    catalogue = api.catalogue().set_index("indicator_id")
    assert meta["title"] == catalogue.loc[spec["indicators"][0], "title"]
    assert meta["made_by"] == f"analysis.report.build_reports ({spec['name']})"


def test_banded_bars_show_the_api_latest_values_judged_by_the_catalogue_direction(built):
    reports, _ = built
    spec = _spec_of_kind("banded_bars")
    ind = spec["indicators"][0]
    drawn = pd.read_csv(reports / "figures" / PACK_SUBDIR / f"{_exported_name(spec)}.csv", keep_default_na=False,
                        na_values=[""])
    countries = drawn[drawn["role"] == "country"].set_index("iso3")
    latest = api.latest(ind, "FOCUS").set_index("iso3")
    expected = latest["value"].dropna()
    assert len(expected) > 0
    assert sorted(countries["value"].dropna().index) == sorted(expected.index)
    assert np.allclose(countries.loc[expected.index, "value"].astype(float), expected.to_numpy(), rtol=1e-5)
    judged = api.judge(countries["band"], api.direction_of(ind))
    assert countries["judged"].tolist() == judged.tolist()


def test_chart_pack_pages_and_text(built):
    reports, result = built
    reader = pypdf.PdfReader(reports / "chart-pack.pdf")
    assert len(reader.pages) == result.pack_pages
    assert len({(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages}) == 1
    drawn = pd.read_csv(reports / "figures" / PACK_SUBDIR / f"{_exported_name(_spec_of_kind('banded_bars'))}.csv")
    cover = reader.pages[0].extract_text()
    registry = api.registry()
    for sid in drawn["source_id"].dropna().unique():
        assert registry.datasets[sid].publisher in cover
    outline = {title: page for _, title, page in pdf_outline(reader)}
    first = json.loads((reports / "figures" / PACK_SUBDIR / f"{result.charts[0]}.json").read_text())
    contents = reader.pages[outline[report.pack.CONTENTS_TITLE]].extract_text()
    first_page = outline[f"Figure 1. {first['title']}"]
    assert f"p. {first_page + 1}   Figure 1. {first['title']}" in contents
    assert report.GROUP_TITLES[KIND_SPECS[0]["group"]] in contents
    assert f"Figure 1 · {report.GROUP_TITLES[KIND_SPECS[0]['group']]}" in reader.pages[first_page].extract_text()
    assert first_page + len(result.charts) == result.pack_pages
    image = pypdfium2.PdfDocument(str(reports / "chart-pack.pdf"))[first_page].render(scale=0.6).to_pil()
    assert _variance(image) > 100


def test_chart_pack_opens_with_key_messages_and_the_meetings_themes(built):
    reports, _ = built
    reader = pypdf.PdfReader(reports / "chart-pack.pdf")
    top = [title for depth, title, _ in pdf_outline(reader) if depth == 0]
    assert top[:4] == [report.pack.COVER_TITLE, "Key messages", report.pages.THEMES_TITLE, report.pack.CONTENTS_TITLE]
    outline = {title: page for _, title, page in pdf_outline(reader)}
    themes_text = reader.pages[outline[report.pages.THEMES_TITLE]].extract_text()
    # a theme the data cannot speak to is named, with the year of its meeting, read from the meetings table
    meetings = api.meetings()
    mental = meetings.loc[meetings["topics"].fillna("").str.contains("mental health"), "year"]
    assert len(mental) > 0 and "Mental health (" in themes_text and str(int(mental.iloc[0])) in themes_text


def test_workbook_has_a_sheet_per_chart_and_profile(built, profiles):
    import re
    import zipfile

    reports, result = built
    with zipfile.ZipFile(reports / "caring-societies-data.xlsx") as z:
        names = re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
    assert len(names) == result.workbook_sheets == len(result.charts) + len(profiles) + 2
    assert all(len(n) <= 31 for n in names) and len(set(names)) == len(names)
    assert sum(n.startswith("Fig") for n in names) == len(result.charts)
    assert sum(n.startswith("Profile") for n in names) == len(profiles)


def test_data_download_is_a_valid_frictionless_package(built):
    import frictionless

    reports, result = built
    assert result.data_package == reports / "data" / "datapackage.json"
    checked = frictionless.validate(str(result.data_package), limit_rows=2000)
    assert checked.valid, checked.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])[:10]
    html = (reports / "index.html").read_text()
    assert 'href="caring-societies-data.xlsx"' in html and 'href="data/datapackage.json"' in html


def test_profiles_one_or_two_pages_per_country(built, profiles):
    reports, result = built
    assert [p.stem for p in result.profiles] == profiles
    names = api.country_names(profiles)
    headings = {report.GROUP_TITLES[g].split(":")[0] for g in report.profile_groups()}
    for iso3 in profiles:
        reader = pypdf.PdfReader(reports / "profiles" / f"{iso3}.pdf")
        assert 1 <= len(reader.pages) <= 2
        text = "\n".join(page.extract_text() for page in reader.pages)
        assert names[iso3] in text and "Source: " in text
        assert all(h in text for h in headings)
        assert f"{len(api.members('FOCUS'))} focus countries" in text
    image = pypdfium2.PdfDocument(str(result.profiles[0]))[0].render(scale=0.5).to_pil()
    assert _variance(image) > 100


def test_gallery_lists_every_chart_with_its_files(built, profiles):
    reports, result = built
    html = (reports / "index.html").read_text()
    assert result.gallery_charts == len(result.charts) + 1
    assert 'href="figures/01_synthetic_notebook/nb-chart.csv"' in html
    for name in result.charts:
        for ext in ("png", "svg", "pdf", "csv", "json"):
            assert f'href="figures/{PACK_SUBDIR}/{name}.{ext}"' in html
    for iso3 in profiles:
        assert f'href="profiles/{iso3}.pdf"' in html
    assert 'href="chart-pack.pdf"' in html
    assert html.index("Headline charts (chart pack)") < html.index("01_synthetic_notebook")


def test_second_run_is_skipped_unless_forced(built, profiles):
    reports, _ = built
    again = report.build_reports(reports_dir=reports, charts=KIND_SPECS, profiles=profiles)
    assert again.skipped_unchanged and "up to date" in again.summary()
    svg = reports / "figures" / PACK_SUBDIR / f"{_exported_name(KIND_SPECS[0])}.svg"
    before = svg.read_bytes()
    forced = report.build_reports(force=True, reports_dir=reports, charts=KIND_SPECS[:1], profiles=[])
    assert not forced.skipped_unchanged and forced.charts == [svg.stem] and forced.profiles == []
    assert svg.read_bytes() == before


def _typo_spec() -> dict:
    spec = _spec_of_kind("banded_bars")
    return {**spec, "name": "pension-coverage", "indicators": [spec["indicators"][0] + "n"]}


def test_unknown_indicator_stops_the_report_before_any_output(tmp_path):
    spec = _typo_spec()
    with pytest.raises(report.ChartSpecError) as caught:
        report.build_reports(reports_dir=tmp_path / "reports", charts=(KIND_SPECS[0], spec))
    assert isinstance(caught.value, AnalysisError)
    assert f"report chart spec 'pension-coverage': unknown indicator '{spec['indicators'][0]}'" in str(caught.value)
    assert not (tmp_path / "reports").exists()


def test_unknown_indicator_is_caught_even_when_reports_are_up_to_date(built, profiles):
    reports, _ = built
    listing = {p: p.stat().st_mtime_ns for p in reports.rglob("*")}
    with pytest.raises(report.ChartSpecError, match="unknown indicator"):
        report.build_reports(reports_dir=reports, charts=(*KIND_SPECS, _typo_spec()), profiles=profiles)
    assert {p: p.stat().st_mtime_ns for p in reports.rglob("*")} == listing


def _bad_specs() -> list[tuple[dict, str]]:
    bars, scatter = _spec_of_kind("banded_bars"), _spec_of_kind("scatter")
    return [
        ({**bars, "kind": "pie"}, "unknown chart kind 'pie'"),
        ({**bars, "group": "olderpersons"}, "unknown population group 'olderpersons'"),
        ({**bars, "colour": "red"}, "unknown option(s) colour"),
        ({k: v for k, v in bars.items() if k != "indicators"}, "missing indicators"),
        ({**scatter, "indicators": scatter["indicators"][:1]}, "a scatter chart draws 2 indicator(s), got 1"),
        ({**bars, "indicators": report.specs.PROFILE}, "cannot draw the 'profile' indicators"),
        ({**bars, "indicators": bars["indicators"][0]}, "must be a list of catalogue ids"),
        ({**_spec_of_kind("slope"), "year_from": "meeting:olderpersons"}, "unknown meeting group 'olderpersons'"),
        ({**_spec_of_kind("lines"), "events": "kids"}, "unknown events group 'kids'"),
    ]


@pytest.mark.parametrize(("spec", "problem"), _bad_specs())
def test_spec_problems_name_the_spec_and_the_rule(spec, problem):
    with pytest.raises(report.ChartSpecError) as caught:
        report.validate_specs([spec])
    assert str(caught.value).startswith(f"report chart spec {spec['name']!r}: ")
    assert problem in str(caught.value)


def test_duplicate_spec_names_are_refused():
    with pytest.raises(report.ChartSpecError, match="used by an earlier spec"):
        report.validate_specs([KIND_SPECS[0], dict(KIND_SPECS[0])])


def test_the_headline_specs_are_valid():
    report.validate_specs(report.HEADLINE_CHARTS)
    names = [s["name"] for s in report.HEADLINE_CHARTS]
    assert len(names) == len(set(names))


def test_chart_whose_indicator_is_absent_from_the_store_is_skipped_and_listed(tmp_path):
    """A copy of the real store without one indicator: its chart is listed as skipped, not faked."""
    spec = _spec_of_kind("banded_bars")
    absent = spec["indicators"][0]
    store = tmp_path / "processed"
    shutil.copytree(paths.processed_dir(), store)
    table = pq.read_table(store / "indicators.parquet")
    pq.write_table(table.filter(pc.not_equal(table["indicator_id"], absent)), store / "indicators.parquet")
    result = report.build_reports(processed_dir=store, reports_dir=tmp_path / "reports", charts=(spec,), profiles=[])
    assert result.charts == [] and len(pypdf.PdfReader(result.pack).pages) == result.pack_pages > 0
    assert result.skipped == [(spec["name"], f"indicator(s) not in the store: {absent}")]
    assert f"skipped {spec['name']}" in result.summary()


# ----------------------------------------------------------------------------- the gallery on synthetic files
def _synthetic_chart(directory, stem: str, meta: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{stem}.png").write_bytes(b"synthetic png")
    (directory / f"{stem}.json").write_text(json.dumps(meta))


def test_gallery_is_not_rewritten_when_nothing_changed(tmp_path):
    figures = tmp_path / "figures" / "pack"
    _synthetic_chart(figures, "synthetic-chart", {"title": "Synthetic chart", "footer": ["Source: synthetic."]})
    index, n = write_gallery(tmp_path)
    assert n == 1 and "Synthetic chart" in index.read_text(encoding="utf-8")
    before = index.stat().st_mtime_ns, index.stat().st_ino
    write_gallery(tmp_path)
    assert (index.stat().st_mtime_ns, index.stat().st_ino) == before
    _synthetic_chart(figures, "synthetic-other", {"title": "Another synthetic chart"})
    _, n = write_gallery(tmp_path)
    assert n == 2 and "Another synthetic chart" in index.read_text(encoding="utf-8")


def test_gallery_escapes_titles_and_footers(tmp_path):
    _synthetic_chart(tmp_path / "figures", "synthetic-markup",
                     {"title": "<script>alert(1)</script> & co", "made_by": "<b>synthetic</b>",
                      "footer": ["Source: Synthetic <A> & B.", "Not a source line."]})
    page, n = render_gallery(tmp_path)
    assert n == 1
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    # Developer text (made_by) is not shown on cards at all, escaped or not.
    assert "synthetic&lt;/b&gt;" not in page and "<b>synthetic</b>" not in page
    assert "Source: Synthetic &lt;A&gt; &amp; B." in page and "Not a source line." not in page
    assert "<h2>Other charts</h2>" in page


def test_gallery_of_an_empty_reports_dir(tmp_path):
    page, n = render_gallery(tmp_path)
    assert n == 0
    assert "No charts exported yet." in page and "Country profiles: none yet" in page
    assert "chart-pack.pdf" not in page


def test_gallery_lists_a_chart_with_unreadable_metadata_by_its_file_name(tmp_path):
    figures = tmp_path / "figures" / "02_synthetic"
    figures.mkdir(parents=True)
    (figures / "broken.png").write_bytes(b"synthetic png")
    (figures / "broken.json").write_text("{not json")
    (figures / "no-image.json").write_text(json.dumps({"title": "Synthetic chart without PNG"}))
    page, n = render_gallery(tmp_path)
    assert n == 1 and 'alt="Chart: broken."' in page and "Synthetic chart without PNG" not in page
