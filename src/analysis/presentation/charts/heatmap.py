"""Country × indicator grid of latest values, their years, or the years with data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from analysis.core import settings
from analysis.presentation.charts import style
from analysis.presentation.charts.base import (
    DEFAULT_WIDTH,
    Chart,
    ChartDataError,
    check_tidy,
    collect_footer,
    finish,
    frame,
)
from analysis.presentation.charts.common import (
    Window,
    aggregate_rows,
    asean_members,
    concat,
    country_rows,
    in_style,
    luminance,
    names_of,
    no_data_rows,
    plotted_rows,
    style_tick_labels,
    window_text,
)
from analysis.presentation.charts.layout import fmt
from analysis.store import api

MODES = ("normalised", "latest_year", "coverage")
#: the iso3 of the ASEAN median column (as in the CSV of every group statistic)
MEDIAN_COLUMN = "ASEAN"
NEUTRAL_EDGE = "#8F8F8F"
ROW_LABEL_WIDTH, ROW_LABEL_SIZE = 3.6, 7.4
SUBTITLES = {
    "normalised": "Latest value in each cell; colour shows the position among the countries shown, from worst to "
                  "best (rows with no better or worse direction: values only)",
    "latest_year": "Year of the latest available value",
    "coverage": "Years with data per country and indicator",
}


@dataclass
class _Grid:
    """Country × indicator matrices: latest value, its year, years with data; and the latest rows."""

    latest: pd.DataFrame
    val: pd.DataFrame
    yrs: pd.DataFrame
    cnt: pd.DataFrame


def _grid(d: pd.DataFrame, iso_list: list[str], inds: list[str]) -> _Grid:
    latest = d.sort_values("year").groupby(["iso3", "indicator_id"]).tail(1)
    counts = d.groupby(["iso3", "indicator_id"]).size()
    val = latest.pivot(index="iso3", columns="indicator_id", values="value").reindex(index=iso_list, columns=inds)
    yrs = latest.pivot(index="iso3", columns="indicator_id", values="year").reindex(index=iso_list, columns=inds)
    cnt = counts.unstack().reindex(index=iso_list, columns=inds) if not counts.empty else val * np.nan
    return _Grid(latest=latest, val=val, yrs=yrs, cnt=cnt)


def _as_text(m: pd.DataFrame, to_text) -> pd.DataFrame:
    return m.map(lambda v: "" if pd.isna(v) else to_text(v))


def _directional(better: dict[str, str | None], inds: list[str]) -> list[str]:
    """The indicators with a better direction; the others (neutral, unknown) get no colour scale."""
    return [i for i in inds if better.get(i) in ("higher", "lower")]


def _normalised(g: _Grid, inds: list[str], better: dict[str, str | None],
                median: pd.Series | None = None) -> pd.DataFrame:
    """Position between the lowest and highest country per indicator, 1 = best; NaN for rows without a
    direction (no better/worse scale). ``median``: an ASEAN median column placed on the same scale."""
    val = g.val if median is None else pd.concat([g.val, median.to_frame(MEDIAN_COLUMN).T])
    lo, hi = g.val.min(), g.val.max()
    colour = (val - lo) / (hi - lo).replace(0, np.nan)
    for ind in inds:
        if better.get(ind) == "lower":
            colour[ind] = 1 - colour[ind]
    # A column with a single distinct value sits mid-scale.
    colour = colour.where(~(val.notna() & colour.isna()), 0.5)
    neutral = [i for i in inds if i not in _directional(better, inds)]
    colour[neutral] = np.nan
    return colour


def _colours(mode: str, g: _Grid, inds: list[str], better: dict, window: Window,
             median: pd.Series | None = None) -> tuple:
    """(colour matrix, cell texts, colour bar label) of a mode."""
    if mode == "normalised":
        values = g.val if median is None else pd.concat([g.val, median.to_frame(MEDIAN_COLUMN).T])
        return (_normalised(g, inds, better, median), _as_text(values, fmt),
                "Position among the countries shown: 0 = worst, 1 = best (rows with a better direction only)")
    if mode == "latest_year":
        return g.yrs.astype("float64"), _as_text(g.yrs, lambda v: str(int(v))), "Year of the latest value"
    label = "Number of years with data" + (f" in {window[0]}–{window[1]}" if window else "")
    return g.cnt.astype("float64"), _as_text(g.cnt, lambda v: str(int(v))), label


def _table(g: _Grid, rows: pd.DataFrame, iso_list: list[str], inds: list[str], colour: pd.DataFrame) -> pd.DataFrame:
    """The CSV: one row per cell (country × indicator, countries first), "no data" where the cell is empty.

    Built as two frames (cells with a value, empty cells) put in cell order, not as one frame per cell:
    the per-cell frames were most of a heatmap's drawing time."""
    found = _cells(g.latest, iso_list, inds)
    filled = found["_row"].notna().to_numpy(dtype=bool)
    cells = plotted_rows(g.latest.iloc[found.loc[filled, "_row"].astype("int64").to_numpy()], rows, role="cell")
    empty = found.loc[~filled]
    gaps = no_data_rows(empty["iso3"].tolist(), rows, empty["indicator_id"].tolist(), "").assign(role="no data")
    plotted = concat([cells, gaps])
    if plotted.empty:
        return plotted
    order = np.argsort(np.r_[found.loc[filled, "_cell"].to_numpy(), empty["_cell"].to_numpy()], kind="stable")
    plotted = plotted.iloc[order].reset_index(drop=True)
    plotted["colour_value"] = _lookup(colour, plotted)
    plotted["years_with_data"] = [c if not pd.isna(c) else 0 for c in _lookup(g.cnt, plotted)]
    return plotted


def _cells(latest: pd.DataFrame, iso_list: list[str], inds: list[str]) -> pd.DataFrame:
    """Every cell in the CSV's order (``_cell``) with the position of its row in ``latest`` (``_row``; NaN:
    no value)."""
    grid = pd.DataFrame({"iso3": np.repeat(np.asarray(iso_list, dtype=object), len(inds)),
                         "indicator_id": np.tile(np.asarray(inds, dtype=object), len(iso_list))}).astype("string")
    keys = latest.loc[:, ["iso3", "indicator_id"]].astype("string").assign(_row=np.arange(len(latest)))
    return grid.assign(_cell=np.arange(len(grid))).merge(keys, on=["iso3", "indicator_id"], how="left")


def _lookup(matrix: pd.DataFrame, cells: pd.DataFrame) -> list:
    """The matrix entry of each cell (row: its country, column: its indicator) as ``matrix.loc`` gives it:
    a scalar of its column's dtype."""
    rows = matrix.index.get_indexer(cells["iso3"])
    cols = matrix.columns.get_indexer(cells["indicator_id"])
    out = np.empty(len(cells), dtype=object)
    for col in np.unique(cols):
        hit = cols == col
        out[hit] = list(matrix.iloc[:, col].to_numpy()[rows[hit]])
    return list(out)


@dataclass
class _Median:
    """The ASEAN median column: one value per indicator (NaN below the coverage rule), n of N members."""

    value: pd.Series
    n: pd.Series
    total: int


def _median_column(g: _Grid, rows: pd.DataFrame, inds: list[str]) -> _Median:
    """Median of the ASEAN members' latest values per indicator, by the API's aggregation rule (one call for
    every indicator, each member's value from its own year); blank where fewer members report than the
    project's minimum coverage."""
    members = asean_members(rows)
    value = g.val.reindex(columns=inds).to_numpy(dtype="float64")
    has = ~np.isnan(value) & g.yrs.reindex(columns=inds).notna().to_numpy(dtype=bool)
    has &= g.val.index.isin(members)[:, None]
    at, of = np.nonzero(has)
    # One pseudo-year: the statistic is taken across the members' latest values, whatever their years.
    flat = pd.DataFrame({"iso3": g.val.index[at].astype("string"), "indicator_id": pd.array(np.asarray(inds)[of],
                                                                                          dtype="string"),
                         "year": 0, "value": value[at, of]})
    agg = api.aggregate_members(flat, members, min_coverage=0.0).set_index("indicator_id")
    counts = agg["n"].reindex(inds).fillna(0).astype("int64")
    medians = agg["median"].reindex(inds).astype("float64")
    enough = counts >= settings.MIN_COVERAGE * len(members) if members else pd.Series(False, index=counts.index)
    return _Median(value=medians.where(enough), n=counts, total=len(members))


def _median_rows(med: _Median, inds: list[str], units: dict[str, str], colour: pd.DataFrame) -> pd.DataFrame:
    out = aggregate_rows("median", inds, years=[pd.NA] * len(inds), values=med.value.reindex(inds).to_numpy(),
                         unit=[units.get(i, "") for i in inds], projection=[pd.NA] * len(inds),
                         n=med.n.reindex(inds).to_numpy(), total=med.total, role="aggregate: median")
    out["colour_value"] = [colour.loc[MEDIAN_COLUMN, i] for i in inds]
    return out


def _colour_range(mode: str, arr: np.ma.MaskedArray) -> tuple[float, float]:
    if mode == "normalised":
        return 0, 1
    return (np.nanmin(arr) if arr.count() else 0, np.nanmax(arr) if arr.count() else 1)


def _draw_cells(ax, cm: pd.DataFrame, vm: pd.DataFrame, tm: pd.DataFrame, cols: list[str], inds: list[str],
                cmap, vmin: float, vmax: float) -> None:
    """Text on every cell with data (dark or light for contrast), hatched grey where there is none; cells of
    rows without a colour scale (neutral) are outlined and show the value only."""
    colours, values, texts = cm.to_numpy(dtype="float64"), vm.to_numpy(dtype="float64"), tm.to_numpy()
    for r, ind in enumerate(inds):
        for c, iso in enumerate(cols):
            if np.isnan(values[r, c]):
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="#f2f2f2", edgecolor="#c8c8c8",
                                       hatch="///", lw=0, gid=f"nodata-{iso}-{ind}", in_layout=False))
                continue
            if np.isnan(colours[r, c]):
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="white", edgecolor=NEUTRAL_EDGE, lw=0.6,
                                       gid=f"neutral-{iso}-{ind}", in_layout=False))
                colour = "#111111"
            else:
                rgba = cmap((colours[r, c] - vmin) / ((vmax - vmin) or 1))
                colour = "white" if luminance(rgba) < 0.5 else "#111111"
            # inside its cell, so the layout need not measure it (hundreds of texts; the layout check still does)
            ax.text(c, r, texts[r, c], ha="center", va="center", fontsize=7.2, color=colour,
                    fontweight="bold" if iso == MEDIAN_COLUMN else "normal", in_layout=False)


def _row_label(label: str, unit: str) -> str:
    text = f"{label} ({unit})" if unit else label
    return "\n".join(style.wrap(text, ROW_LABEL_WIDTH, ROW_LABEL_SIZE))


def _label_axes(ax, rows: pd.DataFrame, cols: list[str], inds: list[str], labels: dict[str, str],
                units: dict[str, str]) -> None:
    names = names_of(rows) | {MEDIAN_COLUMN: "ASEAN median"}
    ax.set_xticks(range(len(cols)), [names.get(i, i) for i in cols], rotation=40, ha="left",
                  rotation_mode="anchor", fontsize=7.8)
    style_tick_labels(ax.get_xticklabels(), cols, rows)
    n_asean = len(asean_members(rows))
    # Rules between the ASEAN members, the Plus Three comparators and the ASEAN median.
    if 0 < n_asean < len(rows):
        ax.axvline(n_asean - 0.5, color="#222222", lw=1.4)
    if MEDIAN_COLUMN in cols:
        ax.axvline(cols.index(MEDIAN_COLUMN) - 0.5, color="#222222", lw=1.4)
        ax.get_xticklabels()[cols.index(MEDIAN_COLUMN)].set_fontweight("bold")
    ax.set_yticks(range(len(inds)), [_row_label(labels[i], units.get(i, "")) for i in inds], fontsize=ROW_LABEL_SIZE)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)


def _units(d: pd.DataFrame, inds: list[str]) -> dict[str, str]:
    """Each indicator's unit, from the plotted rows (the store carries it)."""
    out = {}
    for ind in inds:
        units = d.loc[d["indicator_id"] == ind, "unit"].dropna().astype(str).unique().tolist()
        out[ind] = units[0] if len(units) == 1 else ""
    return out


def _notes(mode: str, g: _Grid, window: Window, med: _Median | None, n_neutral: int, notes: Sequence[str]) -> list:
    n_cells = int(g.val.notna().sum().sum())
    out = [f"{n_cells} of {g.val.size} country × indicator cells with data" + window_text(window)
           + "; hatched grey = no data."]
    if med is not None:
        out.append(f"ASEAN median: median of the {med.total} ASEAN members' latest values, each from its own year; "
                   f"left blank where fewer than {settings.MIN_COVERAGE:.0%} of the members report.")
    if mode == "normalised" and n_neutral:
        out.append(f"{n_neutral} outlined rows have no better or worse direction: values only, no colour scale.")
    return [*out, *notes]


@in_style
def heatmap(
    data: pd.DataFrame, *, mode: str = "normalised", countries: Sequence[str] | None = None,
    indicator_labels: dict[str, str] | None = None, better: dict[str, str | None] | None = None,
    window: Window = None, title: str | None = None, subtitle: str | None = None, notes: Sequence[str] = (),
    made_by: str | None = None, width: float = DEFAULT_WIDTH,
) -> Chart:
    """Country × indicator grid of latest values.

    ``mode``: "normalised" (colour = position between the lowest and highest country per indicator,
    oriented so darker is better where the catalogue says which direction is better; rows without a
    direction are outlined and show values only; units in the row labels and an ASEAN median column),
    "latest_year" (colour and text = the year of the latest value), or "coverage" (number of years with
    data in the window). Empty cells are hatched grey: no data.
    """
    if mode not in MODES:
        raise ChartDataError(f"heatmap: mode must be normalised, latest_year or coverage, got {mode!r}")
    d = check_tidy(data, what="heatmap")
    rows = country_rows(countries)
    d = d[d["iso3"].isin(rows["iso3"]) & d["value"].notna() & ~d["projection"]]
    if window:
        d = d[(d["year"] >= window[0]) & (d["year"] <= window[1])]
    inds = list(dict.fromkeys(indicator_labels.keys())) if indicator_labels else sorted(d["indicator_id"].unique())
    labels = indicator_labels or {i: i for i in inds}
    better = better or {}
    iso_list = rows["iso3"].tolist()
    g = _grid(d, iso_list, inds)
    values_mode = mode == "normalised"
    med = _median_column(g, rows, inds) if values_mode else None
    units = _units(d, inds) if values_mode else {}
    colour_m, text_m, cbar_label = _colours(mode, g, inds, better, window, med.value if med else None)
    plotted = _table(g, rows, iso_list, inds, colour_m)
    if med is not None:
        plotted = concat([plotted, _median_rows(med, inds, units, colour_m)])
    n_neutral = len(inds) - len(_directional(better, inds))
    notes = _notes(mode, g, window, med, n_neutral, notes)
    footer, sources = collect_footer(g.latest, notes)
    subtitle = subtitle if subtitle is not None else SUBTITLES[mode]
    cols = iso_list + ([MEDIAN_COLUMN] if med is not None else [])
    # Rows = indicators (long titles read well on the left), columns = countries.
    cm, tm = colour_m.T.reindex(columns=cols), text_m.T.reindex(columns=cols)
    vm = (pd.concat([g.val, med.value.to_frame(MEDIAN_COLUMN).T]) if med is not None else g.val).T
    fr = frame(title or f"Heatmap ({mode})", subtitle, footer, body_height=0.3 * len(inds) + 1.6, width=width)
    ax = fr.body.subplots()
    ax.grid(False)
    cmap = mpl.colormaps["cividis" if mode != "normalised" else "YlGnBu"]
    arr = np.ma.masked_invalid(cm.to_numpy(dtype="float64"))
    vmin, vmax = _colour_range(mode, arr)
    im = ax.imshow(arr, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    _draw_cells(ax, cm, vm.reindex(columns=cols), tm, cols, inds, cmap, vmin, vmax)
    _label_axes(ax, rows, cols, inds, labels, units)
    cb = fr.body.colorbar(im, ax=ax, orientation="horizontal", fraction=0.04, pad=0.02, aspect=50)
    cb.set_label(cbar_label, fontsize=7.8)
    cb.ax.tick_params(labelsize=7.2)
    coverage = {"cells_with_data": int(g.val.notna().sum().sum()), "cells": int(g.val.size), "mode": mode,
                "neutral_rows": [i for i in inds if i not in _directional(better, inds)] if values_mode else []}
    return finish(fr, kind="heatmap", title=title or f"Heatmap ({mode})", subtitle=subtitle, unit="", data=plotted,
                  footer_lines=footer, notes=notes, coverage=coverage, sources=sources,
                  axes={"main": ax, "colorbar": cb.ax}, made_by=made_by)
