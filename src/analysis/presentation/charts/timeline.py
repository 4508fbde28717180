"""The ASEAN–Japan High Level Officials Meetings on Caring Societies and related ASEAN instruments, by year."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.lines import Line2D

from analysis.presentation.charts import palette, style
from analysis.presentation.charts.base import DEFAULT_WIDTH, Chart, frame, freeze_layout
from analysis.presentation.charts.common import in_style
from analysis.store import api

TITLE = "ASEAN–Japan High Level Officials Meetings on Caring Societies"
SUBTITLE = "Meetings (circles) and related ASEAN instruments (diamonds), by year"
FOCUS_GROUP_LABELS = {
    "older_persons": "older persons", "children": "children", "mothers": "mothers",
    "persons_with_disabilities": "persons with disabilities", "poor_and_vulnerable": "poor and vulnerable",
    "working_age": "working age", "whole_population": "whole population",
}
MEETING_COLOUR, INSTRUMENT_COLOUR = "#0072B2", "#D55E00"
TEXT_SIZE = 7.8
UNOFFICIAL = "(unofficial translation)"
AXIS_X, MARKER_DY = 0.075, 0.2  # the vertical time line; markers sit on the first text line
# Markers and text colour of each kind of event (a meeting's marker is open where its theme was not found).
_MARKS = {
    "no meeting recorded": dict(marker="x", markersize=6, color=palette.NO_DATA_COLOUR),
    "meeting": dict(marker="o", markersize=6.5, color=MEETING_COLOUR, markeredgewidth=1.5),
    "instrument": dict(marker="D", markersize=5.5, color=INSTRUMENT_COLOUR),
}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _text(value) -> str:
    return "" if pd.isna(value) else str(value)


def _group_labels(focus_groups) -> str:
    """Readable focus groups from a tuple (validated table) or a ";"-separated string."""
    if isinstance(focus_groups, tuple | list):
        items = list(focus_groups)
    else:
        items = [g for g in _text(focus_groups).split(";") if g]
    return ", ".join(FOCUS_GROUP_LABELS.get(g, g) for g in items)


def _shown_theme(theme: str, theme_en: str, unofficial: bool, topics: str) -> str:
    """The theme as drawn: its English title, marked where that is the project's own translation (the
    original, often Japanese, stays in the CSV; its glyphs are not in the packaged font)."""
    if theme_en:
        return theme_en + (f" {UNOFFICIAL}" if unofficial else "")
    if theme:
        return theme
    return f"theme title not found; topics: {topics}" if topics else "theme not found"


def _meeting_event(rec) -> dict:
    theme, topics = _text(rec.theme), _text(rec.topics).replace(";", ", ")
    city = "" if pd.isna(rec.city) else f", {rec.city}"
    shown = _shown_theme(theme, _text(rec.theme_en), bool(rec.theme_en_unofficial), topics)
    label = f"{_ordinal(int(rec.meeting_no))} HLOM{city}: {shown}"
    return {"kind": "meeting", "year": int(rec.year), "date": _text(rec.dates), "label": label, "theme": theme,
            "theme_en": _text(rec.theme_en), "theme_en_basis": _text(rec.theme_en_basis),
            "theme_found": bool(theme), "year_inferred": str(rec.year_basis) == "inferred",
            "focus_groups": _group_labels(rec.focus_groups), "source_url": _text(rec.source_url),
            "order": (int(rec.year), 0, int(rec.meeting_no))}


def _instrument_event(k: int, rec) -> dict:
    date = str(rec.date)
    return {"kind": "instrument", "year": int(date[:4]), "date": date, "label": str(rec.instrument),
            "theme": str(rec.instrument), "theme_en": str(rec.instrument), "theme_en_basis": "", "theme_found": True,
            "year_inferred": False,
            "focus_groups": _group_labels(rec.focus_groups), "source_url": _text(rec.source_url),
            "order": (int(date[:4]), 1, k)}


def _gap_events(events: list[dict]) -> list[dict]:
    """Years inside the meeting series without any meeting on record: shown as gaps, not skipped."""
    years = {e["year"] for e in events if e["kind"] == "meeting"}
    if not years:
        return []
    return [{"kind": "no meeting recorded", "year": yr, "date": "", "label": "no meeting recorded", "theme": "",
             "theme_en": "", "theme_en_basis": "", "theme_found": False, "year_inferred": False, "focus_groups": "",
             "source_url": "", "order": (yr, 0, 0)}
            for yr in range(min(years), max(years) + 1) if yr not in years]


def timeline_events(meetings: pd.DataFrame, instruments: pd.DataFrame) -> list[dict]:
    """Every meeting, instrument and year without a meeting, in date order."""
    events = [_meeting_event(rec) for rec in meetings.itertuples(index=False)]
    events += [_instrument_event(k, rec) for k, rec in enumerate(instruments.itertuples(index=False))]
    events += _gap_events(events)
    events.sort(key=lambda e: e["order"])
    return events


def _footer(table: pd.DataFrame, notes: Sequence[str]) -> tuple[list[str], list[str], dict]:
    """(footer lines, notes, coverage) of the timeline."""
    kind = table["kind"]
    n_gap = int((~table.loc[kind == "meeting", "theme_found"]).sum())
    n_meet, n_instr = int((kind == "meeting").sum()), int((kind == "instrument").sum())
    no_meeting = sorted(table.loc[kind == "no meeting recorded", "year"].astype(int).tolist())
    n_translated = int(table["label"].str.endswith(UNOFFICIAL).sum())
    source = ["Source: compiled for this project from MHLW, ASEAN and news pages; one cited source_url per row "
              f"(data/raw/references/meeting_themes.csv, {n_meet} meetings; asean_instruments.csv, "
              f"{n_instr} instruments)."]
    notes = [f"Theme not found for {n_gap} of {n_meet} meetings (open circles): a gap in the record.",
             "Years marked (year inferred) were inferred, not stated, by the cited page.",
             ("No meeting recorded in " + ", ".join(map(str, no_meeting)) + " (crosses).") if no_meeting else "",
             (f"{n_translated} titles marked (unofficial translation) were translated for this project; the CSV "
              "keeps the original titles.") if n_translated else "",
             *notes]
    coverage = {"meetings": n_meet, "themes_not_found": n_gap, "instruments": n_instr,
                "years_without_meeting": no_meeting}
    return source + [n for n in notes if n], notes, coverage


def _key() -> list:
    return [Line2D([], [], marker="o", ls="none", color=MEETING_COLOUR, label="meeting, theme known"),
            Line2D([], [], marker="o", ls="none", markerfacecolor="white", markeredgecolor=MEETING_COLOUR,
                   markeredgewidth=1.5, label="meeting, theme not found"),
            Line2D([], [], marker="D", ls="none", color=INSTRUMENT_COLOUR, label="ASEAN / ASEAN+3 instrument"),
            Line2D([], [], marker="x", ls="none", color=palette.NO_DATA_COLOUR, label="no meeting recorded")]


def _wrapped(events: list[dict], text_width: float) -> list[list[str]]:
    out = []
    for e in events:
        label = e["label"] + (" (year inferred)" if e["year_inferred"] else "")
        if e["focus_groups"]:
            label += f"  [{e['focus_groups']}]"
        out.append(style.wrap(label, text_width, TEXT_SIZE))
    return out


def _rows_y(wrapped: list[list[str]]) -> tuple[list[float], float]:
    """Top of each event's text and the total height, in y units (a 7.8 pt text line takes 0.45)."""
    y, ys = 0.0, []
    for lines in wrapped:
        ys.append(y)
        y += 0.55 + 0.45 * max(1, len(lines))
    return ys, y


def _draw_event(ax, e: dict, yy: float, lines: list[str]) -> None:
    mark = dict(_MARKS[e["kind"]])
    if e["kind"] == "meeting":
        mark["markerfacecolor"] = MEETING_COLOUR if e["theme_found"] else "white"
        colour = "#222222" if e["theme_found"] else palette.NO_DATA_COLOUR
    else:
        colour = palette.NO_DATA_COLOUR if e["kind"] == "no meeting recorded" else "#7a3a00"
    ax.plot([AXIS_X], [yy + MARKER_DY], zorder=3, **mark)
    ax.text(0.1, yy, "\n".join(lines), ha="left", va="top", fontsize=TEXT_SIZE, color=colour, linespacing=1.25,
            style="normal" if e["theme_found"] else "italic")


def _draw(ax, events: list[dict], ys: list[float], wrapped: list[list[str]]) -> None:
    ax.plot([AXIS_X, AXIS_X], [ys[0], ys[-1]], color="#bbbbbb", lw=1.2, zorder=1)
    prev_year = None
    for e, yy, lines in zip(events, ys, wrapped):
        if e["year"] != prev_year:
            ax.text(0.0, yy, str(e["year"]), ha="left", va="top", fontsize=8.2, fontweight="bold", color="#333333")
            prev_year = e["year"]
        _draw_event(ax, e, yy, lines)


@in_style
def timeline(
    meetings: pd.DataFrame | None = None, instruments: pd.DataFrame | None = None, *, title: str | None = None,
    subtitle: str | None = None, notes: Sequence[str] = (), made_by: str | None = None, width: float = DEFAULT_WIDTH,
) -> Chart:
    """The ASEAN–Japan High Level Officials Meetings on Caring Societies and related ASEAN instruments.

    One row per event in date order; ``meetings`` and ``instruments`` default to the API's validated
    tables (``api.meetings()``, ``api.instruments()``). A meeting whose theme was not found is drawn
    as an open marker with "theme not found" (a gap in the record, not a missing meeting); years
    that were inferred rather than stated are flagged. Every theme is shown by its English title
    (``theme_en``), followed by "(unofficial translation)" where ``theme_en_basis`` says so; the CSV
    keeps the original title beside it.
    """
    meetings = api.meetings() if meetings is None else meetings
    instruments = api.instruments() if instruments is None else instruments
    events = timeline_events(meetings, instruments)
    table = pd.DataFrame(events).drop(columns="order")
    footer, notes, coverage = _footer(table, notes)
    subtitle = subtitle if subtitle is not None else SUBTITLE
    wrapped = _wrapped(events, width - 1.6)
    ys, height = _rows_y(wrapped)
    # One y unit is about 0.3 inch.
    fr = frame(title or TITLE, subtitle, footer, body_height=0.3 * (height + 0.5), width=width, key=_key(), key_cols=4)
    ax = fr.body.subplots()
    ax.set_axis_off()
    ax.set_ylim(height, -0.5)
    ax.set_xlim(0, 1)
    _draw(ax, events, ys, wrapped)
    freeze_layout(fr.figure)
    return Chart(figure=fr.figure, kind="timeline", title=title or TITLE, subtitle=subtitle, unit="", indicator_ids=(),
                 source_ids=("references",), data=table, notes=tuple(n for n in notes if n), coverage=coverage,
                 footer=tuple(footer), sources={"references": []}, made_by=made_by or "analysis.charts.timeline",
                 axes={"main": ax})
