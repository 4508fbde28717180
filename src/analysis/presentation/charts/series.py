"""What the time-series kinds (lines, small multiples) share: the rows drawn, how one series is drawn,
and how the events of :func:`analysis.store.api.events` are chosen and marked."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.transforms as mtransforms
import pandas as pd

from analysis.presentation.charts import palette
from analysis.presentation.charts.base import ChartDataError, check_tidy, one_indicator
from analysis.presentation.charts.common import (
    STATISTICS,
    aggregate_rows,
    aggregate_series,
    asean_members,
    concat,
    lay_out,
    no_data_rows,
    plotted_rows,
    split_present,
)
from analysis.presentation.charts.layout import repel_1d
from analysis.store import api


@dataclass
class SeriesPanel:
    """The rows a time-series chart draws.

    ``data``: the countries' series in the span; ``agg``: the ASEAN statistic per year (empty when
    none is drawn); ``plotted``: the CSV, with "no data" rows for countries without a value (so a
    gap is shown, not dropped).
    """

    data: pd.DataFrame
    have: list[str]
    missing: list[str]
    members: list[str]
    agg: pd.DataFrame
    plotted: pd.DataFrame

    @property
    def has_aggregate(self) -> bool:
        return not self.agg.empty

    @property
    def has_projections(self) -> bool:
        return bool(self.data["projection"].any())

    def n_range(self) -> str:
        """How many members the yearly statistic covers: "9" or "7–10"."""
        lo, hi = int(self.agg["n"].min()), int(self.agg["n"].max())
        return f"{lo}" if lo == hi else f"{lo}–{hi}"


def _in_span(d: pd.DataFrame, start: int | None, end: int | None, projections: bool) -> pd.DataFrame:
    if not projections:
        d = d[~d["projection"]]
    if start is not None:
        d = d[d["year"] >= start]
    if end is not None:
        d = d[d["year"] <= end]
    return d.sort_values(["iso3", "year"])


def series_panel(d: pd.DataFrame, rows: pd.DataFrame, ind: str, unit: str, aggregate: str | None,
                 start: int | None, end: int | None, projections: bool) -> SeriesPanel:
    d = _in_span(d[d["iso3"].isin(rows["iso3"]) & d["value"].notna()], start, end, projections)
    have, missing = split_present(rows, set(d["iso3"]))
    members = asean_members(rows)
    agg = aggregate_series(d, members, aggregate) if aggregate else pd.DataFrame()
    plotted = plotted_rows(d, rows, role="country")
    if aggregate and not agg.empty:
        plotted = concat([plotted, aggregate_rows(
            aggregate, ind, years=agg["year"], values=agg["value"].to_numpy(), unit=unit,
            projection=agg["projection"].astype("boolean"), n=agg["n"].to_numpy(), total=agg["N"].to_numpy(),
            role=f"aggregate: {STATISTICS[aggregate]}")])
    plotted = concat([plotted, no_data_rows(missing, rows, ind, unit).assign(role="no data")])
    return SeriesPanel(data=d, have=have, missing=missing, members=members, agg=agg, plotted=plotted)


@dataclass
class ProjectionPart:
    """A projection drawn as its own series after the estimates (its own indicator id in the CSV).

    ``data``: the projection rows of the countries drawn, in the span; ``agg``: the ASEAN statistic of
    the projection per year (empty when none); ``plotted``: its CSV rows; ``label``: what the key
    calls it (e.g. "projection, World Population Prospects 2019, medium variant").
    """

    data: pd.DataFrame
    agg: pd.DataFrame
    plotted: pd.DataFrame
    label: str

    @property
    def first_year(self) -> int:
        return int(self.data["year"].min())


def projection_part(proj: pd.DataFrame | None, rows: pd.DataFrame, unit: str, aggregate: str | None,
                    start: int | None, end: int | None, label: str | None) -> ProjectionPart | None:
    """The projection rows a time-series chart draws apart from the estimates; None when there are none."""
    if proj is None or proj.empty:
        return None
    p = check_tidy(proj, what="projection").assign(projection=True)
    p = _in_span(p[p["iso3"].isin(rows["iso3"])], start, end, True)
    if p.empty:
        return None
    ind = one_indicator(p, "projection")
    members = asean_members(rows)
    agg = aggregate_series(p, members, aggregate) if aggregate else pd.DataFrame()
    label = label or f"projection ({ind})"
    plotted = plotted_rows(p, rows, role=label)
    if aggregate and not agg.empty:
        plotted = concat([plotted, aggregate_rows(
            aggregate, ind, years=agg["year"], values=agg["value"].to_numpy(), unit=unit,
            projection=[True] * len(agg), n=agg["n"].to_numpy(), total=agg["N"].to_numpy(),
            role=f"aggregate: {STATISTICS[aggregate]} (projection)")])
    return ProjectionPart(data=p, agg=agg, plotted=plotted, label=label)


def projection_style(st: dict) -> tuple:
    """Dotted for ASEAN, dash-dot for Plus Three: the group stays readable in the projections."""
    return (0, (1, 1.6)) if st["group"] != palette.PLUS_THREE else (0, (4, 1.5, 1, 1.5))


def draw_projection(ax, part: pd.DataFrame, st: dict, lw: float = 1.7, gid: str | None = None) -> None:
    """A projection shown as its own series: lighter and dotted, not joined to the estimates (no level
    adjustment is made, so a line drawn across the join would invent a change)."""
    ax.plot(part["year"], part["value"], color=st["colour"], ls=projection_style(st), lw=lw * 0.9, alpha=0.6,
            gid=gid)


def draw_series(ax, part: pd.DataFrame, st: dict, lw: float = 1.7, gid: str | None = None) -> None:
    """One country's line: estimates solid (or dashed for Plus Three), projections dotted and lighter."""
    est = part[~part["projection"]]
    proj = part[part["projection"]]
    if not est.empty:
        ax.plot(est["year"], est["value"], color=st["colour"], ls=st["linestyle"], lw=lw, gid=gid,
                solid_capstyle="round")
    if not proj.empty:
        # Projections continue from the last estimate.
        joined = pd.concat([est.tail(1), proj]) if not est.empty else proj
        ax.plot(joined["year"], joined["value"], color=st["colour"], ls=projection_style(st), lw=lw * 0.9, alpha=0.85,
                gid=f"{gid}-projection" if gid else None)


# ----------------------------------------------------------------------------- events (api.events)
EVENT_COLOUR, EVENT_TEXT_COLOUR = "#8c8c8c", "#444444"
EVENT_SIZE = 7.0
EVENT_COLUMNS = ("date", "iso3", "title", "affects", "year", "decimal_year", "source_url", "confidence",
                 "confidence_note")
LABEL_OFFSET_PT = 1.5  # gap between a marker and its label


def select_events(events: pd.DataFrame | None, indicator_id: str, have: list[str], span: pd.Series) -> pd.DataFrame:
    """The events a series chart marks: about a country drawn (or every country, WLD), affecting an area
    of the indicator (:func:`analysis.store.api.areas_of`), dated within the years drawn.

    Adds ``drawn``: the codes of the countries drawn that the event concerns (all of them for WLD)."""
    if events is None or events.empty or span.empty:
        return pd.DataFrame()
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise ChartDataError(f"events: missing columns {missing}; pass the frame of analysis.store.api.events() "
                             "(plain year markers go to `marks`)")
    areas = set(api.areas_of(indicator_id))
    drawn = events["iso3"].map(lambda codes: tuple(have) if api.ALL_COUNTRIES in codes
                               else tuple(c for c in codes if c in have))
    keep = (drawn.map(bool) & events["affects"].map(lambda hit: bool(areas & set(hit)))
            & events["year"].between(int(span.min()), int(span.max())))
    return events.assign(drawn=drawn).loc[keep.to_numpy(dtype=bool)].reset_index(drop=True)


def event_records(chosen: pd.DataFrame) -> list[dict]:
    """The events drawn, for the chart's JSON (the CSV keeps only the plotted values)."""
    if chosen.empty:
        return []
    cols = ["date", "title", "kind", "source_url", "confidence", "confidence_note"]
    return [{**{c: str(rec[c]) for c in cols}, "iso3": list(rec["drawn"])} for _, rec in chosen.iterrows()]


def event_who(rec, names: dict[str, str], have: list[str]) -> str:
    """Whom an event concerns among the countries drawn: "" for all, names for one or two, else codes."""
    drawn = list(rec.drawn)
    if len(drawn) == len(have) and len(have) > 1:
        return ""
    if len(drawn) <= 2:
        return ", ".join(names.get(c, c) for c in drawn)
    return ", ".join(drawn)


def event_label(rec, names: dict[str, str], have: list[str]) -> str:
    """The short label drawn beside a marker (the footer lists the countries in full)."""
    who = event_who(rec, names, have)
    if len(rec.drawn) > 3 and who:
        who = f"{len(rec.drawn)} countries"
    return f"{rec.title} ({who})" if who else str(rec.title)


def _pack_rows(spans: list[tuple[float, float]], taken: list[tuple[float, float]], pad: float) -> list[int]:
    """Greedy interval packing: each label goes to the first row where it meets no other text."""
    rows: list[list[tuple[float, float]]] = [list(taken)]
    out = []
    for lo, hi in spans:
        for k, row in enumerate(rows):
            if all(hi + pad <= a or lo >= b + pad for a, b in row):
                row.append((lo, hi))
                out.append(k)
                break
        else:
            rows.append([(lo, hi)])
            out.append(len(rows) - 1)
    return out


def _label_spans(ax, texts: list, renderer, offset: float) -> list[tuple[float, float]]:
    """Display-x extent of each label once it sits beside its marker: right of it, or left where the
    axes end (the label then ends at the marker)."""
    box = ax.get_window_extent(renderer)
    spans = []
    for t in texts:
        width = t.get_window_extent(renderer).width
        x = ax.transData.transform((t.get_position()[0], 0))[0]
        if x + offset + width > box.x1:
            t.set_ha("right")
            t.set_transform(mtransforms.offset_copy(t.get_transform(), fig=ax.get_figure(root=True),
                                                    x=-2 * LABEL_OFFSET_PT, units="points"))
            spans.append((x - offset - width, x - offset))
        else:
            spans.append((x + offset, x + offset + width))
    return spans


def draw_event_band(ax, chosen: pd.DataFrame, labels: list[str], obstacles: list | None = None) -> list:
    """Each event as a thin dashed vertical at its date and its short label in a band above the data.

    Labels are measured once the layout has run and stacked in rows so that no two labels (and no
    ``obstacles``: text already at the top of the axes) overlap; the y range grows to keep the data
    below the band. Returns the label artists.
    """
    if chosen.empty:
        return []
    fig = ax.get_figure(root=True)
    for x in chosen["decimal_year"]:
        ax.axvline(float(x), color=EVENT_COLOUR, lw=0.8, ls=(0, (3, 2)), zorder=0.6, gid="event-marker")
    base = mtransforms.offset_copy(mtransforms.blended_transform_factory(ax.transData, ax.transAxes), fig=fig,
                                   x=LABEL_OFFSET_PT, units="points")
    texts = [ax.text(float(x), 1.0, label, transform=base, fontsize=EVENT_SIZE, color=EVENT_TEXT_COLOUR, ha="left",
                     va="top", zorder=6, gid="event-label",
                     bbox=dict(facecolor="white", edgecolor="none", pad=0.6, alpha=0.92))
             for x, label in zip(chosen["decimal_year"], labels)]
    renderer = lay_out(fig)
    spans = _label_spans(ax, texts, renderer, LABEL_OFFSET_PT / 72.0 * fig.dpi)
    taken = [(o.get_window_extent(renderer).x0, o.get_window_extent(renderer).x1) for o in obstacles or []]
    rows = _pack_rows(spans, taken, pad=4.0)
    height = max(ax.get_window_extent(renderer).height, 1.0)
    row = EVENT_SIZE * 1.6 / 72.0 * fig.dpi / height
    for t, k in zip(texts, rows):
        t.set_y(1.0 - 0.01 - k * row)
    ymin, ymax = ax.get_ylim()
    ax.set_ylim(ymin, ymin + (ymax - ymin) / max(0.2, 1.0 - (max(rows) + 1) * row - 0.03))
    return texts


def draw_event_tags(ax, xs: list[float], tags: list[str], renderer) -> None:
    """Small panels: each event as a dashed vertical with its number at the top, the numbers spread
    sideways so that none overlaps another (the footer names each number)."""
    for x in xs:
        ax.axvline(x, color=EVENT_COLOUR, lw=0.7, ls=(0, (3, 2)), zorder=0.6, gid="event-marker")
    if not xs:
        return
    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    texts = [ax.text(x, 0.985, tag, transform=trans, fontsize=EVENT_SIZE - 0.8, color=EVENT_TEXT_COLOUR, ha="center",
                     va="top", zorder=6, gid="event-label",
                     bbox=dict(facecolor="white", edgecolor="none", pad=0.3, alpha=0.92))
             for x, tag in zip(xs, tags)]
    width = max(t.get_window_extent(renderer).width for t in texts)
    px = [ax.transData.transform((x, 0))[0] for x in xs]
    box = ax.get_window_extent(renderer)
    placed = repel_1d(px, width + 2.0, box.x0 + width / 2, box.x1 - width / 2)
    inverse = ax.transData.inverted()
    for t, p in zip(texts, placed):
        t.set_x(float(inverse.transform((p, 0))[0]))


def tag_room(ax) -> float:
    """The share of a panel's height the event numbers take (the y range grows by it)."""
    fig = ax.get_figure(root=True)
    return (EVENT_SIZE + 2.5) / 72.0 * fig.dpi / max(ax.get_window_extent().height, 1.0)
