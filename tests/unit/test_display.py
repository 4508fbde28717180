"""The notebooks' display helpers (analysis.presentation.display) on a SYNTHETIC API, and the notebooks'
sources (one set-up, documented parameters, no data facts typed into the text).

The API functions the helpers call are replaced by small made-up tables (fictitious economies AAA,
BBB, EEE as ASEAN members and CCC as a Plus Three comparator; invented values), so what is tested is
the helpers' own logic: which countries they ask for, which window and direction they pass on, how
they print. The chart kinds are replaced by recorders where a test asks what a chart was given.
"""

from __future__ import annotations

import ast
import io
import json
import re
import statistics
import subprocess
import sys
import tokenize
from pathlib import Path

import pandas as pd
import papermill
import pytest

from analysis.core.errors import AnalysisError
from analysis.presentation import charts, display
from analysis.store import api

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

# ---------------------------------------------------------------- a synthetic API

MEMBERS = ["AAA", "BBB", "EEE"]  # made-up ASEAN members
PLUS_THREE = ["CCC"]
CHART_ORDER = ["BBB", "AAA", "EEE", "CCC"]  # the charts' order (accession date in the real palette)
TABLE_ORDER = ["AAA", "BBB", "EEE", "CCC"]  # the API's display order (by name)
NAMES = {"AAA": "Synthetia", "BBB": "Fakeland", "EEE": "Member E", "CCC": "Mockistan", "DDD": "Otherland"}
GROUPS = {"ASEAN": MEMBERS, "PLUS_THREE": PLUS_THREE, "FOCUS": MEMBERS + PLUS_THREE}

CATALOGUE = pd.DataFrame({
    "indicator_id": ["up_index", "down_rate", "up_index_old"],
    "title": ["Synthetic index", "Synthetic rate", "Synthetic index (older vintage)"],
    "unit": ["points", "per 1,000", "points"],
    "source": ["newsrc", "newsrc", "oldsrc"],
    "better": ["higher", "lower", "higher"],
    "min_difference": [0.0, 0.0, 0.0],
    "window": [10, 5, 10],
})

#: latest value and year per indicator and economy (NaN/None: no value in the window)
LATEST = {
    "up_index": {"AAA": (10.0, 2019), "BBB": (20.0, 2020), "EEE": (21.0, 2018), "CCC": (100.0, 2020)},
    "down_rate": {"AAA": (10.0, 2019), "BBB": (20.0, 2020), "EEE": (22.0, 2017), "CCC": (1.0, 2020)},
    "up_index_old": {"AAA": (8.0, 2015), "BBB": (float("nan"), None), "EEE": (19.0, 2016), "CCC": (90.0, 2015)},
}
#: newest year and window of each indicator in the synthetic store
REF = {"up_index": (2020, 10), "down_rate": (2020, 5), "up_index_old": (2016, 10)}


def _resolve(countries):
    items = [countries] if isinstance(countries, str) else list(countries)
    out, unknown = [], []
    for item in items:
        if item in GROUPS:
            out += GROUPS[item]
        elif item in NAMES:
            out.append(item)
        else:
            unknown.append(item)
    if unknown:
        raise ValueError(f"unknown country code(s) or group(s): {', '.join(unknown)}")
    return list(dict.fromkeys(out))


def _latest(indicators, countries="FOCUS", window=None):
    ids = [indicators] if isinstance(indicators, str) else list(indicators)
    rows = []
    for ind in ids:
        ref_year, win = REF[ind]
        for iso in _resolve(countries):
            value, year = LATEST[ind].get(iso, (float("nan"), None))
            rows.append({"iso3": iso, "name": NAMES[iso], "indicator_id": ind, "year": year, "value": value,
                         "unit": CATALOGUE.set_index("indicator_id").at[ind, "unit"], "source_id": "synthetic",
                         "vintage": "v1", "projection": False, "ref_year": ref_year, "window": window or win})
    return pd.DataFrame(rows).astype({"year": "Int16", "ref_year": "Int16"})


def _load(indicators, countries=None, years=None, include_projections=True, names=True):
    frame = _latest(indicators, countries)
    return frame.loc[frame["value"].notna()].reset_index(drop=True)


@pytest.fixture
def fake_api(monkeypatch):
    """The API functions the display helpers use, answering from the synthetic tables above."""
    cat = CATALOGUE.set_index("indicator_id")
    monkeypatch.setattr(api, "resolve_countries", lambda countries, **_: _resolve(countries))
    monkeypatch.setattr(api, "members", lambda group, **_: list(GROUPS[group]))
    monkeypatch.setattr(api, "display_order", lambda **_: list(TABLE_ORDER))
    monkeypatch.setattr(api, "country_names", lambda iso3=None, **_: {i: NAMES[i] for i in (iso3 or NAMES)})
    monkeypatch.setattr(api, "catalogue", lambda: CATALOGUE.copy())
    monkeypatch.setattr(api, "latest", _latest)
    monkeypatch.setattr(api, "load", _load)
    monkeypatch.setattr(api, "window_of", lambda i: int(cat.at[i, "window"]))
    monkeypatch.setattr(api, "direction_of", lambda i: str(cat.at[i, "better"]))
    monkeypatch.setattr(api, "min_difference_of", lambda i: float(cat.at[i, "min_difference"]))
    monkeypatch.setattr(charts, "focus_iso3", lambda: list(CHART_ORDER))
    # no store version: nothing is kept between calls (a test may change what the functions above answer)
    monkeypatch.setattr(api, "store_version", lambda processed_dir=None: None)


@pytest.fixture
def recorded(monkeypatch):
    """Replace the chart kinds the helpers call by recorders of their arguments."""
    calls: dict[str, tuple] = {}

    def recorder(kind):
        def record(data, *args, **kwargs):
            calls[kind] = (data, args, kwargs)
            return kind
        return record

    for kind in ("banded_bars", "lines", "scatter"):
        monkeypatch.setattr(charts, kind, recorder(kind))
    return calls


# ---------------------------------------------------------------- set-up


def test_setup_resolves_countries_and_years_once(fake_api):
    nb = display.setup("01_synthetic", countries=["CCC", "ASEAN"], years=[2000, None])
    assert nb.countries == tuple(CHART_ORDER)
    assert nb.table_countries == TABLE_ORDER
    assert nb.years == (2000, None)
    assert nb.made_by == "notebooks/01_synthetic.ipynb"
    assert nb.figures.endswith("01_synthetic")  # under figures_dir(), wherever the run puts it
    assert nb.title("down_rate") == "Synthetic rate" and nb.unit("down_rate") == "per 1,000"


@pytest.fixture
def pandas_options():
    """Leave pandas' display options as they were."""
    yield
    for option in display.PANDAS_OPTIONS:
        pd.reset_option(option)


def test_setup_applies_the_display_options(fake_api, pandas_options):
    pd.set_option("display.width", 20)
    display.setup("01_synthetic")
    assert {o: pd.get_option(o) for o in display.PANDAS_OPTIONS} == display.PANDAS_OPTIONS


@pytest.mark.parametrize("name", ["", "01 synthetic", "../01_synthetic", "-01", "01/synthetic"])
def test_setup_rejects_a_notebook_parameter_that_is_no_folder_name(fake_api, name):
    with pytest.raises(AnalysisError, match="NOTEBOOK parameter names a figure folder"):
        display.setup(name)


def test_an_unknown_country_names_the_notebook_and_the_parameter(fake_api):
    with pytest.raises(AnalysisError, match=r"notebooks/01_synthetic\.ipynb, parameter COUNTRIES: .*XXX"):
        display.setup("01_synthetic", countries=["AAA", "XXX"])


@pytest.mark.parametrize("years", [[2010, 2000], [2000], "2000", "2010-2000", [2000.5, None], [True, None]])
def test_a_malformed_year_range_is_an_error(fake_api, years):
    with pytest.raises(AnalysisError, match="parameter YEARS"):
        display.setup("01_synthetic", years=years)


def test_an_unknown_indicator_names_the_notebook(fake_api):
    nb = display.setup("01_synthetic")
    with pytest.raises(AnalysisError, match=r"01_synthetic\.ipynb: indicator 'no_such_id'"):
        nb.title("no_such_id")


def test_shown_location_never_prints_a_machine_path(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYSIS_PROJECT_ROOT", str(tmp_path / "project"))
    inside = tmp_path / "project" / "reports" / "figures" / "01_synthetic" / "chart.png"
    assert display.shown_location(inside, "01_synthetic") == "reports/figures/01_synthetic/chart.png"
    staged = tmp_path / "staging" / "figures" / "01_synthetic"
    assert display.shown_location(staged / "chart.png", "01_synthetic") == "01_synthetic/chart.png"
    assert display.shown_location(staged, "01_synthetic") == "01_synthetic"


def test_year_span_reads_open_ends_and_the_runner_text_form():
    assert display.year_span(None) == (None, None)
    assert display.year_span([None, 2020]) == (None, 2020)
    assert display.year_span((1990, 2020)) == (1990, 2020)
    assert display.year_span("1990-2020") == (1990, 2020)
    assert display.year_span("1990-") == (1990, None)
    assert display.year_span(" -2020") == (None, 2020)


def test_countries_text_from_the_runner_is_split_at_commas(fake_api):
    nb = display.setup("01_synthetic", countries="CCC, AAA")
    assert nb.countries == ("AAA", "CCC")


def test_indicator_parameters_are_checked_against_the_catalogue(fake_api):
    nb = display.setup("01_synthetic")
    assert nb.indicators(["down_rate", "up_index"], "BARS") == ["down_rate", "up_index"]
    assert nb.indicators("up_index, down_rate", "BARS") == ["up_index", "down_rate"]
    with pytest.raises(AnalysisError, match=r"01_synthetic\.ipynb, parameter BARS: unknown indicator ids: nope"):
        nb.indicators(["up_index", "nope"], "BARS")
    with pytest.raises(AnalysisError, match="parameter BARS: no indicator ids given"):
        nb.indicators([], "BARS")


def test_a_choice_parameter_lists_what_is_allowed(fake_api):
    nb = display.setup("01_synthetic")
    assert nb.choose("b,a", ["a", "b", "c"], "GROUPS") == ["b", "a"]
    with pytest.raises(AnalysisError, match=r"parameter GROUPS: unknown values: d \(allowed: a, b, c\)"):
        nb.choose(["a", "d"], ["a", "b", "c"], "GROUPS")


# ---------------------------------------------------------------- tables


def test_table_text_rounds_and_writes_gaps_as_dashes():
    frame = pd.DataFrame({"country": ["Synthetia", None], "value": [1.26, float("nan")],
                          "year": pd.array([2019, None], dtype="Int64")})
    lines = display.table_text(frame, digits=1).splitlines()
    assert lines[1].split() == ["Synthetia", "1.3", "2019"]
    assert lines[2].split() == [display.NO_DATA] * 3


def test_latest_table_cells_are_value_and_year_in_display_order(fake_api):
    table = display.latest_table(["up_index", "up_index_old"], countries="FOCUS")
    assert table["country"].tolist() == [NAMES[i] for i in TABLE_ORDER]
    assert table.columns.tolist() == ["country", "up_index", "up_index_old"]
    row = table.set_index("country").loc[NAMES["BBB"]]
    value, year = LATEST["up_index"]["BBB"]
    assert row["up_index"] == f"{value:.1f} ({year})"
    assert row["up_index_old"] == display.NO_DATA


def test_window_note_spans_the_catalogue_windows(fake_api):
    assert "last 10 years" in display.window_note(["up_index"])
    assert "last 5 to 10 years" in display.window_note(["up_index", "down_rate"])


def test_vintage_table_labels_columns_by_source_and_keeps_display_order(fake_api):
    table = display.vintage_table("up_index", "up_index_old", countries="FOCUS")
    assert table["country"].tolist() == [NAMES[i] for i in TABLE_ORDER]
    assert {"value newsrc", "value oldsrc", "year newsrc", "year oldsrc"} <= set(table.columns)
    row = table.set_index("country").loc[NAMES["AAA"]]
    assert row["difference"] == pytest.approx(LATEST["up_index"]["AAA"][0] - LATEST["up_index_old"]["AAA"][0])
    assert pd.isna(table.set_index("country").loc[NAMES["BBB"], "difference"])


def _members_median(ind: str) -> tuple[float, int]:
    values = [LATEST[ind][i][0] for i in MEMBERS if not pd.isna(LATEST[ind][i][0])]
    return statistics.median(values), len(values)


@pytest.mark.parametrize("country", ["AAA", "CCC"])
def test_band_table_median_is_over_every_member_not_the_profiled_country(fake_api, country):
    ids = ["up_index", "down_rate", "up_index_old"]  # the last has a member without a value
    table = display.band_table(ids, country, group="ASEAN").set_index("indicator")
    for ind in ids:
        median, n = _members_median(ind)
        row = table.loc[CATALOGUE.set_index("indicator_id").at[ind, "title"]]
        assert row["ASEAN median"] == pytest.approx(median)
        assert row["members reporting"] == f"{n} of {len(MEMBERS)}"
        assert row["value"] == pytest.approx(LATEST[ind][country][0])


def test_band_table_judges_by_the_catalogue_direction(fake_api):
    # AAA lies below both bands: worse where higher is better, better where lower is better
    table = display.band_table(["up_index", "down_rate"], "AAA").set_index("indicator")
    assert table.loc["Synthetic index", "band"] == "worse"
    assert table.loc["Synthetic rate", "band"] == "better"


def test_band_table_band_is_at_least_the_smallest_meaningful_difference(fake_api, monkeypatch):
    median, _ = _members_median("up_index")
    distance = abs(LATEST["up_index"]["AAA"][0] - median)
    monkeypatch.setattr(api, "min_difference_of", lambda i: distance + 1.0)
    table = display.band_table(["up_index"], "AAA").set_index("indicator")
    assert table.loc["Synthetic index", "band"] == "within"


def test_band_tables_of_focus_countries_are_made_together_once_per_store_version(fake_api, monkeypatch):
    ids = ["up_index", "down_rate", "up_index_old"]
    with monkeypatch.context() as alone:  # each country's table made for that country only
        alone.setattr(api, "members", lambda group, **_: [] if group == "FOCUS" else list(GROUPS[group]))
        expected = {c: display.band_table(ids, c) for c in GROUPS["FOCUS"]}
    reads = []
    monkeypatch.setattr(api, "latest", lambda *a, **k: reads.append(1) or _latest(*a, **k))
    monkeypatch.setattr(api, "store_version", lambda processed_dir=None: ("synthetic", 1))
    for country in reversed(GROUPS["FOCUS"]):
        pd.testing.assert_frame_equal(display.band_table(ids, country), expected[country])
    assert len(reads) == 1  # the latest values and bands of every focus country at once
    monkeypatch.setattr(api, "store_version", lambda processed_dir=None: ("synthetic", 2))  # a rebuilt store
    display.band_table(ids, "AAA")
    assert len(reads) == 2
    display.band_table(ids, "DDD")  # not a focus country: its own table
    assert len(reads) == 3


# ---------------------------------------------------------------- charts


def test_latest_values_window_is_the_widest_ending_at_the_newest_year(fake_api):
    _, window = display.latest_values(["up_index", "down_rate", "up_index_old"])
    newest = max(ref for ref, _ in REF.values())
    widest = max(win for ref, win in REF.values() if ref == newest)
    assert window == (newest - widest + 1, newest)


def test_latest_values_without_any_reference_year_has_no_window(fake_api, monkeypatch):
    monkeypatch.setattr(api, "latest", lambda *a, **k: _latest(*a, **k).assign(ref_year=pd.NA))
    assert display.latest_values("up_index")[1] is None


def test_latest_bars_draw_the_api_latest_values_within_the_catalogue_window(fake_api, recorded):
    assert display.latest_bars("down_rate", "ASEAN") == "banded_bars"
    data, _, kwargs = recorded["banded_bars"]
    ref, win = REF["down_rate"]
    assert kwargs["window"] == (ref - win + 1, ref)
    assert kwargs["better"] == "lower"
    assert kwargs["title"] == "Synthetic rate" and kwargs["unit"] == "per 1,000"
    assert kwargs["countries"] == [i for i in CHART_ORDER if i in MEMBERS]
    assert set(data["iso3"]) == set(MEMBERS)
    assert (data["window"] == win).all()


def test_latest_scatter_takes_both_axes_from_the_catalogue(fake_api, recorded):
    display.latest_scatter("up_index", "down_rate")
    data, args, kwargs = recorded["scatter"]
    assert args == ("up_index", "down_rate")
    assert kwargs["x_label"] == "Synthetic index (points)" and kwargs["y_label"] == "Synthetic rate (per 1,000)"
    assert kwargs["window"] is not None
    assert set(data["indicator_id"]) == {"up_index", "down_rate"}


@pytest.mark.parametrize("country", ["AAA", "CCC"])
def test_profile_trend_gives_the_chart_every_member_for_the_median(fake_api, recorded, country):
    display.profile_trend("up_index", country, years=[2000, None], title="t")
    data, _, kwargs = recorded["lines"]
    assert set(MEMBERS) <= set(kwargs["countries"]) and country in kwargs["countries"]
    assert set(MEMBERS) <= set(data["iso3"])
    assert NAMES[country] in kwargs["subtitle"]


# ---------------------------------------------------------------- the notebooks' sources


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def test_notebook_helpers_do_not_import_the_report_package():
    # the report package (PDF, workbook and gallery writers) costs a notebook about half a second to import;
    # key messages need only the groups' titles
    code = ("import sys, analysis.presentation.display as d; d.show_messages; "
            "print(sorted(m for m in sys.modules if m.startswith('analysis.presentation.report')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_there_are_notebooks_to_check():
    assert len(_notebooks()) >= 2


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_every_notebook_starts_with_the_shared_setup(path):
    code = [_source(c) for c in _cells(path) if c["cell_type"] == "code"]
    assert sum("setup(NOTEBOOK" in c for c in code) == 1
    assert not any(re.search(r"^\s*cat = an\.catalogue\(\)", c, re.M) for c in code)
    removed = ("analysis.notebooks", "analysis.ageing", "analysis.meetings", "analysis.bands", "from analysis import ")
    assert not any(old in c for c in code for old in removed)


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_parameters_are_documented_and_more_than_the_folder_name(path):
    params = [c for c in _cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    source = _source(params[0])
    comment_lines = {tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                     if tok.type == tokenize.COMMENT}
    assignments = [node for node in ast.parse(source).body if isinstance(node, ast.Assign)]
    assert len(assignments) >= 2
    for node in assignments:
        lines = set(range(node.lineno, node.end_lineno + 1))
        assert lines & comment_lines, f"{path.stem}: parameter {ast.unparse(node.targets[0])} has no comment"


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_papermill_finds_every_parameter(path):
    # the runner checks `-p NAME VALUE` against what papermill reads from the cell; a line it cannot
    # parse (e.g. "=" inside the comment) would make that parameter unknown to the runner
    params = next(c for c in _cells(path) if "parameters" in c.get("metadata", {}).get("tags", []))
    body = ast.parse(_source(params)).body
    assigned = [ast.unparse(node.targets[0]) for node in body if isinstance(node, ast.Assign)]
    assert list(papermill.inspect_notebook(str(path))) == assigned


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_no_window_tolerance_or_direction_is_typed_into_the_code(path):
    code = "\n".join(_source(c) for c in _cells(path) if c["cell_type"] == "code")
    assert not re.search(r"\b(window|tolerance)\s*=\s*\d", code)
    assert not re.search(r"[\"'](higher|lower)[\"']", code)


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_markdown_states_no_years_of_data(path):
    text = "\n".join(_source(c) for c in _cells(path) if c["cell_type"] == "markdown")
    assert not re.findall(r"\b(?:19|20)\d\d\b", text)


def test_inline_svg_is_what_ipython_keeps_of_a_saved_svg(tmp_path):
    """The notebook shows the <svg> element with attribute line breaks as spaces (as IPython's SVG
    parser makes them), so the committed notebooks keep one line per element."""
    from IPython.display import SVG

    from analysis.presentation.display import inline_svg

    text = ('<?xml version="1.0" encoding="utf-8" standalone="no"?>\n<!DOCTYPE svg>\n'
            '<svg xmlns="http://www.w3.org/2000/svg" width="10pt" height="5pt">\n'
            ' <path d="M 0 0 \nL 10 5 \nz\n" style="fill: #ffffff"/>\n</svg>\n')
    (tmp_path / "x.svg").write_text(text, encoding="utf-8")
    shown = inline_svg(text)
    assert shown.startswith("<svg ") and "\nL 10" not in shown and shown.endswith("</svg>")
    assert shown == SVG(filename=str(tmp_path / "x.svg")).data
