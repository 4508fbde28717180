"""The workbook on SYNTHETIC sheets (invented titles and values, made here) in a synthetic project:
sheet names within Excel's rules, the chart's heading lines above its CSV, and the same bytes twice."""

from __future__ import annotations

import json
import re
import zipfile

import pandas as pd
import pytest

from analysis.presentation import workbook
from charts_synthetic import synthetic_project_fixture

SYNTHETIC_TITLE = "Synthetic share of something: a title far longer than thirty-one characters / with [marks]?"


synthetic_project = synthetic_project_fixture()


@pytest.fixture
def chart_csv(tmp_path):
    csv = tmp_path / "01-synthetic-chart.csv"
    pd.DataFrame({"iso3": ["XAA", "XBB"], "value": [1.5, None], "year": [2031, 2030]}).to_csv(csv, index=False)
    csv.with_suffix(".json").write_text(json.dumps({
        "title": SYNTHETIC_TITLE, "unit": "%", "sources": [{"id": "synthetic-wdi"}],
        "footer": ["Source: Synthetic Publisher A, Synthetic Development Indicators.", "Not a source line."]}))
    return csv


def test_sheet_names_are_short_legal_and_unique():
    taken = {workbook.INDEX_SHEET}
    names = [workbook.sheet_name("Fig01", SYNTHETIC_TITLE, taken) for _ in range(12)]
    assert all(len(n) <= workbook.MAX_NAME for n in names)
    assert len({n.lower() for n in names}) == len(names)
    assert not any(re.search(r"[\[\]:*?/\\]", n) for n in names)
    assert workbook.sheet_name("", "index", taken) != "index"  # Excel compares names ignoring case


def _xml(path, part: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(part).decode("utf-8")


def _shared_strings(path) -> str:
    return _xml(path, "xl/sharedStrings.xml")


def test_chart_sheet_carries_title_unit_source_and_licence(chart_csv, tmp_path):
    sheet = workbook.chart_sheet(chart_csv, 1, {workbook.INDEX_SHEET})
    assert sheet.heading[0] == f"Figure 1. {SYNTHETIC_TITLE}"
    assert "Unit: %" in sheet.heading and "Not a source line." not in sheet.heading
    assert "Licence of the data: CC0 (synthetic)" in sheet.heading
    target = workbook.write_workbook(tmp_path / workbook.WORKBOOK_FILE, [sheet])
    names = re.findall(r'<sheet name="([^"]+)"', _xml(target, "xl/workbook.xml"))
    assert names == [workbook.INDEX_SHEET, sheet.name, workbook.SOURCES_SHEET]
    strings = _shared_strings(target)
    assert "Synthetic Publisher A" in strings and "How to cite" not in names
    assert "CC0 (synthetic)" in strings and workbook.WORKBOOK_FILE in strings


def test_values_are_numbers_and_gaps_are_empty(chart_csv, tmp_path):
    sheet = workbook.chart_sheet(chart_csv, 1, set())
    target = workbook.write_workbook(tmp_path / workbook.WORKBOOK_FILE, [sheet])
    xml = _xml(target, "xl/worksheets/sheet2.xml")
    assert "<v>1.5</v>" in xml and "<v>2031</v>" in xml


def test_same_inputs_same_bytes(chart_csv, tmp_path):
    sheets = [workbook.chart_sheet(chart_csv, 1, set())]
    first = workbook.write_workbook(tmp_path / "a.xlsx", sheets).read_bytes()
    second = workbook.write_workbook(tmp_path / "b.xlsx", sheets).read_bytes()
    assert first == second
