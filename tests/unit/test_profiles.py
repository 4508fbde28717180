"""Country profiles (analysis.presentation.report.profiles) on SYNTHETIC inputs: fictitious countries AAA..DDD
("ASEAN") and PPP, QQQ, RRR ("Plus Three"), invented indicators and numbers.

The table rows (rank, trend, median, Plus Three values) must follow the data; the notes must come from rules;
the pages must keep every text inside the page without overlaps, repeat headings on a new page, and be the same
bytes when written twice.
"""

from __future__ import annotations

import io
import itertools
from functools import lru_cache
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from analysis.presentation.charts import palette
from analysis.presentation.report import profile_pages, profiles
from analysis.presentation.report.context import IndicatorMeta
from analysis.presentation.report.pack import PDF_METADATA
from analysis.store import api

ASEAN, PLUS_THREE = ["AAA", "BBB", "CCC", "DDD"], ["PPP", "QQQ", "RRR"]
FOCUS = ASEAN + PLUS_THREE
#: synthetic indicators: id -> (group, better, min_difference)
INDICATORS = {"syn_higher": ("older_persons", "higher", 1.0), "syn_lower": ("children", "lower", 1.0),
              "syn_neutral": ("older_persons", "neutral", 1.0)}


class SyntheticContext(SimpleNamespace):
    """The parts of ReportContext that profile_table reads, over synthetic frames."""

    def meta(self, ind: str) -> IndicatorMeta:
        group, better, _ = INDICATORS[ind]
        return IndicatorMeta(indicator_id=ind, title=f"Synthetic {ind}", unit="%", group=group, better=better)

    def members(self, group: str) -> list[str]:
        return {"FOCUS": FOCUS, "ASEAN": ASEAN, "PLUS_THREE": PLUS_THREE}[group]

    def series(self, ids: list[str]) -> pd.DataFrame:
        return self.frame[self.frame["indicator_id"].isin(ids)]

    def period(self, ind: str) -> int:
        return 5 if ind == "syn_neutral" else 1

    def note(self, ind: str) -> str:
        return ""

    def last_meeting_labels(self, groups: tuple[str, ...]) -> dict[str, str]:
        return {}


@pytest.fixture
def synthetic(monkeypatch):
    """Latest values and series of three synthetic indicators; the catalogue look-ups answer for them."""
    monkeypatch.setattr(profiles, "profile_groups", lambda: {"older_persons": ("syn_higher", "syn_neutral"),
                                                             "children": ("syn_lower",)})
    monkeypatch.setattr(api, "direction_of", lambda ind: INDICATORS[ind][1])
    monkeypatch.setattr(api, "min_difference_of", lambda ind: INDICATORS[ind][2])
    monkeypatch.setattr(api, "tolerance_of", lambda ind: 2)
    latest_values = {"syn_higher": dict(zip(FOCUS, [10.0, 50.0, 30.0, np.nan, 90.0, 70.0, np.nan])),
                     "syn_lower": dict(zip(FOCUS, [5.0, 1.0, 3.0, 4.0, 0.5, 0.7, 0.6])),
                     "syn_neutral": dict(zip(FOCUS, [7.0, 9.0, 8.0, 6.0, 20.0, 15.0, 11.0]))}
    rows = []
    for ind, values in latest_values.items():
        for iso3, value in values.items():
            year = 2015 if ind == "syn_neutral" else 2022 + (iso3 == "BBB")
            rows.append({"iso3": iso3, "indicator_id": ind, "value": value, "year": pd.NA if np.isnan(value) else year,
                         "source_id": pd.NA, "vintage": pd.NA})
    latest = pd.DataFrame(rows).astype({"year": "Int16"})
    # AAA's series: syn_higher 10 years earlier 4.0 (up, better), syn_lower 5.5 (|-0.5| < 1: flat)
    frame = pd.DataFrame({"iso3": ["AAA"] * 4, "indicator_id": ["syn_higher", "syn_higher", "syn_lower", "syn_lower"],
                          "year": [2012, 2022, 2012, 2022], "value": [4.0, 10.0, 5.5, 5.0]})
    ctx = SyntheticContext(frame=frame, store_ids=frozenset(INDICATORS))
    return latest, ctx


def _by_id(rows):
    return {r.indicator_id: r for r in rows}


def test_rows_rank_among_countries_with_data_and_follow_the_direction(synthetic):
    latest, ctx = synthetic
    rows = _by_id(profiles.profile_table(latest, ctx, "AAA"))
    assert rows["syn_higher"].rank_text == "5 of 5"  # 10 is the lowest of 10, 50, 30, 90, 70
    assert rows["syn_lower"].rank_text == "7 of 7"  # 5.0 is the highest, lower is better
    assert rows["syn_neutral"].rank_text == "2nd lowest of 7"
    assert rows["syn_higher"].ranked_years == "2022–2023"  # BBB's value is of 2023
    latest.loc[(latest["iso3"] == "AAA") & (latest["indicator_id"] == "syn_higher"), "value"] = 95.0
    assert _by_id(profiles.profile_table(latest, ctx, "AAA"))["syn_higher"].rank_text == "1 of 5"


def test_rows_carry_the_trend_median_and_period(synthetic):
    latest, ctx = synthetic
    rows = _by_id(profiles.profile_table(latest, ctx, "AAA"))
    higher = rows["syn_higher"]
    assert (higher.trend_direction, higher.trend_judged, higher.trend_since) == ("up", "better", 2012)
    assert higher.trend_text == "↑ +6.0 since 2012"
    assert rows["syn_lower"].trend_text == "→ flat since 2012"
    assert (higher.median, higher.n, higher.big_n) == (30.0, 3, 4)  # ASEAN members with data: 10, 50, 30
    assert rows["syn_neutral"].year_text == "2015–2020"
    assert rows["syn_neutral"].judged not in ("better", "worse")
    assert rows["syn_higher"].plus_three == {}  # an ASEAN country gets no Plus Three columns


def test_plus_three_rows_show_the_three_values_and_gaps(synthetic):
    latest, ctx = synthetic
    row = _by_id(profiles.profile_table(latest, ctx, "QQQ"))["syn_higher"]
    assert list(row.plus_three) == PLUS_THREE
    assert row.plus_three["PPP"] == (90.0, 2022)
    assert np.isnan(row.plus_three["RRR"][0]) and row.plus_three["RRR"][1] is None


def test_a_country_without_a_value_gets_no_rank_and_no_trend(synthetic):
    latest, ctx = synthetic
    row = _by_id(profiles.profile_table(latest, ctx, "DDD"))["syn_higher"]
    assert (row.rank, row.rank_text, row.trend_text, row.year_text) == (None, "no data", "–", "–")


def test_notes_without_a_context_share_one_basis_per_store_version(synthetic, monkeypatch):
    """Notebook 07 asks for ``country_note(country)`` once per country in one kernel: the all-country basis is
    made once per store version, and a rebuilt store (a new version) is seen."""
    latest, ctx = synthetic
    ctx.processed_dir = None
    rebuilt = latest.copy()
    rebuilt.loc[(rebuilt["iso3"] == "AAA") & (rebuilt["indicator_id"] == "syn_higher"), "value"] = 95.0
    stores, now, made = {"v1": latest, "v2": rebuilt}, ["v1"], []

    def profile_latest(context):
        made.append(now[0])
        return stores[now[0]], f"window of {now[0]}"

    monkeypatch.setattr(api, "store_fingerprint", lambda processed_dir=None: now[0])
    monkeypatch.setattr(profiles, "_note_basis_of", lru_cache(maxsize=2)(profiles._note_basis_of.__wrapped__))
    monkeypatch.setattr(profiles, "make_context", lambda processed_dir: ctx)
    monkeypatch.setattr(profiles, "profile_latest", profile_latest)
    monkeypatch.setattr(profiles, "country_messages", lambda iso3, processed_dir=None: [])
    monkeypatch.setattr(profiles.standing, "country_context", lambda iso3, processed_dir=None, latest=None:
                        SimpleNamespace(name=f"Synthetic {iso3}", line=lambda: "Synthetic context line."))
    first, other = profiles.country_note("AAA"), profiles.country_note("QQQ")
    assert made == ["v1"] and first.window_note == "window of v1"
    assert _by_id(first.rows)["syn_higher"].rank_text == "5 of 5"
    assert [r.rank_text for r in other.rows] == [r.rank_text for r in profiles.profile_table(latest, ctx, "QQQ")]
    now[0] = "v2"
    after = profiles.country_note("AAA")
    assert made == ["v1", "v2"] and after.window_note == "window of v2"
    assert _by_id(after.rows)["syn_higher"].rank_text == "1 of 5"


# ------------------------------------------------------------------------------------------- notes
def _row(ind: str, value: float, **kw) -> profiles.ProfileRow:
    base = dict(group="whole_population", indicator_id=ind, title=f"Synthetic {ind}", unit="% of people",
                better="higher", value=value, year=2020, median=np.nan, n=0, big_n=4, band="within",
                judged="within", lower=np.nan, upper=np.nan, others=np.array([]), source_id=None, vintage=None,
                year_text="2020")
    return profiles.ProfileRow(**{**base, **kw})


class NotesContext:
    def period(self, ind):
        return 1

    def note(self, ind):
        return "A synthetic catalogue note." if ind == "syn_noted" else ""


def test_coverage_note_fires_only_when_a_group_is_covered_above_the_total(monkeypatch):
    monkeypatch.setattr(api, "min_difference_of", lambda ind: 1.0)
    part = profiles.COVERAGE_PREFIX + "synthetic_group"
    above = [_row(part, 95.0), _row(profiles.COVERAGE_TOTAL, 40.0)]
    notes = profiles.profile_notes(above, NotesContext(), "Aland")
    assert len(notes) == 1 and "95.0 % of people (2020)" in notes[0] and "40.0 % of people (2020)" in notes[0]
    close = [_row(part, 40.5), _row(profiles.COVERAGE_TOTAL, 40.0)]  # within the smallest difference
    assert profiles.profile_notes(close, NotesContext(), "Aland") == []


def test_negative_disability_gap_period_catalogue_and_gap_notes():
    rows = [_row(profiles.DISABILITY_GAP, -1.5, unit="percentage points"), _row("syn_noted", 3.0),
            _row("syn_missing", np.nan, year=None, year_text="–")]
    notes = profiles.profile_notes(rows, NotesContext(), "Aland")
    assert any("below zero" in n and "-1.5 percentage points" in n for n in notes)
    assert "Synthetic syn_noted: A synthetic catalogue note." in notes
    assert any(n.startswith("No value for Aland in the window for 1 of 3 indicators (Synthetic syn_missing)")
               for n in notes)
    positive = [_row(profiles.DISABILITY_GAP, 1.5, unit="percentage points")]
    assert profiles.profile_notes(positive, NotesContext(), "Aland") == []


# ------------------------------------------------------------------------------------------- pages
def _note(iso3: str, n_rows: int, plus_three: bool) -> profiles.CountryNote:
    """A synthetic note with long titles, enough rows for a second page and every kind of cell."""
    rows = []
    for k in range(n_rows):
        better = ("higher", "lower", "neutral")[k % 3]
        value = np.nan if k % 7 == 3 else 10.0 + k
        rows.append(_row(
            f"syn_{k}", value, group=("older_persons", "children", "whole_population")[k * 3 // n_rows],
            title=f"Synthetic indicator number {k} with a long title that has to wrap over two or three lines",
            unit="% of a synthetic population", better=better, n=4, median=12.0, lower=11.0, upper=13.0,
            band="above" if k % 2 else "within", judged="better" if k % 2 else "within",
            others=np.array([5.0, 12.0, 20.0] + ([] if np.isnan(value) else [value])),
            year_text="2015–2020" if k == 1 else "2022",
            rank=1, rank_n=7, rank_text="2nd highest of 7" if better == "neutral" else "1 of 7",
            ranked_years="2014–2023", trend_text="↑ +12.5 since 2012", trend_direction="up", trend_judged="better",
            plus_three={c: (float(k), 2021) for c in PLUS_THREE} if plus_three else {}))
    return profiles.CountryNote(
        iso3=iso3, name=f"Synthetic {iso3}", context="Population 1.0 million (2025) · aged 65 and over: 5.0 % (2025)",
        messages=[f"Synthetic message {k}: a sentence long enough to wrap onto a second line of the page, with "
                  "numbers and years that a template would fill in from the store." for k in range(5)],
        rows=rows, notes=["A synthetic note that also wraps over more than one line of the page. " * 3] * 3,
        last_meetings={"older_persons": "9th meeting, 2011 (year inferred)"},
        window_note="Latest value within the 10 years.")


@pytest.fixture
def drawing(monkeypatch):
    names = {c: f"Synthetic country {c}" for c in FOCUS}
    monkeypatch.setattr(api, "country_names", lambda *a, **k: names)
    monkeypatch.setattr(palette, "style_of", lambda iso3, table=None: {"colour": "#0072B2"})
    monkeypatch.setattr(palette, "focus_iso3", lambda: list(FOCUS))


def _texts_and_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    for t in fig.texts:
        if t.get_text().strip():
            found.append((t.get_text(), t.get_window_extent(renderer)))
    return found


@pytest.mark.parametrize(("iso3", "plus_three"), [("AAA", False), ("QQQ", True)])
def test_pages_keep_text_inside_without_overlaps(drawing, iso3, plus_three):
    note = _note(iso3, 24, plus_three)
    pages = profile_pages.draw_profile(note)
    assert len(pages) == 2  # the synthetic rows overflow the first page
    for fig in pages:
        width, height = fig.bbox.width, fig.bbox.height
        boxes = _texts_and_boxes(fig)
        for text, box in boxes:
            assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, f"{text!r} leaves the page"
        for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
            assert not a.overlaps(b), f"{ta!r} overlaps {tb!r}"
    all_text = "\n".join(t.get_text() for fig in pages for t in fig.texts)
    for r in note.rows:  # no title is cut
        assert " ".join(all_text.split()).count(" ".join(f"{r.title} ({r.unit})".split())) >= 1
    assert "(continued)" in all_text and "page 2 of 2" in all_text
    assert f"{len(FOCUS)} focus countries" in all_text
    assert ("PPP" in all_text) == plus_three  # the Plus Three columns' header


def test_pages_are_the_same_bytes_twice(drawing):
    def pdf_bytes() -> bytes:
        buf = io.BytesIO()
        with PdfPages(buf, metadata=dict(PDF_METADATA)) as pdf:
            for fig in profile_pages.draw_profile(_note("AAA", 10, False)):
                pdf.savefig(fig)
        return buf.getvalue()

    assert pdf_bytes() == pdf_bytes()


def test_neutral_rows_are_drawn_without_better_or_worse_colours(drawing):
    note = _note("AAA", 3, False)
    neutral = note.rows[2]
    assert neutral.better == "neutral"
    judged = profiles.ProfileRow(**{**neutral.__dict__, "judged": "better", "trend_judged": "better"})
    cells = profile_pages._cells(judged)
    assert cells["value"][2] == profile_pages.TEXT and cells["trend"][2] == profile_pages.TEXT


def test_dot_strips_are_drawn_on_the_page_clipped_to_their_box(drawing):
    note = _note("AAA", 3, False)
    page = profile_pages.draw_profile(note)[0]
    assert page.axes == []  # no axes per row: the strips are artists of the page
    strips = [a for a in page.artists if a.get_clip_box() is not None]
    row = next(r for r in note.rows if len(r.others) and r.n)
    dots = [a for a in strips if isinstance(a, Line2D) and list(a.get_xdata()) == list(row.others)]
    assert len(dots) == 1
    box = dots[0].get_clip_box()
    bands = [a for a in strips if isinstance(a, Rectangle) and a.get_clip_box() is box]
    assert len(bands) == 1 and bands[0].get_x() == row.lower  # clipped to the strip, as an axes clips it
    left, right = box.x0, box.x1  # the strip's ends (pixels): the lowest and highest dots lie inside
    dots_px = dots[0].get_transform().transform([(min(row.others), 0), (max(row.others), 0)])
    assert left < dots_px[0][0] < dots_px[1][0] < right
