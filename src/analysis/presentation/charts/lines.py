"""One line per country over time, with the ASEAN statistic, projections and optional event markers."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.transforms as mtransforms
import pandas as pd
from matplotlib.lines import Line2D

from analysis.presentation.charts import palette
from analysis.presentation.charts.base import (
    DEFAULT_WIDTH,
    Chart,
    check_tidy,
    collect_footer,
    finish,
    frame,
    key_handles,
    one_indicator,
    unit_of,
)
from analysis.presentation.charts.common import (
    STATISTICS,
    aggregate_name,
    concat,
    country_rows,
    in_style,
    label_height,
    missing_note,
    names_of,
    title_or,
)
from analysis.presentation.charts.footer import events_lines, sources_used
from analysis.presentation.charts.layout import repel_1d
from analysis.presentation.charts.series import (
    ProjectionPart,
    SeriesPanel,
    draw_event_band,
    draw_projection,
    draw_series,
    event_label,
    event_records,
    event_who,
    projection_part,
    select_events,
    series_panel,
)

LABEL_SIZE = 7.8


def _notes(panel: SeriesPanel, rows: pd.DataFrame, aggregate: str | None, marks: pd.DataFrame | None,
           marks_label: str | None, proj: ProjectionPart | None = None) -> list[str]:
    d = panel.data if proj is None else pd.concat([panel.data, proj.data])
    agg_note = ""
    if panel.has_aggregate:
        agg_note = (f"ASEAN {STATISTICS[aggregate]} over the members with data in each year "
                    f"({panel.n_range()} of {len(panel.members)}); shown where at least half report.")
    yr_span = f"{int(d['year'].min())}–{int(d['year'].max())}" if not d.empty else "no years"
    ev_note = ""
    if marks is not None and not marks.empty:
        years = ", ".join(str(int(y)) for y in sorted(set(marks["year"])))
        ev_note = f"Thin grey verticals: {marks_label or 'marked years'} ({years})."
    proj_note = "Projections dotted, on a shaded background." if panel.has_projections else ""
    return [f"{len(panel.have)} of {len(rows)} countries with data, {yr_span}.", missing_note(panel.missing, rows),
            agg_note, proj_note, ev_note]


def _key(panel: SeriesPanel, rows: pd.DataFrame, aggregate: str | None, proj: ProjectionPart | None = None) -> list:
    agg_label = None
    if panel.has_aggregate:
        agg_label = f"ASEAN {STATISTICS[aggregate]} ({panel.n_range()} of {len(panel.members)} members)"
    extra = []
    if panel.has_projections:
        extra.append(Line2D([], [], color="#555555", ls=(0, (1, 1.6)), lw=1.6,
                            label="projection (Plus Three: dash-dot)"))
    if proj is not None:
        extra.append(Line2D([], [], color="#555555", ls=(0, (1, 1.6)), lw=1.6, alpha=0.6,
                            label="projection, not joined (lighter; Plus Three: dash-dot)"))
    groups = set(rows.loc[rows["iso3"].isin(panel.have), "group"]) or {palette.ASEAN}
    return key_handles(groups, agg_label, extra)


def _shade_projections(ax, d: pd.DataFrame, proj: ProjectionPart | None = None):
    """A shaded background from the last estimate on, labelled "projections"."""
    if proj is not None:
        # a separately named projection starts the year after the earliest last estimate
        last_est, last = proj.first_year - 1, int(max(proj.data["year"].max(), d["year"].max()))
    else:
        first_proj = int(d.loc[d["projection"], "year"].min())
        last_est = int(d.loc[~d["projection"], "year"].max()) if (~d["projection"]).any() else first_proj
        last = int(d["year"].max())
    ax.axvspan(last_est, last, color=palette.PROJECTION_SHADE, lw=0, zorder=0)
    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    return ax.text(last_est, 1.0, " projections", transform=trans, ha="left", va="top", fontsize=7.8, color="#666666",
                   style="italic")


def _draw_projection_aggregate(ax, agg: pd.DataFrame) -> None:
    ax.plot(agg["year"], agg["value"], color=palette.AGGREGATE_COLOUR, lw=palette.AGGREGATE_LINEWIDTH * 0.8,
            ls=(0, (1, 1.2)), alpha=0.6, zorder=5, gid="aggregate-projection")


def _draw_aggregate(ax, agg: pd.DataFrame) -> None:
    projected = agg["projection"].astype(bool)
    est, proj = agg[~projected], agg[projected]
    ax.plot(est["year"], est["value"], color=palette.AGGREGATE_COLOUR, lw=palette.AGGREGATE_LINEWIDTH, zorder=5,
            gid="aggregate", solid_capstyle="round")
    if not proj.empty:
        joined = pd.concat([est.tail(1), proj])
        ax.plot(joined["year"], joined["value"], color=palette.AGGREGATE_COLOUR, lw=palette.AGGREGATE_LINEWIDTH * 0.8,
                ls=(0, (1, 1.2)), zorder=5, gid="aggregate-projection")


def _end_labels(ax, items: list[tuple[str, float, str, bool]], fontsize: float = LABEL_SIZE,
                laid_out: bool = False) -> list:
    """Name labels right of the plot at each series' last value, spread so they do not overlap.

    ``laid_out``: the layout has just run (for the event band); see :func:`label_height`.
    """
    if not items:
        return []
    gap = label_height(ax, fontsize, laid_out=laid_out)
    ymin, ymax = sorted(ax.get_ylim())
    ys = repel_1d([v for _, v, _, _ in items], gap, ymin, ymax)
    trans = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    return [ax.text(1.01, yy, label, transform=trans, ha="left", va="center", fontsize=fontsize, color=colour,
                    fontweight="bold" if bold else "normal", clip_on=False)
            for (label, _, colour, bold), yy in zip(items, ys)]


def _last_value(parts: list[pd.DataFrame]) -> float:
    """The value drawn last in time (the projection's end where one follows the estimates)."""
    d = pd.concat([p for p in parts if not p.empty]).sort_values("year", kind="stable")
    return float(d["value"].iloc[-1])


def _end_items(panel: SeriesPanel, rows: pd.DataFrame, aggregate: str | None,
               proj: ProjectionPart | None = None) -> list[tuple[str, float, str, bool]]:
    names = names_of(rows)
    d = panel.data
    pd_ = proj.data if proj is not None else d.iloc[:0]
    items = [(names.get(iso, iso), _last_value([d[d["iso3"] == iso], pd_[pd_["iso3"] == iso]]),
              palette.style_of(iso, rows)["colour"], False) for iso in panel.have]
    if panel.has_aggregate:
        agg_parts = [panel.agg] + ([proj.agg] if proj is not None and not proj.agg.empty else [])
        items.append((aggregate_name(aggregate), _last_value(agg_parts), palette.AGGREGATE_COLOUR, True))
    return items


def _reserve_right_margin(ax, items: list[tuple[str, float, str, bool]]):
    """An invisible copy of the longest end label, so that what is measured next (end labels, event
    labels) sees the axes at their final width; remove it once they are placed."""
    longest = max((it[0] for it in items), key=len, default="")
    return ax.text(1.01, 0.5, longest + "   ", transform=ax.transAxes, fontsize=LABEL_SIZE, alpha=0, fontweight="bold")


@in_style
def lines(
    data: pd.DataFrame, *, countries: Sequence[str] | None = None, title: str | None = None,
    subtitle: str | None = None, unit: str | None = None, aggregate: str | None = "median",
    projections: bool = True, start: int | None = None, end: int | None = None, notes: Sequence[str] = (),
    made_by: str | None = None, width: float = DEFAULT_WIDTH, height: float = 4.6, events: pd.DataFrame | None = None,
    marks: pd.DataFrame | None = None, marks_label: str | None = None, projection: pd.DataFrame | None = None,
    projection_label: str | None = None,
) -> Chart:
    """One line per country over time; projections dotted on a shaded background after the last estimate.

    ``projection``: a projection as its own series (own indicator id, e.g. from
    :func:`analysis.store.series.with_projection`), drawn lighter and not joined to the estimates,
    called ``projection_label`` in the key; say in ``notes`` how the two meet.

    ``events``: the frame of :func:`analysis.store.api.events`; those about a country drawn (or all,
    WLD), affecting an area of the indicator and dated within the years drawn are marked by a dashed
    vertical with a short label above the data, and named with their source in the footer.
    ``marks``: optional frame with a ``year`` column drawn as plain thin verticals, explained by
    ``marks_label`` in the footer (e.g. the years of the High Level Officials Meetings).
    """
    d = check_tidy(data, what="lines")
    ind = one_indicator(d, "lines")
    unit = unit_of(d, unit)
    rows = country_rows(countries)
    panel = series_panel(d, rows, ind, unit, aggregate, start, end, projections)
    proj = projection_part(projection, rows, unit, aggregate, start, end, projection_label)
    chosen = select_events(events, ind, panel.have, panel.data["year"])
    names = names_of(rows)
    who = [event_who(rec, names, panel.have) for rec in chosen.itertuples(index=False)]
    notes = [*_notes(panel, rows, aggregate, marks, marks_label, proj), *notes, *events_lines(chosen, who)]
    # the projection's source is listed like any other; how it meets the estimates is the caller's note
    footer, sources = collect_footer(panel.data, notes, sources_used(proj.data) if proj is not None else None)
    subtitle = subtitle if subtitle is not None else unit
    key = _key(panel, rows, aggregate, proj)
    fr = frame(title_or(title, ind), subtitle, footer, body_height=height, width=width, key=key,
               key_cols=min(4, len(key)))
    ax = fr.body.subplots()
    shaded = panel.has_projections or proj is not None
    top_text = [_shade_projections(ax, panel.data, proj)] if shaded else []
    for rec in (marks.itertuples(index=False) if marks is not None else ()):
        ax.axvline(rec.year, color="#d0d0d0", lw=0.8, zorder=0.5, gid="mark")
    for iso in panel.have:
        draw_series(ax, panel.data[panel.data["iso3"] == iso], palette.style_of(iso, rows), gid=f"line-{iso}")
        if proj is not None and iso in set(proj.data["iso3"]):
            draw_projection(ax, proj.data[proj.data["iso3"] == iso], palette.style_of(iso, rows),
                            gid=f"line-{iso}-projection")
    if panel.has_aggregate:
        _draw_aggregate(ax, panel.agg)
    if proj is not None and not proj.agg.empty:
        _draw_projection_aggregate(ax, proj.agg)
    ax.set_ylabel(unit)
    ax.margins(x=0.01)
    items = _end_items(panel, rows, aggregate, proj)
    ghost = _reserve_right_margin(ax, items)
    band = draw_event_band(ax, chosen, [event_label(rec, names, panel.have) for rec in chosen.itertuples(index=False)],
                           obstacles=top_text)
    # The band's taller y range changes no margin (the ticks' widths at most, not the axes' height, which is
    # all the end labels' spacing reads), so the band's layout serves the end labels too.
    _end_labels(ax, items, laid_out=bool(band))
    ghost.remove()
    coverage = {"n": len(panel.have), "N": len(rows), "missing": panel.missing, "events": event_records(chosen)}
    plotted = panel.plotted if proj is None else concat([panel.plotted, proj.plotted])
    return finish(fr, kind="lines", title=title_or(title, ind), subtitle=subtitle, unit=unit, data=plotted,
                  footer_lines=footer, notes=notes, coverage=coverage, sources=sources, axes={"main": ax},
                  made_by=made_by)
