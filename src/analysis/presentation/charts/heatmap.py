"""Country × indicator grid of latest values, their years, or the years with data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

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

MODES = ("normalised", "latest_year", "coverage")
SUBTITLES = {
    "normalised": "Latest value in each cell; colour shows the position among the countries shown",
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


def _normalised(g: _Grid, inds: list[str], better: dict[str, str | None]) -> pd.DataFrame:
    """Position between the lowest and highest country per indicator, 1 = best where a direction is known."""
    lo, hi = g.val.min(), g.val.max()
    colour = (g.val - lo) / (hi - lo).replace(0, np.nan)
    for ind in inds:
        if better.get(ind) == "lower":
            colour[ind] = 1 - colour[ind]
    # A column with a single distinct value sits mid-scale.
    return colour.where(~(g.val.notna() & colour.isna()), 0.5)


def _colours(mode: str, g: _Grid, inds: list[str], better: dict, window: Window) -> tuple:
    """(colour matrix, cell texts, colour bar label) of a mode."""
    if mode == "normalised":
        return (_normalised(g, inds, better), _as_text(g.val, fmt),
                "Position among the countries shown: 0 = lowest (or worst), 1 = highest (or best)")
    if mode == "latest_year":
        return g.yrs.astype("float64"), _as_text(g.yrs, lambda v: str(int(v))), "Year of the latest value"
    label = "Number of years with data" + (f" in {window[0]}–{window[1]}" if window else "")
    return g.cnt.astype("float64"), _as_text(g.cnt, lambda v: str(int(v))), label


def _table(g: _Grid, rows: pd.DataFrame, iso_list: list[str], inds: list[str], colour: pd.DataFrame) -> pd.DataFrame:
    """The CSV: one row per cell (country × indicator), "no data" where the cell is empty."""
    long = []
    for iso in iso_list:
        for ind in inds:
            sel = g.latest[(g.latest["iso3"] == iso) & (g.latest["indicator_id"] == ind)]
            long.append(no_data_rows([iso], rows, ind, "").assign(role="no data") if sel.empty
                        else plotted_rows(sel, rows, role="cell"))
    plotted = concat(long)
    cells = list(zip(plotted["iso3"], plotted["indicator_id"]))
    plotted["colour_value"] = [colour.loc[i, k] for i, k in cells]
    plotted["years_with_data"] = [g.cnt.loc[i, k] if not pd.isna(g.cnt.loc[i, k]) else 0 for i, k in cells]
    return plotted


def _colour_range(mode: str, arr: np.ma.MaskedArray) -> tuple[float, float]:
    if mode == "normalised":
        return 0, 1
    return (np.nanmin(arr) if arr.count() else 0, np.nanmax(arr) if arr.count() else 1)


def _draw_cells(ax, cm: pd.DataFrame, vm: pd.DataFrame, tm: pd.DataFrame, iso_list: list[str], inds: list[str],
                cmap, vmin: float, vmax: float) -> None:
    """Text on every cell with data (dark or light for contrast), hatched grey where there is none."""
    for r, ind in enumerate(inds):
        for c, iso in enumerate(iso_list):
            if pd.isna(vm.iloc[r, c]) or pd.isna(cm.iloc[r, c]):
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="#f2f2f2", edgecolor="#c8c8c8",
                                       hatch="///", lw=0, gid=f"nodata-{iso}-{ind}"))
                continue
            rgba = cmap((cm.iloc[r, c] - vmin) / ((vmax - vmin) or 1))
            ax.text(c, r, tm.iloc[r, c], ha="center", va="center", fontsize=7.2,
                    color="white" if luminance(rgba) < 0.5 else "#111111")


def _label_axes(ax, rows: pd.DataFrame, iso_list: list[str], inds: list[str], labels: dict[str, str]) -> None:
    names = names_of(rows)
    ax.set_xticks(range(len(iso_list)), [names.get(i, i) for i in iso_list], rotation=40, ha="left",
                  rotation_mode="anchor", fontsize=7.8)
    style_tick_labels(ax.get_xticklabels(), iso_list, rows)
    n_asean = len(asean_members(rows))
    # A rule between the ASEAN members and the Plus Three comparators.
    if 0 < n_asean < len(iso_list):
        ax.axvline(n_asean - 0.5, color="#222222", lw=1.4)
    ax.set_yticks(range(len(inds)), ["\n".join(style.wrap(labels[i], 3.0, 7.6)[:2]) for i in inds], fontsize=7.6)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)


@in_style
def heatmap(
    data: pd.DataFrame, *, mode: str = "normalised", countries: Sequence[str] | None = None,
    indicator_labels: dict[str, str] | None = None, better: dict[str, str | None] | None = None,
    window: Window = None, title: str | None = None, subtitle: str | None = None, notes: Sequence[str] = (),
    made_by: str | None = None, width: float = DEFAULT_WIDTH,
) -> Chart:
    """Country × indicator grid of latest values.

    ``mode``: "normalised" (colour = position between the lowest and highest country per indicator,
    oriented so darker is better where the catalogue says which direction is better; the cell shows
    the value), "latest_year" (colour and text = the year of the latest value), or "coverage"
    (number of years with data in the window). Empty cells are hatched grey: no data.
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
    iso_list = rows["iso3"].tolist()
    g = _grid(d, iso_list, inds)
    colour_m, text_m, cbar_label = _colours(mode, g, inds, better or {}, window)
    plotted = _table(g, rows, iso_list, inds, colour_m)
    n_cells = int(g.val.notna().sum().sum())
    notes = [f"{n_cells} of {g.val.size} country × indicator cells with data" + window_text(window)
             + "; hatched grey = no data.", *notes]
    footer, sources = collect_footer(g.latest, notes)
    subtitle = subtitle if subtitle is not None else SUBTITLES[mode]
    # Rows = indicators (long titles read well on the left), columns = countries.
    cm, vm, tm = colour_m.T, g.val.T, text_m.T
    fr = frame(title or f"Heatmap ({mode})", subtitle, footer, body_height=0.3 * len(inds) + 1.6, width=width)
    ax = fr.body.subplots()
    ax.grid(False)
    cmap = mpl.colormaps["cividis" if mode != "normalised" else "YlGnBu"]
    arr = np.ma.masked_invalid(cm.to_numpy(dtype="float64"))
    vmin, vmax = _colour_range(mode, arr)
    im = ax.imshow(arr, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    _draw_cells(ax, cm, vm, tm, iso_list, inds, cmap, vmin, vmax)
    _label_axes(ax, rows, iso_list, inds, labels)
    cb = fr.body.colorbar(im, ax=ax, orientation="horizontal", fraction=0.04, pad=0.02, aspect=50)
    cb.set_label(cbar_label, fontsize=7.8)
    cb.ax.tick_params(labelsize=7.2)
    coverage = {"cells_with_data": n_cells, "cells": int(g.val.size), "mode": mode}
    return finish(fr, kind="heatmap", title=title or f"Heatmap ({mode})", subtitle=subtitle, unit="", data=plotted,
                  footer_lines=footer, notes=notes, coverage=coverage, sources=sources,
                  axes={"main": ax, "colorbar": cb.ax}, made_by=made_by)
