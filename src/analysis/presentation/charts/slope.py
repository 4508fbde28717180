"""Each country's value in two years joined by a line (slope chart), with the ASEAN statistic."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.presentation.charts import palette
from analysis.presentation.charts.base import (
    Chart,
    ChartDataError,
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
    aggregate_latest,
    aggregate_name,
    aggregate_rows,
    asean_members,
    concat,
    country_rows,
    in_style,
    label_height,
    missing_note,
    names_of,
    no_data_rows,
    plotted_rows,
    title_or,
)
from analysis.presentation.charts.layout import fmt, repel_1d
from analysis.store import api

LABEL_SIZE = 7.8
# x position, alignment and role of the labels at each end of the slopes
_SIDES = (("start", -0.04, "right"), ("end", 1.04, "left"))


def nearest_values(d: pd.DataFrame, year: int, tolerance: int) -> pd.DataFrame:
    """Each country's value in ``year`` or the nearest year within ``tolerance``, indexed by iso3.

    The API's one rule (``api.nearest_year``): ties go to the earlier year. The chosen year's
    distance from ``year`` is in ``offset``.
    """
    parts = [api.nearest_year(part, year, tolerance).head(1) for _, part in d.groupby("iso3", sort=True)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return d.iloc[:0].assign(offset=pd.Series(dtype="int64")).set_index("iso3", drop=False)
    return pd.concat(parts).set_index("iso3", drop=False)


def _aggregates(ends: dict[str, pd.DataFrame], have: list[str], members: list[str], statistic: str) -> dict:
    """(value, n, N) of the statistic at each end, over the countries drawn."""
    return {side: aggregate_latest(end.loc[have] if have else end.iloc[:0], members, statistic)
            for side, end in ends.items()}


def _table(ends: dict[str, pd.DataFrame], targets: dict[str, int], have: list[str], missing: list[str],
           rows: pd.DataFrame, ind: str, unit: str, aggregate: str | None, aggs: dict) -> pd.DataFrame:
    """The CSV: both ends of every slope (with the year aimed at), "no data" rows, the statistic."""
    parts = [plotted_rows(ends[side].loc[have].reset_index(drop=True), rows, role=side, target_year=targets[side])
             for side in ("start", "end")]
    parts.append(no_data_rows(missing, rows, ind, unit).assign(role="no data"))
    if aggregate and aggs["start"][1]:
        parts.append(aggregate_rows(
            aggregate, ind, years=[targets["start"], targets["end"]], values=[aggs["start"][0], aggs["end"][0]],
            unit=unit, projection=[False, False], n=[aggs["start"][1], aggs["end"][1]], total=aggs["start"][2],
            role=f"aggregate: {STATISTICS[aggregate]}"))
    return concat(parts)


def _draw_slopes(ax, ends: dict[str, pd.DataFrame], have: list[str], rows: pd.DataFrame, aggs: dict | None) -> None:
    for iso in have:
        st = palette.style_of(iso, rows)
        ax.plot([0, 1], [ends["start"].loc[iso, "value"], ends["end"].loc[iso, "value"]], color=st["colour"],
                ls=st["linestyle"], lw=1.8, marker="o", markersize=4, gid=f"slope-{iso}")
    if aggs:
        ax.plot([0, 1], [aggs["start"][0], aggs["end"][0]], color=palette.AGGREGATE_COLOUR,
                lw=palette.AGGREGATE_LINEWIDTH, marker="o", zorder=5, gid="aggregate")


def _label_side(ax, items: list, side: str, x: float, ha: str, end: pd.DataFrame, agg_value: float | None,
                gap: float, tolerance: int) -> None:
    """Name and value of every slope at one end, spread so they do not overlap; years off target shown."""
    ymin, ymax = sorted(ax.get_ylim())
    vals = [float(end.loc[iso, "value"]) if iso != "ASEAN" else agg_value for iso, *_ in items]
    for (iso, name, colour, bold), v, yy in zip(items, vals, repel_1d(vals, gap, ymin, ymax)):
        off = ""
        if tolerance and iso != "ASEAN" and int(end.loc[iso, "offset"]) != 0:
            off = f" ({int(end.loc[iso, 'year'])})"
        text = f"{name} {fmt(v)}{off}" if side == "start" else f"{fmt(v)}{off} {name}"
        ax.text(x, yy, text, ha=ha, va="center", fontsize=LABEL_SIZE, color=colour,
                fontweight="bold" if bold else "normal")


def _label_ends(ax, ends: dict[str, pd.DataFrame], have: list[str], rows: pd.DataFrame, aggregate: str | None,
                aggs: dict | None, tolerance: int) -> None:
    names = names_of(rows)
    gap = label_height(ax, LABEL_SIZE)
    items = [(iso, names.get(iso, iso), palette.style_of(iso, rows)["colour"], False) for iso in have]
    if aggs:
        items.append(("ASEAN", aggregate_name(aggregate), palette.AGGREGATE_COLOUR, True))
    for side, x, ha in _SIDES:
        _label_side(ax, items, side, x, ha, ends[side], aggs[side][0] if aggs else None, gap, tolerance)


def _set_years(ax, year_from: int, year_to: int) -> None:
    ax.set_xlim(-0.75, 1.75)
    ax.set_xticks([0, 1], [str(year_from), str(year_to)], fontsize=10, fontweight="bold")
    ax.set_yticks([])
    ax.tick_params(axis="x", length=0, pad=8)
    ax.margins(y=0.07)


@in_style
def slope(
    data: pd.DataFrame, year_from: int, year_to: int | None = None, *, countries: Sequence[str] | None = None,
    title: str | None = None, subtitle: str | None = None, unit: str | None = None, aggregate: str | None = "median",
    tolerance: int = 0, notes: Sequence[str] = (), made_by: str | None = None, width: float = 8.0,
) -> Chart:
    """Each country's value in ``year_from`` and ``year_to`` (default: latest estimate), joined by a line.

    ``tolerance``: accept the nearest year within this many years of each end (``api.nearest_year``:
    ties go to the earlier year; the year used is in the CSV). Countries missing either end are
    listed as "no data".
    """
    d = check_tidy(data, what="slope")
    ind = one_indicator(d, "slope")
    unit = unit_of(d, unit)
    rows = country_rows(countries)
    d = d[d["iso3"].isin(rows["iso3"]) & d["value"].notna() & ~d["projection"]]
    if year_to is None:
        if d.empty:
            raise ChartDataError(f"slope: no data for {ind}")
        year_to = int(d["year"].max())
    targets = {"start": year_from, "end": year_to}
    ends = {side: nearest_values(d, year, tolerance) for side, year in targets.items()}
    have = [i for i in rows["iso3"] if i in ends["start"].index and i in ends["end"].index]
    missing = [i for i in rows["iso3"] if i not in have]
    members = asean_members(rows)
    aggs = _aggregates(ends, have, members, aggregate) if aggregate else {}
    plotted = _table(ends, targets, have, missing, rows, ind, unit, aggregate, aggs)
    tol = f" (or nearest year within ±{tolerance})" if tolerance else ""
    notes = [f"{len(have)} of {len(rows)} countries with data in both {year_from} and {year_to}{tol}.",
             missing_note(missing, rows), *notes]
    footer, sources = collect_footer(concat([ends["start"].loc[have], ends["end"].loc[have]]) if have else None,
                                     notes)
    subtitle = subtitle if subtitle is not None else f"{unit}; {year_from} and {year_to}"
    drawn_aggs = aggs if aggregate and aggs["start"][1] else None
    agg_label = (f"ASEAN {STATISTICS[aggregate]} ({aggs['start'][1]} of {len(members)} members)"
                 if drawn_aggs else None)
    key = key_handles(set(rows["group"]), agg_label)
    fr = frame(title_or(title, ind), subtitle, footer, body_height=5.2, width=width, key=key, key_cols=len(key))
    ax = fr.body.subplots()
    ax.grid(False)
    ax.spines[["left", "bottom"]].set_visible(False)
    _draw_slopes(ax, ends, have, rows, drawn_aggs)
    _set_years(ax, year_from, year_to)
    _label_ends(ax, ends, have, rows, aggregate, drawn_aggs, tolerance)
    coverage = {"n": len(have), "N": len(rows), "missing": missing}
    return finish(fr, kind="slope", title=title_or(title, ind), subtitle=subtitle, unit=unit, data=plotted,
                  footer_lines=footer, notes=notes, coverage=coverage, sources=sources, axes={"main": ax},
                  made_by=made_by)
