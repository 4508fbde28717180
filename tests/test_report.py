"""The report builder on a small synthetic store in a temporary project."""

from __future__ import annotations

import json

import pypdf
import pypdfium2
import pytest

from analysis.presentation import report
from analysis.store import reader as store
from charts_synthetic import SYNTHETIC_CATALOGUE, focus_members, make_synthetic_project, pixel_variance

SPECS = (
    dict(name="synthetic-pension", group="older_persons", kind="banded_bars", indicators=["sp_cov_pension"]),
    dict(name="synthetic-65plus", group="older_persons", kind="lines", indicators=["pop_65plus_share_wpp"],
         start=2000, end=2040),
    dict(name="synthetic-spending", group="whole_population", kind="stacked_bars",
         indicators=["gov_share_che", "oop_share_che"], remainder="Other (remainder)"),
    dict(name="synthetic-absent", group="children", kind="banded_bars", indicators=["not_in_the_store"]),
)


PROFILES = ["IDN", "TLS", "JPN"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = make_synthetic_project(tmp_path_factory.mktemp("synthetic_report_project"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYSIS_PROJECT_ROOT", str(root))
        store.clear_cache()
        # A notebook's export in a subfolder must show up in the gallery too.
        from analysis.presentation import charts
        from charts_synthetic import synthetic_series

        charts.save(charts.ranked_bars(synthetic_series("synthetic_nb", [2020]), title="Synthetic notebook chart"),
                    "nb-chart", "01_synthetic_notebook")
        # Profiles for three countries keep the test fast (each PDF embeds font subsets).
        result = report.build_reports(catalogue=SYNTHETIC_CATALOGUE, charts=SPECS, profiles=PROFILES)
        yield root, result
        store.clear_cache()


def test_charts_exported_and_absent_indicator_skipped(built):
    root, result = built
    assert result.charts == ["01-synthetic-pension", "02-synthetic-65plus", "03-synthetic-spending"]
    assert result.skipped == [("synthetic-absent", "indicator(s) not in the store: not_in_the_store")]
    pack = root / "reports" / "figures" / "pack"
    for name in result.charts:
        for ext in ("png", "svg", "pdf", "csv", "json"):
            assert (pack / f"{name}.{ext}").exists()
    meta = json.loads((pack / "01-synthetic-pension.json").read_text())
    assert meta["title"] == "Synthetic pension coverage"
    assert meta["made_by"].startswith("analysis.report.build_reports")
    assert "skipped synthetic-absent" in result.summary()


def test_chart_pack_pages_and_text(built):
    root, result = built
    reader = pypdf.PdfReader(root / "reports" / "chart-pack.pdf")
    assert len(reader.pages) == 2 + 3 == result.pack_pages
    cover = reader.pages[0].extract_text()
    assert "Synthetic Publisher A, Synthetic Development Indicators: vintage 2099-01-01" in cover
    assert "Synthetic Publisher B, Synthetic Population Prospects: vintage 2098-06-30" in cover
    contents = reader.pages[1].extract_text()
    assert "Figure 1. Synthetic pension coverage" in contents and "Older persons" in contents
    page = reader.pages[2].extract_text()
    assert "Source: Synthetic Publisher A, Synthetic Development Indicators (vintage 2099-01-01)." in page
    assert "Figure 1" in page and "no data" in page  # MMR and TLS have no pension value
    assert "2020" in reader.pages[3].extract_text() or "2040" in reader.pages[3].extract_text()
    image = pypdfium2.PdfDocument(str(root / "reports" / "chart-pack.pdf"))[2].render(scale=0.6).to_pil()
    assert pixel_variance(image) > 100


def test_profiles_for_every_focus_country(built):
    root, result = built
    assert [p.stem for p in result.profiles] == PROFILES
    assert set(PROFILES) <= set(focus_members()["iso3"])
    reader = pypdf.PdfReader(root / "reports" / "profiles" / "TLS.pdf")
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Timor-Leste" in text
    assert "no data" in text  # the synthetic pension series leaves TLS out
    assert "Source: Synthetic Publisher A" in text
    idn = pypdf.PdfReader(root / "reports" / "profiles" / "IDN.pdf").pages[0].extract_text()
    assert "2020" in idn and "of 11)" in idn  # latest year and the ASEAN median's n of N
    image = pypdfium2.PdfDocument(str(root / "reports" / "profiles" / "IDN.pdf"))[0].render(scale=0.5).to_pil()
    assert pixel_variance(image) > 100


def test_gallery_lists_every_chart_with_its_files(built):
    root, result = built
    html = (root / "reports" / "index.html").read_text()
    assert result.gallery_charts == 4
    assert 'href="figures/01_synthetic_notebook/nb-chart.csv"' in html
    for name in result.charts:
        for ext in ("png", "svg", "pdf", "csv"):
            assert f'href="figures/pack/{name}.{ext}"' in html
    assert 'href="profiles/IDN.pdf"' in html


def test_second_run_is_skipped_unless_forced(built):
    root, _ = built
    again = report.build_reports(catalogue=SYNTHETIC_CATALOGUE, charts=SPECS, profiles=PROFILES)
    assert again.skipped_unchanged and "up to date" in again.summary()
    before = (root / "reports" / "figures" / "pack" / "01-synthetic-pension.svg").read_bytes()
    forced = report.build_reports(force=True, catalogue=SYNTHETIC_CATALOGUE, charts=SPECS[:1], profiles=["IDN"])
    assert not forced.skipped_unchanged and forced.charts == ["01-synthetic-pension"]
    assert (root / "reports" / "figures" / "pack" / "01-synthetic-pension.svg").read_bytes() == before


def test_gallery_is_not_rewritten_when_nothing_changed(tmp_path):
    from analysis.presentation.gallery import write_gallery

    figures = tmp_path / "figures" / "pack"
    figures.mkdir(parents=True)
    (figures / "synthetic-chart.png").write_bytes(b"synthetic png")
    (figures / "synthetic-chart.json").write_text('{"title": "Synthetic chart", "footer": ["Source: synthetic."]}')
    index, n = write_gallery(tmp_path)
    assert n == 1 and "Synthetic chart" in index.read_text(encoding="utf-8")
    before = index.stat().st_mtime_ns, index.stat().st_ino
    write_gallery(tmp_path)
    assert (index.stat().st_mtime_ns, index.stat().st_ino) == before
    (figures / "synthetic-other.png").write_bytes(b"synthetic png")
    (figures / "synthetic-other.json").write_text('{"title": "Another synthetic chart"}')
    _, n = write_gallery(tmp_path)
    assert n == 2 and "Another synthetic chart" in index.read_text(encoding="utf-8")
