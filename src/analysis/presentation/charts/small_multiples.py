"""One small panel per country on a shared scale, each with the ASEAN statistic for reference."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
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
    lay_out,
    missing_note,
    names_of,
    title_or,
)
from analysis.presentation.charts.footer import events_lines, sources_used
from analysis.presentation.charts.series import (
    ProjectionPart,
    SeriesPanel,
    draw_event_tags,
    draw_projection,
    draw_series,
    event_records,
    event_who,
    projection_part,
    select_events,
    series_panel,
    tag_room,
)


def _aggregate_note(panel: SeriesPanel, aggregate: str | None) -> str:
    if not panel.has_aggregate:
        return ""
    return (f"Black line in every panel: ASEAN {STATISTICS[aggregate]} over members with data in each year "
            f"({panel.n_range()} of {len(panel.members)}).")


def _draw_panel(ax, iso: str, name: str, panel: SeriesPanel, rows: pd.DataFrame,
                proj: ProjectionPart | None = None) -> None:
    st = palette.style_of(iso, rows)
    if panel.has_aggregate:
        ax.plot(panel.agg["year"], panel.agg["value"], color=palette.AGGREGATE_COLOUR, lw=2.0, alpha=0.8, zorder=2)
    if proj is not None:
        if not proj.agg.empty:
            ax.plot(proj.agg["year"], proj.agg["value"], color=palette.AGGREGATE_COLOUR, lw=1.6, alpha=0.45,
                    ls=(0, (1, 1.2)), zorder=2)
        mine = proj.data[proj.data["iso3"] == iso]
        if not mine.empty:
            draw_projection(ax, mine, st, lw=2.0, gid=f"line-{iso}-projection")
    part = panel.data[panel.data["iso3"] == iso]
    if part.empty:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", fontsize=8.5,
                color=palette.NO_DATA_COLOUR, style="italic", gid=f"nodata-{iso}")
    else:
        draw_series(ax, part, st, lw=2.0, gid=f"line-{iso}")
    ax.set_title(name, fontsize=8.8, fontstyle="italic" if st["group"] == palette.PLUS_THREE else "normal",
                 color=st["colour"] if not part.empty else palette.NO_DATA_COLOUR, loc="left", pad=2)
    ax.tick_params(labelsize=7.2)


def _mark_events(panels: dict, chosen: pd.DataFrame, tags: list[str]) -> None:
    """Each panel's events, numbered; the shared y range first grows to leave the numbers a free row."""
    if chosen.empty:
        return
    first = next(iter(panels.values()))
    renderer = lay_out(first.get_figure(root=True))
    ymin, ymax = first.get_ylim()
    first.set_ylim(ymin, ymin + (ymax - ymin) / (1.0 - tag_room(first)))
    for iso, ax in panels.items():
        mine = [k for k, drawn in enumerate(chosen["drawn"]) if iso in drawn]
        draw_event_tags(ax, [float(chosen["decimal_year"].iloc[k]) for k in mine], [tags[k] for k in mine], renderer)


@in_style
def small_multiples(
    data: pd.DataFrame, *, countries: Sequence[str] | None = None, title: str | None = None,
    subtitle: str | None = None, unit: str | None = None, aggregate: str | None = "median", ncols: int = 5,
    start: int | None = None, end: int | None = None, notes: Sequence[str] = (), made_by: str | None = None,
    width: float = DEFAULT_WIDTH, events: pd.DataFrame | None = None, projection: pd.DataFrame | None = None,
    projection_label: str | None = None,
) -> Chart:
    """One small panel per country on a shared scale, each with the ASEAN aggregate for reference.

    ``projection``: a projection as its own series (see :func:`analysis.presentation.charts.lines`),
    drawn lighter after the estimates and not joined to them; say in ``notes`` how the two meet.

    ``events``: the frame of :func:`analysis.store.api.events`; each event about a country drawn (or
    all, WLD), affecting an area of the indicator and dated within the years drawn gets a number,
    drawn with a dashed vertical in the panels of the countries it concerns and named in the footer.
    """
    d = check_tidy(data, what="small_multiples")
    ind = one_indicator(d, "small_multiples")
    unit = unit_of(d, unit)
    rows = country_rows(countries)
    panel = series_panel(d, rows, ind, unit, aggregate, start, end, True)
    proj = projection_part(projection, rows, unit, aggregate, start, end, projection_label)
    notes = [f"{len(panel.have)} of {len(rows)} countries with data.", missing_note(panel.missing, rows),
             _aggregate_note(panel, aggregate), *notes]
    chosen = select_events(events, ind, panel.have, panel.data["year"])
    names = names_of(rows)
    tags = [str(k) for k in range(1, len(chosen) + 1)]
    who = [event_who(rec, names, panel.have) for rec in chosen.itertuples(index=False)]
    notes += events_lines(chosen, who, marks=tags)
    footer, sources = collect_footer(panel.data, notes, sources_used(proj.data) if proj is not None else None)
    subtitle = subtitle if subtitle is not None else unit
    n = len(rows)
    nrows = -(-n // ncols)
    extra = [Line2D([], [], color="#555555", ls=(0, (1, 1.6)), lw=1.6, alpha=0.6,
                    label="projection, not joined (lighter)")] if proj is not None else []
    key = key_handles(set(rows["group"]), aggregate_name(aggregate) if panel.has_aggregate else None, extra)
    fr = frame(title_or(title, ind), subtitle, footer, body_height=1.55 * nrows, width=width, key=key,
               key_cols=len(key))
    axs = np.atleast_1d(fr.body.subplots(nrows, ncols, sharex=True, sharey=True)).ravel()
    panels = {}
    for ax, iso in zip(axs, rows["iso3"]):
        _draw_panel(ax, iso, names.get(iso, iso), panel, rows, proj)
        panels[iso] = ax
    for ax in axs[n:]:
        ax.set_visible(False)
    _mark_events(panels, chosen, tags)
    coverage = {"n": len(panel.have), "N": len(rows), "missing": panel.missing, "events": event_records(chosen)}
    plotted = panel.plotted if proj is None else concat([panel.plotted, proj.plotted])
    return finish(fr, kind="small_multiples", title=title_or(title, ind), subtitle=subtitle, unit=unit,
                  data=plotted, footer_lines=footer, notes=notes, coverage=coverage, sources=sources,
                  axes=panels, made_by=made_by)
