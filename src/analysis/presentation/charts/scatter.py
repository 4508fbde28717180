"""Latest value of one indicator against another per country, every point labelled."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
from matplotlib.lines import Line2D

from analysis.presentation.charts import footer as footer_mod
from analysis.presentation.charts import palette
from analysis.presentation.charts.base import Chart, check_tidy, collect_footer, finish, frame, unit_of
from analysis.presentation.charts.common import (
    STATISTICS,
    Window,
    aggregate_latest,
    aggregate_rows,
    asean_members,
    concat,
    country_rows,
    in_style,
    latest_per_country,
    lay_out,
    missing_note,
    names_of,
    no_data_rows,
    period_of,
    plotted_rows,
    years_text,
)
from analysis.presentation.charts.layout import boxes_overlap

# Label offsets (points) tried in turn around each marker; the first one that overlaps nothing wins.
OFFSETS = ((6, 4), (6, -10), (-6, 4), (-6, -10), (0, 9), (0, -15), (12, -3), (-12, -3),
           (14, 12), (-14, 12), (14, -18), (-14, -18), (24, 4), (-24, 4), (0, 20), (0, -26))
_AGG_LINE = dict(color=palette.AGGREGATE_COLOUR, lw=1.4, ls=(0, (4, 2)))


def _marker_boxes(ax, points) -> list[tuple[float, float, float, float]]:
    boxes = []
    for _, x, y, _, _ in points:
        px, py = ax.transData.transform((x, y))
        boxes.append((px - 4, py - 4, px + 4, py + 4))
    return boxes


def _outside(box, ax_box) -> int:
    return (box[0] < ax_box.x0) + (box[2] > ax_box.x1) + (box[1] < ax_box.y0) + (box[3] > ax_box.y1)


def _place_one(ax, point, renderer, ax_box, placed: list, marker_boxes: list, fontsize: float) -> tuple:
    """The cheapest label position of one point: (cost, text, box, offset in pixels)."""
    name, x, y, colour, italic = point
    dpi = ax.get_figure(root=True).dpi
    best = None
    for dx, dy in OFFSETS:
        t = ax.annotate(name, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                        color=colour, ha="left" if dx > 0 else ("right" if dx < 0 else "center"), va="bottom",
                        fontstyle="italic" if italic else "normal")
        bb = t.get_window_extent(renderer)
        box = (bb.x0, bb.y0, bb.x1, bb.y1)
        cost = sum(boxes_overlap(box, p) for p in placed) + sum(boxes_overlap(box, m, 0) for m in marker_boxes)
        cost += _outside(box, ax_box) * 1e6
        if best is None or cost < best[0]:
            if best is not None:
                best[1].remove()
            best = (cost, t, box, (dx * dpi / 72.0, dy * dpi / 72.0))
        else:
            t.remove()
        if cost == 0:
            break
    return best


def _line_boxes(ax, ax_box, lines: Sequence[tuple[str, float]]) -> list[tuple[float, float, float, float]]:
    """Reference lines ("x" or "y", value) as thin boxes labels should stay off."""
    half = (_AGG_LINE["lw"] * ax.get_figure(root=True).dpi / 72.0) / 2 + 2
    boxes = []
    for axis, value in lines:
        px, py = ax.transData.transform((value, value))
        boxes.append((px - half, ax_box.y0, px + half, ax_box.y1) if axis == "x"
                     else (ax_box.x0, py - half, ax_box.x1, py + half))
    return boxes


def place_labels(ax, points: list[tuple[str, float, float, str, bool]], fontsize: float = 7.8,
                 lines: Sequence[tuple[str, float]] = ()) -> list:
    """Label points without overlapping each other, the markers or the reference ``lines`` ("x" or "y",
    value): try offsets, keep the first free one."""
    fig = ax.get_figure(root=True)
    renderer = lay_out(fig)
    fig.set_layout_engine("none")  # freeze the layout so display coordinates stay valid
    ax_box = ax.get_window_extent(renderer)
    marker_boxes = _marker_boxes(ax, points) + _line_boxes(ax, ax_box, lines)
    placed, texts = [], []
    for point in points:
        _, text, box, (dxp, dyp) = _place_one(ax, point, renderer, ax_box, placed, marker_boxes, fontsize)
        placed.append(box)
        texts.append(text)
        if abs(dxp) > 12 or abs(dyp) > 14:
            text.arrow_patch = None
    return texts


def _key(rows: pd.DataFrame, have: list[str], agg_label: str | None) -> list:
    handles = []
    groups = set(rows.loc[rows["iso3"].isin(have), "group"]) or {palette.ASEAN}
    if palette.ASEAN in groups:
        handles.append(Line2D([], [], marker="o", ls="none", color="#555555", label="ASEAN member (filled)"))
    if palette.PLUS_THREE in groups:
        handles.append(Line2D([], [], marker="o", ls="none", markerfacecolor="white", markeredgecolor="#555555",
                              markeredgewidth=1.6, label="Plus Three comparator (open)"))
    if agg_label:
        handles.append(Line2D([], [], **_AGG_LINE, label=agg_label))
    return handles


def _draw_points(ax, lx: pd.DataFrame, ly: pd.DataFrame, have: list[str], rows: pd.DataFrame) -> list:
    """Filled markers for ASEAN members, open ones for Plus Three; returns the points to label."""
    names = names_of(rows)
    points = []
    for iso in have:
        st = palette.style_of(iso, rows)
        hollow = st["group"] == palette.PLUS_THREE
        ax.plot([lx.loc[iso, "value"]], [ly.loc[iso, "value"]], marker="o", ls="none", markersize=7,
                color=st["colour"], markerfacecolor="white" if hollow else st["colour"], markeredgewidth=1.8,
                gid=f"point-{iso}", zorder=3)
        points.append((names.get(iso, iso), float(lx.loc[iso, "value"]), float(ly.loc[iso, "value"]), st["colour"],
                       hollow))
    return points


def _years_notes(lx: pd.DataFrame, ly: pd.DataFrame, have: list[str], x: str, y: str) -> list[str]:
    """The years behind each axis, said exactly (one year, or each year with its count)."""
    if not have:
        return []
    return [f"{axis} axis, {years_text(part.loc[have, 'year'], period_of(ind))}."
            for axis, part, ind in (("Horizontal", lx, x), ("Vertical", ly, y))]


@in_style
def scatter(
    data: pd.DataFrame, x: str, y: str, *, countries: Sequence[str] | None = None, title: str | None = None,
    subtitle: str | None = None, x_label: str | None = None, y_label: str | None = None, window: Window = None,
    aggregate: str | None = "median", notes: Sequence[str] = (), made_by: str | None = None, width: float = 8.5,
) -> Chart:
    """Latest value of ``y`` against latest value of ``x`` per country, every point labelled.

    The two latest years may differ per country; both are in the CSV. Dotted grey lines mark the
    ASEAN statistic on each axis.
    """
    d = check_tidy(data, what="scatter")
    rows = country_rows(countries)
    d = d[d["iso3"].isin(rows["iso3"])]
    lx = latest_per_country(d[d["indicator_id"] == x], window)
    ly = latest_per_country(d[d["indicator_id"] == y], window)
    have = [i for i in rows["iso3"] if i in lx.index and i in ly.index]
    missing = [i for i in rows["iso3"] if i not in have]
    members = asean_members(rows)
    ux, uy = unit_of(lx, None) if not lx.empty else "", unit_of(ly, None) if not ly.empty else ""
    plotted = concat([
        plotted_rows(lx.loc[have].reset_index(drop=True), rows, axis="x"),
        plotted_rows(ly.loc[have].reset_index(drop=True), rows, axis="y"),
        no_data_rows(missing, rows, x, ux).assign(axis="x"), no_data_rows(missing, rows, y, uy).assign(axis="y"),
    ])
    notes = [footer_mod.coverage_note(len(have), len(rows), window, qualifier=" for both indicators"),
             *_years_notes(lx, ly, have, x, y), missing_note(missing, rows), *notes]
    footer, sources = collect_footer(concat([lx.loc[have], ly.loc[have]]) if have else None, notes)
    subtitle = subtitle if subtitle is not None else "Latest available year of each indicator"
    both = [m for m in members if m in have]
    agg_x = aggregate_latest(lx.loc[have], both, aggregate) if aggregate and have else (math.nan, 0, 0)
    agg_y = aggregate_latest(ly.loc[have], both, aggregate) if aggregate and have else (math.nan, 0, 0)
    agg_label = None
    if aggregate and agg_x[1]:
        agg_label = f"ASEAN {STATISTICS[aggregate]} of each axis ({agg_x[1]} of {len(members)} members)"
        plotted = concat([plotted, aggregate_rows(aggregate, [x, y], years=[pd.NA, pd.NA], values=[agg_x[0], agg_y[0]],
                                                  unit=[ux, uy], projection=[pd.NA, pd.NA], axis=["x", "y"],
                                                  n=agg_x[1], total=len(members))])
    handles = _key(rows, have, agg_label)
    fr = frame(title or f"{y} vs {x}", subtitle, footer, body_height=5.2, width=width, key=handles,
               key_cols=len(handles))
    ax = fr.body.subplots()
    if agg_label:
        ax.axvline(agg_x[0], **_AGG_LINE, alpha=0.8, zorder=1, gid="aggregate-x")
        ax.axhline(agg_y[0], **_AGG_LINE, alpha=0.8, zorder=1, gid="aggregate-y")
    points = _draw_points(ax, lx, ly, have, rows)
    ax.set_xlabel(x_label or (f"{x} ({ux})" if ux else x))
    ax.set_ylabel(y_label or (f"{y} ({uy})" if uy else y))
    ax.margins(0.12)
    place_labels(ax, points, lines=[("x", agg_x[0]), ("y", agg_y[0])] if agg_label else ())
    coverage = {"n": len(have), "N": len(rows), "missing": missing}
    return finish(fr, kind="scatter", title=title or f"{y} vs {x}", subtitle=subtitle, unit=f"{ux} / {uy}",
                  data=plotted, footer_lines=footer, notes=notes, coverage=coverage, sources=sources,
                  axes={"main": ax}, made_by=made_by)
