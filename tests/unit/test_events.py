"""Events (dated, cited crises and reforms): the loader, the API's selection and the time-series charts.

Synthetic tables only (titles, codes and dates made up, named as such), except the last test, which
reads the committed reference tables and compares them with the raw files read independently.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pandas as pd
import pytest

from analysis.config.references import AFFECTS, AREA_RULES, areas_for, load_events, load_meetings
from analysis.core.errors import InputError
from analysis.presentation import charts
from analysis.presentation.charts.export import csv_bytes
from analysis.store import api
from charts_synthetic import REPO, make_synthetic_project

HEADER = "date,iso3,kind,title,description,affects,source_url,quote,confidence\n"

#: Synthetic events for the synthetic store (under-5 mortality 2010-2022 for the focus countries).
SYNTHETIC_EVENTS = (
    "2015-06,IDN;THA,crisis,Synthetic flood,Made up.,child_mortality,https://example.org/flood,q,"
    "medium; secondary source\n"
    "2012,WLD,crisis,Synthetic world shock,Made up.,life_expectancy;child_mortality,https://example.org/world,q,high\n"
    "2018-03-15,MMR,reform,Synthetic pension reform,Made up.,pensions,https://example.org/pension,q,high\n"
    "2030,KHM,crisis,Synthetic future storm,Made up.,child_mortality,https://example.org/future,q,high\n"
    "2016-02-29,JPN,crisis,Synthetic leap-day quake,Made up.,child_mortality,https://www.example.org/quake,q,high\n"
)


def write_events(directory: Path, rows: str, name: str = "synthetic_events.csv") -> Path:
    path = directory / name
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- the loader
def test_dates_at_year_month_and_day_precision(tmp_path):
    events = load_events(write_events(tmp_path, SYNTHETIC_EVENTS))
    assert events["title"].tolist() == ["Synthetic world shock", "Synthetic flood", "Synthetic leap-day quake",
                                        "Synthetic pension reform", "Synthetic future storm"]  # date order
    rows = events.set_index("title")
    assert rows.loc["Synthetic world shock", "precision"] == "year"
    assert rows.loc["Synthetic world shock", "decimal_year"] == 2012.0
    assert rows.loc["Synthetic flood", "precision"] == "month"
    assert rows.loc["Synthetic flood", "decimal_year"] == pytest.approx(2015 + 151 / 365)  # 1 June
    assert rows.loc["Synthetic leap-day quake", "precision"] == "day"
    assert rows.loc["Synthetic leap-day quake", "decimal_year"] == pytest.approx(2016 + 59 / 366)
    assert rows.loc["Synthetic flood", "year"] == 2015


def test_countries_areas_and_confidence_are_split(tmp_path):
    rows = load_events(write_events(tmp_path, SYNTHETIC_EVENTS)).set_index("title")
    assert rows.loc["Synthetic flood", "iso3"] == ("IDN", "THA")
    assert rows.loc["Synthetic world shock", "iso3"] == ("WLD",)
    assert rows.loc["Synthetic world shock", "affects"] == ("life_expectancy", "child_mortality")
    assert rows.loc["Synthetic flood", "confidence"] == "medium"
    assert rows.loc["Synthetic flood", "confidence_note"] == "secondary source"
    assert rows.loc["Synthetic world shock", "confidence_note"] == ""
    assert rows.loc["Synthetic flood", "line"] == 2


GOOD = "2012,IDN,crisis,Synthetic,Made up.,child_mortality,https://example.org/x,q,high\n"


@pytest.mark.parametrize("row, rule", [
    ("May 2008,IDN,crisis,Synthetic,d,child_mortality,https://example.org/x,q,high\n", "event_date"),
    ("2008-13,IDN,crisis,Synthetic,d,child_mortality,https://example.org/x,q,high\n", "event_date"),
    ("2009-02-29,IDN,crisis,Synthetic,d,child_mortality,https://example.org/x,q,high\n", "event_date"),
    ("2008,Idn,crisis,Synthetic,d,child_mortality,https://example.org/x,q,high\n", "event_iso3"),
    ("2008,WLD;THA,crisis,Synthetic,d,child_mortality,https://example.org/x,q,high\n", "event_iso3"),
    ("2008,,crisis,Synthetic,d,child_mortality,https://example.org/x,q,high\n", "event_iso3"),
    ("2008,IDN,crisis,Synthetic,d,child_mortality;weather,https://example.org/x,q,high\n", "affects vocabulary"),
    ("2008,IDN,crisis,Synthetic,d,,https://example.org/x,q,high\n", "affects vocabulary"),
    ("2008,IDN,crisis,Synthetic,d,child_mortality,https://example.org/x,q,certain\n", "confidence vocabulary"),
    ("2008,IDN,rumour,Synthetic,d,child_mortality,https://example.org/x,q,high\n", "event_kind"),
    ("2008,IDN,crisis,Synthetic,d,child_mortality,,q,high\n", "event_cited"),
    ("2008,IDN,crisis,Synthetic,d,child_mortality,example.org/x,q,high\n", "event_cited"),
    ("2008,IDN,crisis,Synthetic,d,child_mortality,https://example.org/x,,high\n", "event_cited"),
    ("2012,IDN,crisis,Synthetic,Again.,child_mortality,https://example.org/y,q,high\n", "event unique"),
])
def test_a_bad_row_names_file_row_and_rule(tmp_path, row, rule):
    path = write_events(tmp_path, GOOD + row)
    with pytest.raises(InputError, match=rf"synthetic_events.csv, row 3: .*\[rule: {rule}\]"):
        load_events(path)


def test_codes_are_checked_against_the_known_economies(tmp_path):
    path = write_events(tmp_path, GOOD + "2013,IDN;XYZ,crisis,Synthetic 2,d,child_mortality,https://example.org/x,q,"
                                         "high\n")
    assert len(load_events(path)) == 2  # the format alone is fine
    with pytest.raises(InputError, match=r"row 3: iso3 code\(s\) \['XYZ'\] are not economies.*event_iso3"):
        load_events(path, known_iso3=["IDN", "THA"])


def test_missing_column_and_missing_file(tmp_path):
    path = tmp_path / "synthetic_events.csv"
    path.write_text("date,iso3,title\n2012,IDN,Synthetic\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"synthetic_events.csv, row 1: missing column"):
        load_events(path)
    with pytest.raises(InputError, match="file not found"):
        load_events(tmp_path / "absent.csv")


# ----------------------------------------------------------------------------- catalogue -> areas
def test_area_rules_use_the_affects_vocabulary_only():
    assert {a for *_, areas in AREA_RULES for a in areas} <= set(AFFECTS)


@pytest.mark.parametrize("group, domain, concept, expected", [
    ("children", "health", "synthetic_mortality", ("child_mortality",)),
    ("whole_population", "health", "synthetic_life_expectancy", ("life_expectancy",)),
    ("whole_population", "health", "synthetic_uhc_index", ("uhc",)),
    ("whole_population", "health", "synthetic_oop_share", ("health_financing", "uhc")),
    ("older_persons", "social_protection", "synthetic_cover", ("pensions", "social_protection")),
    ("mothers", "social_protection", "synthetic_cover", ("social_protection",)),
    ("whole_population", "poverty_and_context", "pop_synthetic", ("population",)),
    ("whole_population", "poverty_and_context", "synthetic_gini", ()),
])
def test_areas_follow_group_domain_then_concept(group, domain, concept, expected):
    assert areas_for(group, domain, concept) == expected


# ----------------------------------------------------------------------------- API and charts on a synthetic store
@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = make_synthetic_project(tmp_path_factory.mktemp("synthetic_events_project"))
    write_events(root / "data" / "raw" / "references", SYNTHETIC_EVENTS, name="events.csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYSIS_PROJECT_ROOT", str(root))
        yield root


def test_api_events_by_country_with_wld_for_everyone(project):
    assert api.events("MMR")["title"].tolist() == ["Synthetic world shock", "Synthetic pension reform"]
    assert api.events(["THA", "JPN"])["title"].tolist() == ["Synthetic world shock", "Synthetic flood",
                                                            "Synthetic leap-day quake"]
    assert len(api.events()) == len(SYNTHETIC_EVENTS.splitlines())


def test_api_events_by_area(project):
    assert api.events(areas="pensions")["title"].tolist() == ["Synthetic pension reform"]
    assert api.events("MMR", areas=["child_mortality"])["title"].tolist() == ["Synthetic world shock"]
    with pytest.raises(ValueError, match="unknown event area"):
        api.events(areas="weather")
    with pytest.raises(ValueError, match="unknown country"):
        api.events("XYZ")


def test_api_events_checks_codes_against_the_store(project, tmp_path, monkeypatch):
    root = make_synthetic_project(tmp_path / "other")
    write_events(root / "data" / "raw" / "references", GOOD.replace("IDN", "XYZ"), name="events.csv")
    monkeypatch.setenv("ANALYSIS_PROJECT_ROOT", str(root))
    with pytest.raises(InputError, match=r"events.csv, row 2: .*not economies of the store"):
        api.events()


def test_api_events_are_read_once_per_store_version(project, monkeypatch):
    reads = []
    monkeypatch.setattr(api, "load_events", lambda **kw: reads.append(1) or load_events(**kw))
    first = api.events(["THA", "JPN"])
    first.loc[0, "title"] = "changed by a caller"  # must not reach the next caller
    assert api.events(["THA", "JPN"])["title"].iloc[0] == "Synthetic world shock"
    assert api.events("MMR")["title"].tolist() == ["Synthetic world shock", "Synthetic pension reform"]
    assert len(reads) <= 1  # once (none if an earlier test of this store read them already)
    events_csv = project / "data" / "raw" / "references" / "events.csv"
    kept = events_csv.read_text(encoding="utf-8")
    try:
        # an edited file is a new store version: read again
        write_events(events_csv.parent, SYNTHETIC_EVENTS.replace("Synthetic flood", "Synthetic big flood"),
                     name="events.csv")
        assert "Synthetic big flood" in api.events(["THA"])["title"].tolist()
    finally:
        events_csv.write_text(kept, encoding="utf-8")
    assert "Synthetic flood" in api.events(["THA"])["title"].tolist()


def _text_boxes(ax):
    fig = ax.get_figure(root=True)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [(t, t.get_window_extent(renderer)) for t in ax.texts if t.get_visible() and t.get_text().strip()]


def test_lines_mark_the_events_of_the_countries_areas_and_years_drawn(project):
    data = api.load("under5_mortality", "FOCUS")
    plain = charts.lines(data, title="Synthetic under-5 mortality")
    marked = charts.lines(data, title="Synthetic under-5 mortality", events=api.events("FOCUS"))
    ax = marked.axes["main"]
    labels = sorted(t.get_text() for t in ax.texts if t.get_gid() == "event-label")
    names = api.country_names(["IDN", "THA", "JPN"])
    flood = f"Synthetic flood ({names['IDN']}, {names['THA']})"
    # The pension reform is another area, the storm outside the years drawn; WLD concerns everyone.
    assert labels == [flood, f"Synthetic leap-day quake ({names['JPN']})", "Synthetic world shock"]
    assert len([ln for ln in ax.get_lines() if ln.get_gid() == "event-marker"]) == 3
    footer = "\n".join(marked.footer)
    assert f"29 Feb 2016 Synthetic leap-day quake ({names['JPN']}; example.org)" in footer
    assert f"Jun 2015 Synthetic flood ({names['IDN']}, {names['THA']}; example.org)" in footer
    assert "Events not of high confidence: Synthetic flood (medium confidence, secondary source)." in footer
    assert "pension" not in footer and "storm" not in footer
    assert [e["title"] for e in marked.coverage["events"]] == ["Synthetic world shock", "Synthetic flood",
                                                               "Synthetic leap-day quake"]
    assert csv_bytes(marked) == csv_bytes(plain)  # events are drawn and named, never added to the data
    plain.close()
    marked.close()


def test_event_labels_overlap_no_text_and_sit_above_the_data(project):
    data = api.load("under5_mortality", "FOCUS")
    chart = charts.lines(data, events=api.events("FOCUS"))
    ax = chart.axes["main"]
    boxes = _text_boxes(ax)
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        assert not box_a.overlaps(box_b), (a.get_text(), b.get_text())
    frame = ax.get_window_extent()
    labels = [box for t, box in boxes if t.get_gid() == "event-label"]
    assert labels and all(frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1 for box in labels)
    top_of_data = ax.transData.transform((0, float(data["value"].max())))[1]
    assert top_of_data < min(box.y0 for box in labels)
    chart.close()


def test_small_multiples_number_the_events_in_the_panels_they_concern(project):
    data = api.load("under5_mortality", "FOCUS")
    plain = charts.small_multiples(data)
    marked = charts.small_multiples(data, events=api.events("FOCUS"))
    tags = {iso: sorted(t.get_text() for t in ax.texts if t.get_gid() == "event-label")
            for iso, ax in marked.axes.items()}
    # numbered in date order: 1 world shock (every panel), 2 flood (IDN, THA), 3 quake (JPN)
    assert tags["IDN"] == ["1", "2"] and tags["THA"] == ["1", "2"] and tags["JPN"] == ["1", "3"]
    assert tags["MMR"] == ["1"]
    footer = "\n".join(marked.footer)
    names = api.country_names(["IDN", "THA"])
    assert f"[2] Jun 2015 Synthetic flood ({names['IDN']}, {names['THA']}; example.org)" in footer
    assert csv_bytes(marked) == csv_bytes(plain)
    for ax in marked.axes.values():
        for (a, box_a), (b, box_b) in itertools.combinations(_text_boxes(ax), 2):
            assert not box_a.overlaps(box_b), (a.get_text(), b.get_text())
    plain.close()
    marked.close()


# ----------------------------------------------------------------------------- the committed references
def _raw_rows(name: str) -> list[dict]:
    with open(REPO / "data" / "raw" / "references" / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_committed_events_and_meetings_are_valid_and_complete():
    raw = _raw_rows("events.csv")
    members = [r["iso3"] for r in _raw_rows("asean_members.csv")]
    events = load_events(REPO / "data" / "raw" / "references" / "events.csv", known_iso3=members)
    assert len(events) == len(raw)
    assert sorted(events["source_url"]) == sorted(r["source_url"] for r in raw)
    assert set(events["confidence"]) <= {"high", "medium", "low"}
    not_high = {r["title"] for r in raw if not r["confidence"].startswith("high")}
    assert set(events.loc[events["confidence"] != "high", "title"]) == not_high

    raw_meetings = {int(r["meeting_no"]): r for r in _raw_rows("meeting_themes.csv")}
    meetings = load_meetings(REPO / "data" / "raw" / "references" / "meeting_themes.csv")
    chart = charts.timeline(meetings, pd.DataFrame({"date": pd.Series([], dtype="string"),
                                                    "instrument": pd.Series([], dtype="string"),
                                                    "focus_groups": pd.Series([], dtype="object"),
                                                    "source_url": pd.Series([], dtype="string")}))
    labels = chart.data.loc[chart.data["kind"] == "meeting", "label"].tolist()
    assert not any("Japanese" in label for label in labels)
    for number, row in raw_meetings.items():
        if row["theme_en"]:
            label = next(lb for lb in labels if lb.startswith(f"{number}"))
            assert row["theme_en"] in label
            assert label.endswith("(unofficial translation)") == (row["theme_en_basis"] == "unofficial translation")
    chart.close()


def test_a_frame_of_plain_years_is_refused_as_events(project):
    data = api.load("under5_mortality", "FOCUS")
    with pytest.raises(charts.ChartDataError, match=r"events: missing columns .*api.events"):
        charts.lines(data, events=pd.DataFrame({"year": [2012], "label": ["synthetic"]}))
