"""Meetings, instruments and change since a meeting, on synthetic tables.

Loaders: :mod:`analysis.config.references`; the change rule: :mod:`analysis.rules.change` (pure,
ValueError on bad input); indicators per focus group: :mod:`analysis.store.themes`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.config.references import load_instruments, load_meetings, meetings_by_focus_group
from analysis.core import settings
from analysis.core.errors import InputError
from analysis.pipeline.build import build_store
from analysis.rules.change import change_since_meeting, change_since_meeting_aggregate, direction_counts
from analysis.store import api
from analysis.store.themes import (
    change_for_focus_group,
    focus_group_overview,
    indicators_for_focus_group,
    meeting_years,
)
from conftest import SYNTHETIC_CATALOGUE

HEADER = ("meeting_no,year,year_basis,dates,city,theme,theme_language,focus_groups,topics,source_url,confidence,"
          "theme_en,theme_en_basis\n")


def write_synthetic_meetings(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "synthetic_meeting_themes.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


SYNTHETIC_MEETINGS = (
    "1,2003,stated,,,,,,,https://example.org/1,theme not found,,\n"
    "2,2008,stated,2008-09-08/2008-09-11,Tokyo,Synthetic theme A,en,children;mothers,topic,https://example.org/2,high,"
    "Synthetic theme A,official\n"
    "3,2010,inferred,,Tokyo,,,older_persons,topic,https://example.org/3,medium; theme title not found,,\n"
)
#: a theme recorded in another language, with the project's English translation
SYNTHETIC_TRANSLATED = ("4,2012,stated,,Kobe,合成テーマ,ja,children,topic,https://example.org/4,high,"
                        "Synthetic translated theme,unofficial translation\n")


def test_load_meetings_keeps_gaps_and_basis(tmp_path):
    meetings = load_meetings(write_synthetic_meetings(tmp_path, SYNTHETIC_MEETINGS))
    assert meetings["meeting_no"].tolist() == [1, 2, 3]
    assert meetings["theme_found"].tolist() == [False, True, False]
    assert meetings["year_basis"].tolist() == ["stated", "stated", "inferred"]
    assert meetings.loc[2, "confidence"] == "medium; theme title not found"
    assert meetings.loc[1, "focus_groups"] == ("children", "mothers")
    assert meetings.loc[0, "focus_groups"] == ()
    assert pd.isna(meetings.loc[0, "theme"])


def test_meetings_by_focus_group_explodes_and_drops_empty(tmp_path):
    long = meetings_by_focus_group(load_meetings(write_synthetic_meetings(tmp_path, SYNTHETIC_MEETINGS)))
    assert list(zip(long["meeting_no"], long["focus_group"])) == [(2, "children"), (2, "mothers"),
                                                                   (3, "older_persons")]


def test_unknown_focus_group_names_file_and_row(tmp_path):
    path = write_synthetic_meetings(tmp_path, SYNTHETIC_MEETINGS + "4,2011,stated,,,T,en,pets,,,high,T,official\n")
    with pytest.raises(InputError, match=r"synthetic_meeting_themes.csv, row 5: unknown focus group"):
        load_meetings(path)


def test_bad_year_basis_and_year_are_errors(tmp_path):
    with pytest.raises(InputError, match="row 2: year_basis"):
        load_meetings(write_synthetic_meetings(tmp_path, "1,2003,guessed,,,,,,,,,,\n"))
    with pytest.raises(InputError, match="row 2: meeting_no and year must be integers"):
        load_meetings(write_synthetic_meetings(tmp_path, "1,20x3,stated,,,,,,,,,,\n"))


def test_english_titles_and_their_basis(tmp_path):
    meetings = load_meetings(write_synthetic_meetings(tmp_path, SYNTHETIC_MEETINGS + SYNTHETIC_TRANSLATED))
    rows = meetings.set_index("meeting_no")
    assert rows.loc[2, "theme_en"] == "Synthetic theme A" and not rows.loc[2, "theme_en_unofficial"]
    assert rows.loc[4, "theme_en"] == "Synthetic translated theme" and rows.loc[4, "theme_en_unofficial"]
    assert pd.isna(rows.loc[1, "theme_en"]) and not rows.loc[1, "theme_en_unofficial"]


@pytest.mark.parametrize("row, rule", [
    ("4,2012,stated,,,合成テーマ,ja,children,,https://example.org/4,high,,\n", "theme_en required"),
    ("4,2012,stated,,,T,en,children,,https://example.org/4,high,T,\n", "theme_en_basis required"),
    ("4,2012,stated,,,T,ja,children,,https://example.org/4,high,T,machine translation\n", "theme_en_basis vocabulary"),
])
def test_english_title_rules_name_file_row_and_rule(tmp_path, row, rule):
    path = write_synthetic_meetings(tmp_path, SYNTHETIC_MEETINGS + row)
    with pytest.raises(InputError, match=rf"synthetic_meeting_themes.csv, row 5: .*\[rule: {rule}\]"):
        load_meetings(path)


def test_timeline_shows_english_titles_and_marks_translations(tmp_path):
    from analysis.presentation.charts import timeline

    meetings = load_meetings(write_synthetic_meetings(tmp_path, SYNTHETIC_MEETINGS + SYNTHETIC_TRANSLATED))
    instruments = pd.DataFrame({"date": pd.Series([], dtype="string"), "instrument": pd.Series([], dtype="string"),
                                "focus_groups": pd.Series([], dtype="object"),
                                "source_url": pd.Series([], dtype="string")})
    chart = timeline(meetings, instruments)
    labels = chart.data.set_index("theme")["label"]
    assert labels["合成テーマ"].endswith(": Synthetic translated theme (unofficial translation)")
    assert labels["Synthetic theme A"].endswith(": Synthetic theme A")
    assert not chart.data["label"].str.contains("Japanese").any()
    assert any("1 titles marked (unofficial translation)" in line for line in chart.footer)
    chart.close()


def test_missing_column_is_an_error(tmp_path):
    path = tmp_path / "synthetic_bad.csv"
    path.write_text("meeting_no,year\n1,2003\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        load_meetings(path)


def test_load_instruments_partial_dates(tmp_path):
    path = tmp_path / "synthetic_instruments.csv"
    path.write_text("date,instrument,focus_groups,source_url\n"
                    "2013-10,Synthetic declaration,poor_and_vulnerable;children,https://example.org/a\n"
                    "2011,Synthetic decade,persons_with_disabilities,https://example.org/b\n"
                    "2025-10-26,Synthetic admission,,https://example.org/c\n", encoding="utf-8")
    inst = load_instruments(path)
    assert inst["year"].tolist() == [2011, 2013, 2025]
    assert inst["date"].tolist() == ["2011", "2013-10", "2025-10-26"]
    assert inst.loc[2, "focus_groups"] == ()


def test_instrument_bad_date(tmp_path):
    path = tmp_path / "synthetic_instruments.csv"
    path.write_text("date,instrument,focus_groups,source_url\nOct 2013,X,,\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 2: date must start with a 4-digit year"):
        load_instruments(path)


def synthetic_catalogue() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["a_old", "b_child", "b_child_sdg2020", "c_pov", "d_ctx", "e_health", "f_only_wpp"],
        "group": ["older_persons", "children", "children", "whole_population", "whole_population",
                  "whole_population", "older_persons"],
        "domain": ["social_protection", "health", "health", "poverty_and_context", "poverty_and_context",
                   "health", "care"],
        "better": ["higher", "lower", "lower", "lower", "neutral", "higher", "higher"],
        # the older vintage names its newer namesake as its concept, as in data/indicators.toml
        "concept": ["a_old", "b_child", "b_child", "c_pov", "d_ctx", "e_health", "f_only_wpp"],
    })


def test_indicators_for_focus_group_from_catalogue_group():
    cat = synthetic_catalogue()
    # the older-vintage duplicate is left out because its newer namesake is in the catalogue
    assert indicators_for_focus_group("children", cat) == ["b_child"]
    assert indicators_for_focus_group("older_persons", cat) == ["a_old", "f_only_wpp"]
    assert indicators_for_focus_group("children", cat, include_older_vintages=True) == ["b_child", "b_child_sdg2020"]


def test_focus_groups_without_catalogue_group_follow_documented_rule():
    cat = synthetic_catalogue()
    assert indicators_for_focus_group("poor_and_vulnerable", cat) == ["c_pov"]
    assert indicators_for_focus_group("whole_population", cat) == ["e_health"]
    assert indicators_for_focus_group("working_age", cat) == []
    with pytest.raises(ValueError, match="unknown focus group"):
        indicators_for_focus_group("pets", cat)


#: the baseline tolerance of these tests (a synthetic choice; the catalogue sets the real ones)
TOLERANCE = 2


def synthetic_long() -> pd.DataFrame:
    rows = []
    for year, v in [(2006, 10.0), (2010, 12.0), (2014, 16.0), (2016, 20.0)]:
        rows.append(("AAA", "up_good", year, v))
    for year, v in [(2008, 50.0), (2018, 30.0)]:
        rows.append(("BBB", "down_good", year, v))
    rows.append(("CCC", "up_good", 2000, 1.0))  # nothing near the meeting year
    return pd.DataFrame(rows, columns=["iso3", "indicator_id", "year", "value"])


def test_change_since_meeting_exact_and_nearest():
    out = change_since_meeting(synthetic_long(), 2008, tolerance=TOLERANCE,
                               better={"up_good": "higher", "down_good": "lower"})
    out = out.set_index(["iso3", "indicator_id"])
    a = out.loc[("AAA", "up_good")]
    # 2006 and 2010 are both 2 years away: the earlier (pre-meeting) year is the baseline.
    assert a["baseline_year"] == 2006 and a["baseline_flag"] == "nearest (-2)"
    assert a["latest_year"] == 2016 and a["latest_value"] == 20.0
    assert a["change"] == pytest.approx(10.0)
    assert a["annualised_change"] == pytest.approx(1.0)
    assert a["direction"] == "better"
    b = out.loc[("BBB", "down_good")]
    assert b["baseline_flag"] == "exact"
    assert b["change"] == pytest.approx(-20.0) and b["annualised_change"] == pytest.approx(-2.0)
    assert b["direction"] == "better"
    c = out.loc[("CCC", "up_good")]
    assert c["baseline_flag"] == "none within +/-2"
    assert math.isnan(c["change"]) and c["direction"] == "no comparison"


def test_change_since_meeting_window_and_direction_rules():
    out = change_since_meeting(synthetic_long(), 2010, latest_window=(2012, 2015), tolerance=TOLERANCE,
                               better={"up_good": "lower"}).set_index(["iso3", "indicator_id"])
    a = out.loc[("AAA", "up_good")]
    assert a["latest_year"] == 2014 and a["direction"] == "worse"
    # BBB's only later value (2018) is outside the window: no latest value, no made-up change
    b = out.loc[("BBB", "down_good")]
    assert b["baseline_year"] == 2008 and pd.isna(b["latest_year"])


def test_change_since_meeting_ignores_projections_and_reports_no_judgement():
    df = pd.DataFrame({"iso3": "AAA", "indicator_id": "x", "year": [2010, 2015, 2030],
                       "value": [1.0, 2.0, 9.0], "projection": [False, False, True]})
    row = change_since_meeting(df, 2010, tolerance=TOLERANCE).iloc[0]
    assert row["latest_year"] == 2015
    assert row["direction"] == "no judgement"


def test_change_since_meeting_of_many_series_is_each_series_alone_by_the_nearest_year_rule():
    # synthetic series: one call for many countries and indicators gives each series' row as a call on it
    # alone would, and the baseline is the row api.nearest_year picks (ties to the earlier year)
    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame({"iso3": rng.choice(["AAA", "BBB", "CCC", "DDD"], n), "indicator_id": rng.choice(["x", "y"], n),
                       "year": rng.integers(1995, 2025, n), "value": rng.normal(size=n).round(2)})
    df = df.drop_duplicates(["iso3", "indicator_id", "year"])
    better = {"x": "higher", "y": "lower"}
    together = change_since_meeting(df, 2010, (2010, 2020), tolerance=2, better=better)
    assert list(zip(together["iso3"], together["indicator_id"])) == sorted(set(zip(df["iso3"], df["indicator_id"])))
    for (iso3, ind), part in df.groupby(["iso3", "indicator_id"]):
        alone = change_since_meeting(part, 2010, (2010, 2020), tolerance=2, better=better).iloc[0]
        row = together.set_index(["iso3", "indicator_id"]).loc[(iso3, ind)]
        assert row.drop(["change", "annualised_change"]).equals(alone.drop(["iso3", "indicator_id", "change",
                                                                             "annualised_change"]))
        near = api.nearest_year(part, 2010, 2)
        if near.empty:
            assert pd.isna(row["baseline_year"])
        else:
            assert (row["baseline_year"], row["baseline_value"]) == (near["year"].iloc[0], near["value"].iloc[0])


def test_change_since_meeting_aggregate_uses_covered_years_only():
    agg = pd.DataFrame({"group": "ASEAN", "indicator_id": "x", "year": [2010, 2011, 2020, 2021],
                        "median": [5.0, 6.0, 8.0, 99.0], "weighted_mean": [1.0, 1.0, 1.0, 1.0],
                        "coverage_ok": [False, True, True, False]})
    row = change_since_meeting_aggregate(agg, 2010, tolerance=TOLERANCE, better={"x": "higher"}).iloc[0]
    assert row["group"] == "ASEAN"
    assert row["baseline_year"] == 2011 and row["baseline_flag"] == "nearest (+1)"
    assert row["latest_year"] == 2020 and row["change"] == pytest.approx(2.0)
    assert row["direction"] == "better"


def test_change_since_meeting_missing_column():
    with pytest.raises(ValueError, match="missing column 'value'"):
        change_since_meeting(pd.DataFrame({"iso3": [], "indicator_id": [], "year": []}), 2010, tolerance=TOLERANCE)
    with pytest.raises(ValueError, match="aggregates: missing column 'median'"):
        change_since_meeting_aggregate(pd.DataFrame({"group": [], "indicator_id": [], "year": []}), 2010,
                                       tolerance=TOLERANCE)


def test_tolerance_is_required_and_decides_the_baseline():
    with pytest.raises(TypeError):
        change_since_meeting(synthetic_long(), 2008)  # type: ignore[call-arg]
    wide = change_since_meeting(synthetic_long(), 2003, tolerance=3).set_index(["iso3", "indicator_id"])
    narrow = change_since_meeting(synthetic_long(), 2003, tolerance=2).set_index(["iso3", "indicator_id"])
    assert wide.loc[("AAA", "up_good"), "baseline_year"] == 2006
    assert pd.isna(narrow.loc[("AAA", "up_good"), "baseline_year"])
    assert narrow.loc[("AAA", "up_good"), "baseline_flag"] == "none within +/-2"


def test_neutral_direction_and_no_change_wording():
    df = pd.DataFrame({"iso3": ["AAA", "AAA", "BBB", "BBB"], "indicator_id": ["ctx", "ctx", "flat", "flat"],
                       "year": [2010, 2015, 2010, 2015], "value": [1.0, 2.0, 5.0, 5.0]})
    out = change_since_meeting(df, 2010, tolerance=TOLERANCE, better={"ctx": "neutral", "flat": "higher"})
    assert out.set_index("indicator_id")["direction"].to_dict() == {"ctx": "no judgement", "flat": "unchanged"}


def test_direction_counts_per_indicator():
    out = change_since_meeting(synthetic_long(), 2008, tolerance=TOLERANCE,
                               better={"up_good": "higher", "down_good": "lower"})
    counts = direction_counts(out).set_index("indicator_id")
    assert counts.loc["up_good", "better"] == 1 and counts.loc["up_good", "no comparison"] == 1
    assert counts.loc["down_good", "better"] == 1 and counts.loc["down_good", "worse"] == 0
    assert list(direction_counts(out.iloc[0:0]).columns) == ["indicator_id", "better", "worse", "unchanged",
                                                             "no judgement", "no comparison"]


def test_meeting_years_and_overview_from_synthetic_tables(tmp_path):
    meetings = load_meetings(write_synthetic_meetings(tmp_path, SYNTHETIC_MEETINGS))
    assert meeting_years("children", meetings) == [2008]
    assert meeting_years("working_age", meetings) == []
    overview = focus_group_overview(meetings, synthetic_catalogue()).set_index("focus_group")
    assert overview.loc["older_persons", "meetings"] == "3 (2010)"
    assert overview.loc["older_persons", "indicators"] == 2
    assert overview.loc["working_age", "meetings"] == "none" and pd.isna(overview.loc["working_age", "first_year"])


# ---------------------------------------------------------------- change_for_focus_group on a built synthetic store

#: the synthetic catalogue with a zero tolerance for the UHC index (AAA reports it in 2000 and 2002 only)
STRICT = "uhc_service_coverage"


@pytest.fixture
def strict_store(synthetic_project):
    code = 'code = "SH.UHC.SRVS.CV.XD"\n'
    catalogue = SYNTHETIC_CATALOGUE.replace(code, code + "tolerance = 0\n")
    assert catalogue != SYNTHETIC_CATALOGUE
    synthetic_project.write_catalogue(catalogue)
    build_store(progress=False)
    return synthetic_project


def test_change_for_focus_group_uses_each_indicators_catalogue_tolerance(strict_store):
    assert api.tolerance_of(STRICT) == 0 and api.tolerance_of("oop_share_che") == settings.DEFAULT_TOLERANCE
    by_country, agg = change_for_focus_group("whole_population", 2001)
    rows = by_country.set_index(["iso3", "indicator_id"])
    assert rows.loc[("AAA", STRICT), "baseline_flag"] == "none within +/-0"
    assert rows.loc[("AAA", "oop_share_che"), "baseline_flag"] == "exact"
    assert set(agg["indicator_id"]) <= set(by_country["indicator_id"])
    assert {"name", "title", "unit"} <= set(by_country.columns)
    # an explicit tolerance applies to every indicator
    explicit = change_for_focus_group("whole_population", 2001, tolerance=2)[0].set_index(["iso3", "indicator_id"])
    assert explicit.loc[("AAA", STRICT), "baseline_year"] == 2000  # tie between 2000 and 2002: the earlier
