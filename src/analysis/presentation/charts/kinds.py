"""Chart kinds. Each takes tidy data (the store's long format) and returns a ``Chart``.

Long format: iso3, year, indicator_id, value, unit, source_id, vintage, projection. Countries
default to the 14 focus countries; a country without data is shown ("no data"), never left out.
Group aggregates are computed over the ASEAN members drawn and labelled with the statistic and
"n of N".
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence

import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from analysis.presentation.charts import footer as footer_mod
from analysis.presentation.charts import palette, style
from analysis.presentation.charts.base import (
    DEFAULT_WIDTH,
    Chart,
    ChartDataError,
    bar_key_handles,
    check_tidy,
    collect_footer,
    finish,
    frame,
    freeze_layout,
    key_handles,
    one_indicator,
    unit_of,
)
from analysis.presentation.charts.layout import boxes_overlap, fmt, repel_1d
from analysis.store import api

Window = tuple[int, int] | None


def _in_style(func):
    """Draw inside the packaged style: text and line properties are fixed when artists are created."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with style.styled():
            return func(*args, **kwargs)
    return wrapper
# The two group statistics of the project (see analysis.api.compute_aggregates), drawn alike everywhere.
STATISTICS = {"median": "median", "weighted_mean": "population-weighted mean"}


# ----------------------------------------------------------------------------- shared helpers
def _country_rows(countries: Sequence[str] | None) -> pd.DataFrame:
    """Drawing attributes for the requested countries (default: the focus set), in drawing order."""
    table = palette.country_table()
    if countries is None:
        return table
    rows = [palette.style_of(c, table) for c in countries]
    return pd.DataFrame(rows)


def _latest(data: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Latest non-projected value per country (within the window when given)."""
    d = data[data["value"].notna() & ~data["projection"]]
    if window:
        d = d[(d["year"] >= window[0]) & (d["year"] <= window[1])]
    if d.empty:
        return d
    d = d.sort_values(["iso3", "year"])
    return d.groupby("iso3", sort=False).tail(1).set_index("iso3", drop=False)


def _headline_year(years: pd.Series) -> int | None:
    """The year most values refer to (ties: the later year)."""
    if years.empty:
        return None
    counts = years.astype(int).value_counts()
    best = counts.max()
    return int(max(y for y, c in counts.items() if c == best))


def _check_statistic(statistic: str) -> None:
    if statistic not in STATISTICS:
        raise ChartDataError(f"aggregate must be one of {sorted(STATISTICS)} or None, got {statistic!r}")


def _aggregate(latest: pd.DataFrame, members: list[str], statistic: str) -> tuple[float, int, int]:
    """Statistic over the ASEAN members' latest values (each from its own year): (value, n, N)."""
    _check_statistic(statistic)
    part = latest.loc[:, ["year", "value"]].rename_axis("iso3").reset_index()
    part = part.loc[part["iso3"].isin(members) & part["value"].notna()]
    if part.empty:
        return math.nan, 0, len(members)
    # One pseudo-year: the statistic is taken across the members' latest values, whatever their years.
    flat = part.assign(year=0, indicator_id="latest")
    weights = None
    if statistic == "weighted_mean":
        weights = api.population_weights(members).merge(part.loc[:, ["iso3", "year"]], on=["iso3", "year"])
        weights = weights.assign(year=0)
    agg = api.aggregate_members(flat, members, min_coverage=0.0, weights=weights)
    value_col, n_col = ("median", "n") if statistic == "median" else ("weighted_mean", "n_weighted")
    return float(agg[value_col].iloc[0]), int(agg[n_col].iloc[0]), len(members)


def _aggregate_label(statistic: str, n: int, total: int, of: str = "values") -> str:
    return f"ASEAN {STATISTICS[statistic]} of {of} ({n} of {total} members)"


def _asean_members(rows: pd.DataFrame) -> list[str]:
    return rows.loc[rows["group"] == palette.ASEAN, "iso3"].tolist()


def _names(rows: pd.DataFrame) -> dict[str, str]:
    return dict(zip(rows["iso3"], rows["name"]))


def _title(title: str | None, indicator_id: str) -> str:
    return title or indicator_id


def _plotted_rows(src: pd.DataFrame, rows: pd.DataFrame, **extra) -> pd.DataFrame:
    """The CSV shape: country iso3 + name + group, indicator, year, value, unit, source, vintage."""
    names, groups = _names(rows), dict(zip(rows["iso3"], rows["group"]))
    out = pd.DataFrame({
        "iso3": src["iso3"].astype("string").to_numpy(),
        "country": [names.get(i, i) for i in src["iso3"]],
        "group": [groups.get(i, "other") for i in src["iso3"]],
        "indicator_id": src["indicator_id"].astype("string").to_numpy(),
        "year": src["year"].astype("Int64").to_numpy(),
        "value": src["value"].astype("float64").to_numpy(),
        "unit": src["unit"].astype("string").to_numpy(),
        "source_id": src["source_id"].astype("string").to_numpy(),
        "vintage": src["vintage"].astype("string").to_numpy(),
        "projection": src["projection"].astype("boolean").to_numpy() if "projection" in src else pd.NA,
    })
    for k, v in extra.items():
        out[k] = v
    return out


def _no_data_rows(missing: list[str], rows: pd.DataFrame, indicator_id: str, unit: str) -> pd.DataFrame:
    names, groups = _names(rows), dict(zip(rows["iso3"], rows["group"]))
    return pd.DataFrame({
        "iso3": pd.array(missing, dtype="string"), "country": [names.get(i, i) for i in missing],
        "group": [groups.get(i, "other") for i in missing], "indicator_id": indicator_id,
        "year": pd.array([pd.NA] * len(missing), dtype="Int64"), "value": np.nan, "unit": unit,
        "source_id": pd.NA, "vintage": pd.NA, "projection": pd.array([pd.NA] * len(missing), dtype="boolean"),
    })


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def _missing_note(missing: list[str], rows: pd.DataFrame) -> str:
    if not missing:
        return ""
    names = _names(rows)
    text = "No data: " + ", ".join(names.get(i, i) for i in missing)
    return text if text.endswith(".") else text + "."


def _label_height(ax, fontsize: float) -> float:
    """Height of one text line in the axes' y data units (after layout)."""
    fig = ax.get_figure(root=True)
    fig.canvas.draw()
    h_px = ax.get_window_extent().height
    ymin, ymax = ax.get_ylim()
    line_px = fontsize * 1.3 / 72.0 * fig.dpi
    return abs(ymax - ymin) * line_px / max(h_px, 1.0)


# ----------------------------------------------------------------------------- ranked bars
@_in_style
def ranked_bars(
    data: pd.DataFrame, *, countries: Sequence[str] | None = None, title: str | None = None,
    subtitle: str | None = None, unit: str | None = None, window: Window = None, aggregate: str | None = "median",
    banded: bool = False, better: str | None = None, notes: Sequence[str] = (), made_by: str | None = None,
    width: float = DEFAULT_WIDTH,
) -> Chart:
    """Latest value per country as ranked horizontal bars; countries without data as "no data" rows.

    The year of a bar is printed beside its value where it differs from the headline year. With
    ``banded=True`` bars are coloured by their position against the ASEAN median ± 1 MAD (see
    ``analysis.bands``), as better / worse when ``better`` is "higher" or "lower", neutral otherwise.
    """
    d = check_tidy(data, what="ranked_bars")
    ind = one_indicator(d, "ranked_bars")
    unit = unit_of(d, unit)
    rows = _country_rows(countries)
    latest = _latest(d[d["iso3"].isin(rows["iso3"])], window)
    have = [i for i in rows["iso3"] if i in latest.index]
    missing = [i for i in rows["iso3"] if i not in latest.index]
    values = latest["value"] if not latest.empty else pd.Series(dtype="float64")
    headline = _headline_year(latest["year"]) if not latest.empty else None
    members = _asean_members(rows)

    order = sorted(have, key=lambda i: (-values[i], i))
    ylabels = order + missing
    n_rows = len(ylabels)
    agg_val, n_agg, n_tot = (_aggregate(latest, members, aggregate) if aggregate else (math.nan, 0, len(members)))

    band_frame = None
    if banded:
        band_frame = api.band(values.reindex(rows["iso3"]), reference=values.reindex(members))
        band_frame["judged"] = api.judge(band_frame["band"], better).to_numpy()

    subtitle = subtitle if subtitle is not None else (
        f"{unit}" + (f"; latest available year (mostly {headline})" if headline else ""))
    notes = [footer_mod.coverage_note(len(have), len(rows), window), _missing_note(missing, rows), *notes]
    plotted = _plotted_rows(latest.loc[order].reset_index(drop=True), rows, role="country") if order else pd.DataFrame()
    nodata = _no_data_rows(missing, rows, ind, unit).assign(role="no data")
    extra_rows = []
    if aggregate and n_agg:
        extra_rows.append(pd.DataFrame({
            "iso3": ["ASEAN"], "country": [f"ASEAN {STATISTICS[aggregate]}"], "group": ["aggregate"], "indicator_id": [ind],
            "year": pd.array([pd.NA], dtype="Int64"), "value": [agg_val], "unit": [unit], "source_id": [pd.NA],
            "vintage": [pd.NA], "projection": pd.array([pd.NA], dtype="boolean"), "role": [f"aggregate: {STATISTICS[aggregate]}"],
            "n": [n_agg], "N": [n_tot]}))
    table = _concat([plotted, nodata, *extra_rows])
    if band_frame is not None and not table.empty:
        bf = band_frame.reindex(table["iso3"])
        table["band"] = bf["band"].fillna("").to_numpy()
        table["judged"] = bf["judged"].fillna("").to_numpy()
        table["band_lower"] = bf["lower"].to_numpy()
        table["band_upper"] = bf["upper"].to_numpy()
    footer, sources = collect_footer(latest if not latest.empty else None, notes)

    agg_label = _aggregate_label(aggregate, n_agg, n_tot, "latest values") if aggregate and n_agg else None
    groups = set(rows["group"])
    extra_key = []
    if banded:
        labels = ("better", "within", "worse") if better in ("higher", "lower") else ("above", "within", "below")
        extra_key = [Patch(facecolor=palette.BAND_COLOURS[b], label={"within": "within ASEAN median ± 1 MAD"}.get(
            b, f"{b} than the band" if b in ("better", "worse") else f"{b} the band")) for b in labels]
    key = bar_key_handles(groups, agg_label, extra_key)
    fr = frame(_title(title, ind), subtitle, footer, body_height=0.27 * n_rows + 0.55, width=width, key=key,
               key_cols=3)
    ax = fr.body.subplots()
    ax.grid(axis="y", visible=False)
    y = np.arange(n_rows)
    for k, iso in enumerate(order):
        st = palette.style_of(iso, rows)
        colour = st["colour"]
        if band_frame is not None:
            colour = palette.BAND_COLOURS[band_frame.loc[iso, "judged"]]
        ax.barh(k, values[iso], height=0.72, color=colour, hatch=st["hatch"],
                edgecolor="white" if st["hatch"] else "none", linewidth=0, gid=f"bar-{iso}")
    vmax = float(values.max()) if len(values) else 1.0
    vmin = min(0.0, float(values.min())) if len(values) else 0.0
    span = (vmax - vmin) or 1.0
    for k, iso in enumerate(order):
        v = values[iso]
        yr = int(latest.loc[iso, "year"])
        label = fmt(v) + (f" ({yr})" if headline is not None and yr != headline else "")
        ax.text(v + span * 0.01, k, label, va="center", ha="left", fontsize=8, color="#222222")
    for k, iso in enumerate(missing, start=len(order)):
        ax.text(vmin + span * 0.01, k, "no data", va="center", ha="left", fontsize=8, color=palette.NO_DATA_COLOUR,
                style="italic", gid=f"nodata-{iso}")
    if band_frame is not None and n_agg:
        lo, hi = float(band_frame["lower"].iloc[0]), float(band_frame["upper"].iloc[0])
        ax.axvspan(lo, hi, color="#000000", alpha=0.07, lw=0, zorder=0)
    if aggregate and n_agg:
        ax.axvline(agg_val, color=palette.AGGREGATE_COLOUR, lw=palette.AGGREGATE_LINEWIDTH * 0.8, zorder=4,
                   gid="aggregate")
        ax.text(agg_val, -0.75, f"ASEAN {STATISTICS[aggregate]}: {fmt(agg_val)}", ha="center", va="bottom", fontsize=8,
                color=palette.AGGREGATE_COLOUR, fontweight="bold", zorder=6,
                bbox=dict(facecolor="white", edgecolor="none", pad=1.0))
    names = _names(rows)
    ax.set_yticks(y, [names.get(i, i) for i in ylabels])
    for tick, iso in zip(ax.get_yticklabels(), ylabels):
        if palette.style_of(iso, rows)["group"] == palette.PLUS_THREE:
            tick.set_fontstyle("italic")
        if iso in missing:
            tick.set_color(palette.NO_DATA_COLOUR)
    ax.set_ylim(n_rows - 0.4, -1.1)
    ax.set_xlim(vmin, vmin + span * 1.16)
    ax.set_xlabel(unit)
    ax.tick_params(axis="y", length=0)
    coverage = {"n": len(have), "N": len(rows), "missing": missing, "headline_year": headline, "window": window}
    return finish(fr, kind="ranked_bars", title=_title(title, ind), subtitle=subtitle, unit=unit, data=table,
                  footer_lines=footer, notes=notes, coverage=coverage, sources=sources, axes={"main": ax},
                  made_by=made_by)


def banded_bars(data: pd.DataFrame, *, better: str | None = None, **kwargs) -> Chart:
    """Ranked bars coloured by band: above / within / below the ASEAN median ± 1 MAD."""
    chart = ranked_bars(data, banded=True, better=better, **kwargs)
    chart.kind = "banded_bars"
    if not kwargs.get("made_by"):
        chart.made_by = "analysis.charts.banded_bars"
    return chart


# ----------------------------------------------------------------------------- lines
def _aggregate_series(d: pd.DataFrame, members: list[str], statistic: str) -> pd.DataFrame:
    """Per-year statistic over the members with data, by the project's one aggregation rule.

    Years below the API's minimum coverage are left out (missing, not computed).
    """
    _check_statistic(statistic)
    weights = api.population_weights(members) if statistic == "weighted_mean" else None
    agg = api.aggregate_members(d, members, min_coverage=api.DEFAULT_MIN_COVERAGE, weights=weights)
    value_col, n_col = ("median", "n") if statistic == "median" else ("weighted_mean", "n_weighted")
    out = agg.loc[agg[value_col].notna(), ["year", value_col, n_col, "N", "projection"]]
    out = out.rename(columns={value_col: "value", n_col: "n"}).sort_values("year")
    return out.astype({"year": "int64"}).reset_index(drop=True)


def _series_panel(d: pd.DataFrame, rows: pd.DataFrame, ind: str, unit: str, aggregate: str | None,
                  start: int | None, end: int | None, projections: bool):
    """The rows a time-series chart draws: countries' series in the span, the ASEAN aggregate, and
    "no data" rows for countries without a value (so a gap is shown, not dropped).

    Returns (series, have, missing, members, aggregate series, plotted rows for the CSV).
    """
    d = d[d["iso3"].isin(rows["iso3"]) & d["value"].notna()]
    if not projections:
        d = d[~d["projection"]]
    if start is not None:
        d = d[d["year"] >= start]
    if end is not None:
        d = d[d["year"] <= end]
    d = d.sort_values(["iso3", "year"])
    present = set(d["iso3"])
    have = [i for i in rows["iso3"] if i in present]
    missing = [i for i in rows["iso3"] if i not in present]
    members = _asean_members(rows)
    agg = _aggregate_series(d, members, aggregate) if aggregate else pd.DataFrame()
    plotted = _plotted_rows(d, rows, role="country")
    if aggregate and not agg.empty:
        plotted = _concat([plotted, pd.DataFrame({
            "iso3": "ASEAN", "country": f"ASEAN {STATISTICS[aggregate]}", "group": "aggregate", "indicator_id": ind,
            "year": agg["year"].astype("Int64").to_numpy(), "value": agg["value"].to_numpy(), "unit": unit,
            "source_id": pd.NA, "vintage": pd.NA, "projection": agg["projection"].astype("boolean").to_numpy(),
            "role": f"aggregate: {STATISTICS[aggregate]}", "n": agg["n"].to_numpy(), "N": agg["N"].to_numpy()})])
    plotted = _concat([plotted, _no_data_rows(missing, rows, ind, unit).assign(role="no data")])
    return d, have, missing, members, agg, plotted


def _draw_series(ax, part: pd.DataFrame, st: dict, lw: float = 1.7, gid: str | None = None) -> None:
    est = part[~part["projection"]]
    proj = part[part["projection"]]
    if not est.empty:
        ax.plot(est["year"], est["value"], color=st["colour"], ls=st["linestyle"], lw=lw, gid=gid,
                solid_capstyle="round")
    if not proj.empty:
        # Projections continue from the last estimate, dotted and lighter.
        joined = pd.concat([est.tail(1), proj]) if not est.empty else proj
        # Dotted for ASEAN, dash-dot for Plus Three: the group stays readable in the projections.
        ls = (0, (1, 1.6)) if st["group"] != palette.PLUS_THREE else (0, (4, 1.5, 1, 1.5))
        ax.plot(joined["year"], joined["value"], color=st["colour"], ls=ls, lw=lw * 0.9, alpha=0.85,
                gid=f"{gid}-projection" if gid else None)


def _end_labels(ax, items: list[tuple[str, float, str, bool]], fontsize: float = 7.8) -> list:
    """Name labels right of the plot at each series' last value, spread so they do not overlap."""
    if not items:
        return []
    gap = _label_height(ax, fontsize)
    ymin, ymax = sorted(ax.get_ylim())
    ys = repel_1d([v for _, v, _, _ in items], gap, ymin, ymax)
    trans = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    texts = []
    for (label, _, colour, bold), yy in zip(items, ys):
        texts.append(ax.text(1.01, yy, label, transform=trans, ha="left", va="center", fontsize=fontsize,
                             color=colour, fontweight="bold" if bold else "normal", clip_on=False))
    return texts


@_in_style
def lines(
    data: pd.DataFrame, *, countries: Sequence[str] | None = None, title: str | None = None,
    subtitle: str | None = None, unit: str | None = None, aggregate: str | None = "median",
    projections: bool = True, start: int | None = None, end: int | None = None, notes: Sequence[str] = (),
    made_by: str | None = None, width: float = DEFAULT_WIDTH, height: float = 4.6, events: pd.DataFrame | None = None,
    events_label: str | None = None,
) -> Chart:
    """One line per country over time; projections dotted on a shaded background after the last estimate.

    ``events``: optional frame with ``year`` and ``label`` columns drawn as thin vertical markers
    (e.g. the years of the High Level Officials Meetings).
    """
    d = check_tidy(data, what="lines")
    ind = one_indicator(d, "lines")
    unit = unit_of(d, unit)
    rows = _country_rows(countries)
    d, have, missing, members, agg, plotted = _series_panel(d, rows, ind, unit, aggregate, start, end, projections)
    agg_note = ""
    if aggregate and not agg.empty:
        lo_n, hi_n = int(agg["n"].min()), int(agg["n"].max())
        n_txt = f"{lo_n}" if lo_n == hi_n else f"{lo_n}–{hi_n}"
        agg_note = (f"ASEAN {STATISTICS[aggregate]} over the members with data in each year ({n_txt} of {len(members)}); "
                    "shown where at least half report.")
    yr_span = f"{int(d['year'].min())}–{int(d['year'].max())}" if not d.empty else "no years"
    ev_note = ""
    if events is not None and not events.empty:
        ev_note = f"Thin dashed verticals: {events_label or 'events'} ({', '.join(str(int(y)) for y in sorted(set(events['year'])))})."
    proj_note = "Projections dotted, on a shaded background." if d["projection"].any() else ""
    notes = [f"{len(have)} of {len(rows)} countries with data, {yr_span}.", _missing_note(missing, rows), agg_note,
             proj_note, ev_note, *notes]
    footer, sources = collect_footer(d, notes)
    subtitle = subtitle if subtitle is not None else unit
    agg_label = None
    if aggregate and not agg.empty:
        agg_label = f"ASEAN {STATISTICS[aggregate]} ({n_txt} of {len(members)} members)"
    extra = []
    if d["projection"].any():
        extra.append(Line2D([], [], color="#555555", ls=(0, (1, 1.6)), lw=1.6, label="projection (Plus Three: dash-dot)"))
    key = key_handles(set(rows.loc[rows["iso3"].isin(have), "group"]) or {palette.ASEAN}, agg_label, extra)
    fr = frame(_title(title, ind), subtitle, footer, body_height=height, width=width, key=key, key_cols=min(4, len(key)))
    ax = fr.body.subplots()
    if d["projection"].any():
        first_proj = int(d.loc[d["projection"], "year"].min())
        last_est = int(d.loc[~d["projection"], "year"].max()) if (~d["projection"]).any() else first_proj
        ax.axvspan(last_est, int(d["year"].max()), color=palette.PROJECTION_SHADE, lw=0, zorder=0)
        ax.text(last_est, 1.0, " projections", transform=mtransforms.blended_transform_factory(ax.transData, ax.transAxes),
                ha="left", va="top", fontsize=7.8, color="#666666", style="italic")
    if events is not None and not events.empty:
        for rec in events.itertuples(index=False):
            ax.axvline(rec.year, color="#bbbbbb", lw=0.8, ls=(0, (2, 2)), zorder=0.5)
    for iso in have:
        st = palette.style_of(iso, rows)
        _draw_series(ax, d[d["iso3"] == iso], st, gid=f"line-{iso}")
    if aggregate and not agg.empty:
        est = agg[~agg["projection"].astype(bool)]
        proj = agg[agg["projection"].astype(bool)]
        ax.plot(est["year"], est["value"], color=palette.AGGREGATE_COLOUR, lw=palette.AGGREGATE_LINEWIDTH, zorder=5,
                gid="aggregate", solid_capstyle="round")
        if not proj.empty:
            joined = pd.concat([est.tail(1), proj])
            ax.plot(joined["year"], joined["value"], color=palette.AGGREGATE_COLOUR, lw=palette.AGGREGATE_LINEWIDTH * 0.8,
                    ls=(0, (1, 1.2)), zorder=5, gid="aggregate-projection")
    ax.set_ylabel(unit)
    ax.margins(x=0.01)
    names = _names(rows)
    items = []
    for iso in have:
        last = d[d["iso3"] == iso].iloc[-1]
        items.append((names.get(iso, iso), float(last["value"]), palette.style_of(iso, rows)["colour"], False))
    if aggregate and not agg.empty:
        items.append((f"ASEAN {STATISTICS[aggregate]}", float(agg["value"].iloc[-1]), palette.AGGREGATE_COLOUR, True))
    # Reserve the right margin before measuring, then place the labels.
    longest = max((it[0] for it in items), key=len, default="")
    ghost = ax.text(1.01, 0.5, longest + "   ", transform=ax.transAxes, fontsize=7.8, alpha=0, fontweight="bold")
    _end_labels(ax, items)
    ghost.remove()
    coverage = {"n": len(have), "N": len(rows), "missing": missing}
    return finish(fr, kind="lines", title=_title(title, ind), subtitle=subtitle, unit=unit, data=plotted,
                  footer_lines=footer, notes=notes, coverage=coverage, sources=sources, axes={"main": ax},
                  made_by=made_by)


@_in_style
def small_multiples(
    data: pd.DataFrame, *, countries: Sequence[str] | None = None, title: str | None = None,
    subtitle: str | None = None, unit: str | None = None, aggregate: str | None = "median", ncols: int = 5,
    start: int | None = None, end: int | None = None, notes: Sequence[str] = (), made_by: str | None = None,
    width: float = DEFAULT_WIDTH,
) -> Chart:
    """One small panel per country on a shared scale, each with the ASEAN aggregate for reference."""
    d = check_tidy(data, what="small_multiples")
    ind = one_indicator(d, "small_multiples")
    unit = unit_of(d, unit)
    rows = _country_rows(countries)
    d, have, missing, members, agg, plotted = _series_panel(d, rows, ind, unit, aggregate, start, end, True)
    agg_note = (f"Black line in every panel: ASEAN {STATISTICS[aggregate]} over members with data in each year "
                f"({int(agg['n'].min())}–{int(agg['n'].max())} of {len(members)}).") if aggregate and not agg.empty else ""
    notes = [f"{len(have)} of {len(rows)} countries with data.", _missing_note(missing, rows), agg_note, *notes]
    footer, sources = collect_footer(d, notes)
    subtitle = subtitle if subtitle is not None else unit
    n = len(rows)
    nrows = -(-n // ncols)
    key = key_handles(set(rows["group"]), f"ASEAN {STATISTICS[aggregate]}" if aggregate and not agg.empty else None)
    fr = frame(_title(title, ind), subtitle, footer, body_height=1.55 * nrows, width=width, key=key, key_cols=len(key))
    axs = np.atleast_1d(fr.body.subplots(nrows, ncols, sharex=True, sharey=True)).ravel()
    names = _names(rows)
    panels = {}
    for ax, iso in zip(axs, rows["iso3"]):
        st = palette.style_of(iso, rows)
        if aggregate and not agg.empty:
            ax.plot(agg["year"], agg["value"], color=palette.AGGREGATE_COLOUR, lw=2.0, alpha=0.8, zorder=2)
        part = d[d["iso3"] == iso]
        if part.empty:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", fontsize=8.5,
                    color=palette.NO_DATA_COLOUR, style="italic", gid=f"nodata-{iso}")
        else:
            _draw_series(ax, part, st, lw=2.0, gid=f"line-{iso}")
        ax.set_title(names.get(iso, iso), fontsize=8.8, fontstyle="italic" if st["group"] == palette.PLUS_THREE else "normal",
                     color=st["colour"] if not part.empty else palette.NO_DATA_COLOUR, loc="left", pad=2)
        ax.tick_params(labelsize=7.2)
        panels[iso] = ax
    for ax in axs[n:]:
        ax.set_visible(False)
    coverage = {"n": len(have), "N": len(rows), "missing": missing}
    return finish(fr, kind="small_multiples", title=_title(title, ind), subtitle=subtitle, unit=unit, data=plotted,
                  footer_lines=footer, notes=notes, coverage=coverage, sources=sources, axes=panels, made_by=made_by)


# ----------------------------------------------------------------------------- slope
@_in_style
def slope(
    data: pd.DataFrame, year_from: int, year_to: int | None = None, *, countries: Sequence[str] | None = None,
    title: str | None = None, subtitle: str | None = None, unit: str | None = None, aggregate: str | None = "median",
    tolerance: int = 0, notes: Sequence[str] = (), made_by: str | None = None, width: float = 8.0,
) -> Chart:
    """Each country's value in ``year_from`` and ``year_to`` (default: latest estimate), joined by a line.

    ``tolerance``: accept the nearest year within this many years of each end (the year used is
    in the CSV). Countries missing either end are listed as "no data".
    """
    d = check_tidy(data, what="slope")
    ind = one_indicator(d, "slope")
    unit = unit_of(d, unit)
    rows = _country_rows(countries)
    d = d[d["iso3"].isin(rows["iso3"]) & d["value"].notna() & ~d["projection"]]
    if year_to is None:
        if d.empty:
            raise ChartDataError(f"slope: no data for {ind}")
        year_to = int(d["year"].max())

    def pick(target: int) -> pd.DataFrame:
        cand = d[(d["year"] - target).abs() <= tolerance].assign(dist=lambda x: (x["year"] - target).abs())
        cand = cand.sort_values(["iso3", "dist", "year"], ascending=[True, True, False])
        return cand.groupby("iso3").head(1).set_index("iso3", drop=False)

    left, right = pick(year_from), pick(year_to)
    have = [i for i in rows["iso3"] if i in left.index and i in right.index]
    missing = [i for i in rows["iso3"] if i not in have]
    members = _asean_members(rows)
    plotted = _concat([
        _plotted_rows(left.loc[have].reset_index(drop=True), rows, role="start", target_year=year_from),
        _plotted_rows(right.loc[have].reset_index(drop=True), rows, role="end", target_year=year_to),
        _no_data_rows(missing, rows, ind, unit).assign(role="no data"),
    ])
    aggs = {}
    if aggregate:
        for side, frame_ in (("start", left), ("end", right)):
            aggs[side] = _aggregate(frame_.loc[have] if have else frame_.iloc[:0], members, aggregate)
        if aggs["start"][1]:
            plotted = _concat([plotted, pd.DataFrame({
                "iso3": "ASEAN", "country": f"ASEAN {STATISTICS[aggregate]}", "group": "aggregate", "indicator_id": ind,
                "year": pd.array([year_from, year_to], dtype="Int64"), "value": [aggs["start"][0], aggs["end"][0]],
                "unit": unit, "source_id": pd.NA, "vintage": pd.NA, "projection": pd.array([False, False], dtype="boolean"),
                "role": f"aggregate: {STATISTICS[aggregate]}", "n": [aggs["start"][1], aggs["end"][1]], "N": len(members)})])
    tol = f" (or nearest year within ±{tolerance})" if tolerance else ""
    notes = [f"{len(have)} of {len(rows)} countries with data in both {year_from} and {year_to}{tol}.",
             _missing_note(missing, rows), *notes]
    footer, sources = collect_footer(_concat([left.loc[have], right.loc[have]]) if have else None, notes)
    subtitle = subtitle if subtitle is not None else f"{unit}; {year_from} and {year_to}"
    agg_label = None
    if aggregate and aggs.get("start", (0, 0))[1]:
        agg_label = f"ASEAN {STATISTICS[aggregate]} ({aggs['start'][1]} of {len(members)} members)"
    key = key_handles(set(rows["group"]), agg_label)
    fr = frame(_title(title, ind), subtitle, footer, body_height=5.2, width=width, key=key, key_cols=len(key))
    ax = fr.body.subplots()
    ax.grid(False)
    ax.spines[["left", "bottom"]].set_visible(False)
    names = _names(rows)
    for iso in have:
        st = palette.style_of(iso, rows)
        ax.plot([0, 1], [left.loc[iso, "value"], right.loc[iso, "value"]], color=st["colour"], ls=st["linestyle"],
                lw=1.8, marker="o", markersize=4, gid=f"slope-{iso}")
    if agg_label:
        ax.plot([0, 1], [aggs["start"][0], aggs["end"][0]], color=palette.AGGREGATE_COLOUR,
                lw=palette.AGGREGATE_LINEWIDTH, marker="o", zorder=5, gid="aggregate")
    ax.set_xlim(-0.75, 1.75)
    ax.set_xticks([0, 1], [str(year_from), str(year_to)], fontsize=10, fontweight="bold")
    ax.set_yticks([])
    ax.tick_params(axis="x", length=0, pad=8)
    ax.margins(y=0.07)
    gap = _label_height(ax, 7.8)
    ymin, ymax = sorted(ax.get_ylim())
    items = [(iso, names.get(iso, iso), palette.style_of(iso, rows)["colour"], False) for iso in have]
    if agg_label:
        items.append(("ASEAN", f"ASEAN {STATISTICS[aggregate]}", palette.AGGREGATE_COLOUR, True))
    for side, x, ha, frame_ in (("start", -0.04, "right", left), ("end", 1.04, "left", right)):
        vals = [float(frame_.loc[iso, "value"]) if iso != "ASEAN" else aggs[side][0] for iso, *_ in items]
        ys = repel_1d(vals, gap, ymin, ymax)
        for (iso, name, colour, bold), v, yy in zip(items, vals, ys):
            yr = "" if iso == "ASEAN" else int(frame_.loc[iso, "year"])
            off = f" ({yr})" if tolerance and yr not in ("", (year_from if side == "start" else year_to)) else ""
            text = f"{name} {fmt(v)}{off}" if side == "start" else f"{fmt(v)}{off} {name}"
            ax.text(x, yy, text, ha=ha, va="center", fontsize=7.8, color=colour, fontweight="bold" if bold else "normal")
    coverage = {"n": len(have), "N": len(rows), "missing": missing}
    return finish(fr, kind="slope", title=_title(title, ind), subtitle=subtitle, unit=unit, data=plotted,
                  footer_lines=footer, notes=notes, coverage=coverage, sources=sources, axes={"main": ax},
                  made_by=made_by)


# ----------------------------------------------------------------------------- heatmap
def _luminance(rgba) -> float:
    r, g, b = rgba[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@_in_style
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
    if mode not in ("normalised", "latest_year", "coverage"):
        raise ChartDataError(f"heatmap: mode must be normalised, latest_year or coverage, got {mode!r}")
    d = check_tidy(data, what="heatmap")
    rows = _country_rows(countries)
    d = d[d["iso3"].isin(rows["iso3"]) & d["value"].notna() & ~d["projection"]]
    if window:
        d = d[(d["year"] >= window[0]) & (d["year"] <= window[1])]
    inds = list(dict.fromkeys(indicator_labels.keys())) if indicator_labels else sorted(d["indicator_id"].unique())
    labels = indicator_labels or {i: i for i in inds}
    better = better or {}
    latest = d.sort_values("year").groupby(["iso3", "indicator_id"]).tail(1)
    counts = d.groupby(["iso3", "indicator_id"]).size()
    iso_list = rows["iso3"].tolist()
    val = latest.pivot(index="iso3", columns="indicator_id", values="value").reindex(index=iso_list, columns=inds)
    yrs = latest.pivot(index="iso3", columns="indicator_id", values="year").reindex(index=iso_list, columns=inds)
    cnt = counts.unstack().reindex(index=iso_list, columns=inds) if not counts.empty else val * np.nan
    if mode == "normalised":
        lo, hi = val.min(), val.max()
        colour_m = (val - lo) / (hi - lo).replace(0, np.nan)
        for ind in inds:
            if better.get(ind) == "lower":
                colour_m[ind] = 1 - colour_m[ind]
        # A column with a single distinct value sits mid-scale.
        colour_m = colour_m.where(~(val.notna() & colour_m.isna()), 0.5)
        text_m = val.map(lambda v: "" if pd.isna(v) else fmt(v))
        cbar_label = "Position among the countries shown: 0 = lowest (or worst), 1 = highest (or best)"
    elif mode == "latest_year":
        colour_m = yrs.astype("float64")
        text_m = yrs.map(lambda v: "" if pd.isna(v) else str(int(v)))
        cbar_label = "Year of the latest value"
    else:
        colour_m = cnt.astype("float64")
        text_m = cnt.map(lambda v: "" if pd.isna(v) else str(int(v)))
        cbar_label = "Number of years with data" + (f" in {window[0]}–{window[1]}" if window else "")
    long = []
    for iso in iso_list:
        for ind in inds:
            sel = latest[(latest["iso3"] == iso) & (latest["indicator_id"] == ind)]
            if sel.empty:
                long.append(_no_data_rows([iso], rows, ind, "").assign(role="no data"))
            else:
                long.append(_plotted_rows(sel, rows, role="cell"))
    plotted = _concat(long)
    plotted["colour_value"] = [colour_m.loc[i, k] for i, k in zip(plotted["iso3"], plotted["indicator_id"])]
    plotted["years_with_data"] = [cnt.loc[i, k] if not pd.isna(cnt.loc[i, k]) else 0
                                  for i, k in zip(plotted["iso3"], plotted["indicator_id"])]
    n_cells = int(val.notna().sum().sum())
    notes = [f"{n_cells} of {val.size} country × indicator cells with data"
             + (f" within {window[0]}–{window[1]}" if window else "") + "; hatched grey = no data.", *notes]
    footer, sources = collect_footer(latest, notes)
    subtitle = subtitle if subtitle is not None else {
        "normalised": "Latest value in each cell; colour shows the position among the countries shown",
        "latest_year": "Year of the latest available value", "coverage": "Years with data per country and indicator"}[mode]
    # Rows = indicators (long titles read well on the left), columns = countries.
    cm, vm, tm = colour_m.T, val.T, text_m.T
    body_h = 0.3 * len(inds) + 1.6
    fr = frame(title or f"Heatmap ({mode})", subtitle, footer, body_height=body_h, width=width)
    ax = fr.body.subplots()
    ax.grid(False)
    cmap = __import__("matplotlib").colormaps["cividis" if mode != "normalised" else "YlGnBu"]
    arr = np.ma.masked_invalid(cm.to_numpy(dtype="float64"))
    vmin, vmax = (0, 1) if mode == "normalised" else (np.nanmin(arr) if arr.count() else 0, np.nanmax(arr) if arr.count() else 1)
    im = ax.imshow(arr, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    for r, ind in enumerate(inds):
        for c, iso in enumerate(iso_list):
            if pd.isna(vm.iloc[r, c]) or pd.isna(cm.iloc[r, c]):
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="#f2f2f2", edgecolor="#c8c8c8", hatch="///",
                                       lw=0, gid=f"nodata-{iso}-{ind}"))
                continue
            rgba = cmap((cm.iloc[r, c] - vmin) / ((vmax - vmin) or 1))
            ax.text(c, r, tm.iloc[r, c], ha="center", va="center", fontsize=7.2,
                    color="white" if _luminance(rgba) < 0.5 else "#111111")
    names = _names(rows)
    ax.set_xticks(range(len(iso_list)), [names.get(i, i) for i in iso_list], rotation=40, ha="left",
                  rotation_mode="anchor", fontsize=7.8)
    for tick, iso in zip(ax.get_xticklabels(), iso_list):
        if palette.style_of(iso, rows)["group"] == palette.PLUS_THREE:
            tick.set_fontstyle("italic")
    n_asean = len(_asean_members(rows))
    if 0 < n_asean < len(iso_list):
        ax.axvline(n_asean - 0.5, color="#222222", lw=1.4)
    ax.set_yticks(range(len(inds)), ["\n".join(style.wrap(labels[i], 3.0, 7.6)[:2]) for i in inds], fontsize=7.6)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    cb = fr.body.colorbar(im, ax=ax, orientation="horizontal", fraction=0.04, pad=0.02, aspect=50)
    cb.set_label(cbar_label, fontsize=7.8)
    cb.ax.tick_params(labelsize=7.2)
    coverage = {"cells_with_data": n_cells, "cells": int(val.size), "mode": mode}
    chart = finish(fr, kind="heatmap", title=title or f"Heatmap ({mode})", subtitle=subtitle, unit="", data=plotted,
                   footer_lines=footer, notes=notes, coverage=coverage, sources=sources, axes={"main": ax, "colorbar": cb.ax},
                   made_by=made_by)
    return chart


# ----------------------------------------------------------------------------- scatter
def _place_labels(ax, points: list[tuple[str, float, float, str, bool]], fontsize: float = 7.8) -> list:
    """Label points without overlapping each other or the markers: try offsets, keep the first free one."""
    fig = ax.get_figure(root=True)
    fig.canvas.draw()
    fig.set_layout_engine("none")  # freeze the layout so display coordinates stay valid
    renderer = fig.canvas.get_renderer()
    ax_box = ax.get_window_extent(renderer)
    marker_boxes = []
    for _, x, y, _, _ in points:
        px, py = ax.transData.transform((x, y))
        marker_boxes.append((px - 4, py - 4, px + 4, py + 4))
    offsets = [(6, 4), (6, -10), (-6, 4), (-6, -10), (0, 9), (0, -15), (12, -3), (-12, -3),
               (14, 12), (-14, 12), (14, -18), (-14, -18), (24, 4), (-24, 4), (0, 20), (0, -26)]
    placed, texts = [], []
    for name, x, y, colour, italic in points:
        best = None
        for dx, dy in offsets:
            dxp, dyp = dx * fig.dpi / 72.0, dy * fig.dpi / 72.0
            t = ax.annotate(name, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                            color=colour, ha="left" if dx > 0 else ("right" if dx < 0 else "center"), va="bottom",
                            fontstyle="italic" if italic else "normal")
            bb = t.get_window_extent(renderer)
            box = (bb.x0, bb.y0, bb.x1, bb.y1)
            cost = sum(boxes_overlap(box, p) for p in placed) + sum(boxes_overlap(box, m, 0) for m in marker_boxes)
            outside = (box[0] < ax_box.x0) + (box[2] > ax_box.x1) + (box[1] < ax_box.y0) + (box[3] > ax_box.y1)
            cost += outside * 1e6
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, t, box, (dxp, dyp))
            else:
                t.remove()
            if cost == 0:
                break
        placed.append(best[2])
        texts.append(best[1])
        if abs(best[3][0]) > 12 or abs(best[3][1]) > 14:
            best[1].arrow_patch = None
    return texts


@_in_style
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
    rows = _country_rows(countries)
    d = d[d["iso3"].isin(rows["iso3"])]
    lx = _latest(d[d["indicator_id"] == x], window)
    ly = _latest(d[d["indicator_id"] == y], window)
    have = [i for i in rows["iso3"] if i in lx.index and i in ly.index]
    missing = [i for i in rows["iso3"] if i not in have]
    members = _asean_members(rows)
    ux, uy = unit_of(lx, None) if not lx.empty else "", unit_of(ly, None) if not ly.empty else ""
    plotted = _concat([
        _plotted_rows(lx.loc[have].reset_index(drop=True), rows, axis="x"),
        _plotted_rows(ly.loc[have].reset_index(drop=True), rows, axis="y"),
        _no_data_rows(missing, rows, x, ux).assign(axis="x"), _no_data_rows(missing, rows, y, uy).assign(axis="y"),
    ])
    notes = [footer_mod.coverage_note(len(have), len(rows), window, qualifier=" for both indicators"),
             _missing_note(missing, rows), *notes]
    footer, sources = collect_footer(_concat([lx.loc[have], ly.loc[have]]) if have else None, notes)
    subtitle = subtitle if subtitle is not None else "Latest available year of each indicator"
    both = [m for m in members if m in have]
    agg_x = _aggregate(lx.loc[have], both, aggregate) if aggregate and have else (math.nan, 0, 0)
    agg_y = _aggregate(ly.loc[have], both, aggregate) if aggregate and have else (math.nan, 0, 0)
    agg_label = None
    if aggregate and agg_x[1]:
        agg_label = f"ASEAN {STATISTICS[aggregate]} of each axis ({agg_x[1]} of {len(members)} members)"
        plotted = _concat([plotted, pd.DataFrame({
            "iso3": "ASEAN", "country": f"ASEAN {STATISTICS[aggregate]}", "group": "aggregate", "indicator_id": [x, y],
            "year": pd.array([pd.NA, pd.NA], dtype="Int64"), "value": [agg_x[0], agg_y[0]], "unit": [ux, uy],
            "source_id": pd.NA, "vintage": pd.NA, "projection": pd.array([pd.NA, pd.NA], dtype="boolean"),
            "axis": ["x", "y"], "n": agg_x[1], "N": len(members)})])
    handles = []
    groups = set(rows.loc[rows["iso3"].isin(have), "group"]) or {palette.ASEAN}
    if palette.ASEAN in groups:
        handles.append(Line2D([], [], marker="o", ls="none", color="#555555", label="ASEAN member (filled)"))
    if palette.PLUS_THREE in groups:
        handles.append(Line2D([], [], marker="o", ls="none", markerfacecolor="white", markeredgecolor="#555555",
                              markeredgewidth=1.6, label="Plus Three comparator (open)"))
    if agg_label:
        handles.append(Line2D([], [], color=palette.AGGREGATE_COLOUR, lw=1.4, ls=(0, (4, 2)), label=agg_label))
    fr = frame(title or f"{y} vs {x}", subtitle, footer, body_height=5.2, width=width, key=handles, key_cols=len(handles))
    ax = fr.body.subplots()
    if agg_label:
        ax.axvline(agg_x[0], color=palette.AGGREGATE_COLOUR, lw=1.4, ls=(0, (4, 2)), alpha=0.8, zorder=1, gid="aggregate-x")
        ax.axhline(agg_y[0], color=palette.AGGREGATE_COLOUR, lw=1.4, ls=(0, (4, 2)), alpha=0.8, zorder=1, gid="aggregate-y")
    names = _names(rows)
    points = []
    for iso in have:
        st = palette.style_of(iso, rows)
        hollow = st["group"] == palette.PLUS_THREE
        ax.plot([lx.loc[iso, "value"]], [ly.loc[iso, "value"]], marker="o", ls="none", markersize=7,
                color=st["colour"], markerfacecolor="white" if hollow else st["colour"], markeredgewidth=1.8,
                gid=f"point-{iso}", zorder=3)
        points.append((names.get(iso, iso), float(lx.loc[iso, "value"]), float(ly.loc[iso, "value"]), st["colour"], hollow))
    ax.set_xlabel(x_label or (f"{x} ({ux})" if ux else x))
    ax.set_ylabel(y_label or (f"{y} ({uy})" if uy else y))
    ax.margins(0.12)
    _place_labels(ax, points)
    coverage = {"n": len(have), "N": len(rows), "missing": missing}
    return finish(fr, kind="scatter", title=title or f"{y} vs {x}", subtitle=subtitle, unit=f"{ux} / {uy}", data=plotted,
                  footer_lines=footer, notes=notes, coverage=coverage, sources=sources, axes={"main": ax},
                  made_by=made_by)


# ----------------------------------------------------------------------------- stacked bars
@_in_style
def stacked_bars(
    data: pd.DataFrame, components: Sequence[str], *, labels: dict[str, str] | None = None,
    countries: Sequence[str] | None = None, title: str | None = None, subtitle: str | None = None,
    unit: str | None = None, window: Window = None, notes: Sequence[str] = (), made_by: str | None = None,
    width: float = DEFAULT_WIDTH,
) -> Chart:
    """Shares per country stacked in one bar (e.g. health spending by source), latest common year.

    Each country uses the latest year in which every component has a value; a country with no
    such year is a "no data" row. Plus Three comparators are listed below the ASEAN members.
    """
    d = check_tidy(data, what="stacked_bars")
    rows = _country_rows(countries)
    comps = list(components)
    labels = labels or {c: c for c in comps}
    unit = unit_of(d[d["indicator_id"].isin(comps)], unit)
    d = d[d["iso3"].isin(rows["iso3"]) & d["indicator_id"].isin(comps) & d["value"].notna() & ~d["projection"]]
    if window:
        d = d[(d["year"] >= window[0]) & (d["year"] <= window[1])]
    complete = d.groupby(["iso3", "year"])["indicator_id"].nunique()
    complete = complete[complete == len(comps)].reset_index()
    year_of = complete.groupby("iso3")["year"].max().to_dict()
    have = [i for i in rows["iso3"] if i in year_of]
    missing = [i for i in rows["iso3"] if i not in year_of]
    chosen = d[[year_of.get(i) == y for i, y in zip(d["iso3"], d["year"])]]
    headline = _headline_year(pd.Series(list(year_of.values()))) if year_of else None
    wide = chosen.pivot(index="iso3", columns="indicator_id", values="value").reindex(columns=comps)
    groups_of = dict(zip(rows["iso3"], rows["group"]))
    asean = sorted([i for i in have if groups_of[i] == palette.ASEAN], key=lambda i: (-wide.loc[i, comps[0]], i))
    plus3 = sorted([i for i in have if groups_of[i] != palette.ASEAN], key=lambda i: (-wide.loc[i, comps[0]], i))
    miss_a = [i for i in missing if groups_of[i] == palette.ASEAN]
    miss_p = [i for i in missing if groups_of[i] != palette.ASEAN]
    order = asean + miss_a + ([None] if (plus3 or miss_p) and (asean or miss_a) else []) + plus3 + miss_p
    plotted = _concat([
        _plotted_rows(chosen.sort_values(["iso3", "indicator_id"]), rows, role="segment"),
        _no_data_rows(missing, rows, comps[0], unit).assign(role="no data", indicator_id="all components"),
    ])
    notes = [f"Latest year with all {len(comps)} components"
             + (f" within {window[0]}–{window[1]}" if window else "") + f"; {len(have)} of {len(rows)} countries with data.",
             _missing_note(missing, rows), *notes]
    footer, sources = collect_footer(chosen if not chosen.empty else None, notes)
    subtitle = subtitle if subtitle is not None else (f"{unit}" + (f"; latest year (mostly {headline})" if headline else ""))
    key = [Patch(facecolor=palette.COMPONENT_COLOURS[k % len(palette.COMPONENT_COLOURS)], label=labels.get(c, c))
           for k, c in enumerate(comps)]
    fr = frame(title or "Composition", subtitle, footer, body_height=0.3 * len(order) + 0.6, width=width, key=key,
               key_cols=min(4, len(key)))
    ax = fr.body.subplots()
    ax.grid(axis="y", visible=False)
    names = _names(rows)
    totals = wide.sum(axis=1) if not wide.empty else pd.Series(dtype="float64")
    xmax = max(100.0, float(totals.max()) if len(totals) else 100.0)
    for k, iso in enumerate(order):
        if iso is None:
            continue
        if iso in missing:
            ax.text(xmax * 0.005, k, "no data", va="center", ha="left", fontsize=8, style="italic",
                    color=palette.NO_DATA_COLOUR, gid=f"nodata-{iso}")
            continue
        left = 0.0
        for j, c in enumerate(comps):
            v = float(wide.loc[iso, c])
            ax.barh(k, v, left=left, height=0.72, color=palette.COMPONENT_COLOURS[j % len(palette.COMPONENT_COLOURS)],
                    edgecolor="white", linewidth=0.6, gid=f"seg-{iso}-{c}")
            if v >= xmax * 0.06:
                rgba = __import__("matplotlib").colors.to_rgba(palette.COMPONENT_COLOURS[j % len(palette.COMPONENT_COLOURS)])
                ax.text(left + v / 2, k, fmt(v, 0), ha="center", va="center", fontsize=7.4,
                        color="white" if _luminance(rgba) < 0.55 else "#111111")
            left += v
        if headline is not None and year_of[iso] != headline:
            ax.text(left + xmax * 0.01, k, str(year_of[iso]), va="center", ha="left", fontsize=7.6, color="#444444")
    ticks = [k for k, iso in enumerate(order) if iso is not None]
    ax.set_yticks(ticks, [names.get(order[k], order[k]) for k in ticks])
    for tick, k in zip(ax.get_yticklabels(), ticks):
        iso = order[k]
        if groups_of.get(iso) == palette.PLUS_THREE:
            tick.set_fontstyle("italic")
        if iso in missing:
            tick.set_color(palette.NO_DATA_COLOUR)
    if None in order:
        sep = order.index(None)
        ax.axhline(sep, color="#444444", lw=0.8)
        ax.text(0, sep, "Plus Three comparators ", ha="left", va="center", fontsize=7.8, style="italic",
                color="#444444", bbox=dict(facecolor="white", edgecolor="none", pad=1))
    ax.set_ylim(len(order) - 0.4, -0.6)
    ax.set_xlim(0, xmax * 1.07)
    ax.set_xlabel(unit)
    ax.tick_params(axis="y", length=0)
    coverage = {"n": len(have), "N": len(rows), "missing": missing, "headline_year": headline}
    return finish(fr, kind="stacked_bars", title=title or "Composition", subtitle=subtitle, unit=unit, data=plotted,
                  footer_lines=footer, notes=notes, coverage=coverage, sources=sources, axes={"main": ax},
                  made_by=made_by)


# ----------------------------------------------------------------------------- population pyramid
_AGE = re.compile(r"(\d{1,3})(?:(?:_|-|–|to)+(\d{1,3})\b|_?(plus|up|\+))", re.IGNORECASE)


def age_group_of(indicator_id: str) -> tuple[int, str]:
    """(lower bound, label) of a 5-year age group from an id such as ``pop_age_15_19`` or ``..._100plus``."""
    m = _AGE.search(str(indicator_id))
    if not m:
        raise ChartDataError(f"pyramid: cannot read an age group from indicator id {indicator_id!r}")
    lo, hi = int(m.group(1)), m.group(2)
    return (lo, f"{lo}–{int(hi)}") if hi else (lo, f"{lo}+")


@_in_style
def pyramid(
    data: pd.DataFrame, iso3: str, years: Sequence[int], *, title: str | None = None, subtitle: str | None = None,
    age_of: Callable[[str], tuple[int, str]] = age_group_of, notes: Sequence[str] = (), made_by: str | None = None,
    width: float = 8.0,
) -> Chart:
    """Age structure of one country: share of the population in each 5-year age group.

    With a ``sex`` column holding male/female rows this is a two-sided pyramid; without one (WPP
    2019 as stored here has both sexes combined) it is a one-sided age-structure chart that says so.
    The first year is drawn as filled bars, further years as outlines.
    """
    d = check_tidy(data, what="pyramid")
    d = d[(d["iso3"] == iso3) & d["year"].isin(list(years)) & d["value"].notna()]
    rows = _country_rows([iso3])
    name = rows["name"].iloc[0]
    st = palette.style_of(iso3, palette.country_table())
    years = list(years)
    missing_years = [y for y in years if y not in set(d["year"])]
    if d.empty:
        raise ChartDataError(f"pyramid: no age-group data for {iso3} in {years}")
    ages = {i: age_of(i) for i in d["indicator_id"].unique()}
    d = d.assign(age_lo=[ages[i][0] for i in d["indicator_id"]], age=[ages[i][1] for i in d["indicator_id"]])
    by_sex = "sex" in d.columns and set(d["sex"].dropna().astype(str).str.lower()) >= {"male", "female"}
    keys = ["year", "sex"] if by_sex else ["year"]
    d = d.assign(share=d["value"] / d.groupby("year")["value"].transform("sum") * 100)
    age_order = sorted({(lo, lab) for lo, lab in ages.values()})
    pos = {lab: k for k, (_, lab) in enumerate(age_order)}
    plotted = _plotted_rows(d, rows, age=d["age"].to_numpy(), share_pct=d["share"].to_numpy())
    if by_sex:
        plotted["sex"] = d["sex"].to_numpy()
    flags = [] if by_sex else ["No split by sex in this source: population of both sexes by age group."]
    if missing_years:
        flags.append("No data for " + ", ".join(map(str, missing_years)) + ".")
    notes = [*flags, "Bars: share of the total population in each 5-year age group.", *notes]
    footer, sources = collect_footer(d, notes)
    subtitle = subtitle if subtitle is not None else (
        "% of total population" + (", men (left) and women (right)" if by_sex else ", both sexes") +
        f"; {years[0]} filled" + (", " + ", ".join(str(y) for y in years[1:]) + " outlined" if len(years) > 1 else ""))
    outline_styles = ["-", (0, (4, 2)), (0, (1, 1.5))]
    key = [Patch(facecolor=st["colour"], alpha=0.75, label=str(years[0]))] + [
        Line2D([], [], color="#222222", lw=1.6, ls=outline_styles[(k) % 3], label=str(y)) for k, y in enumerate(years[1:])]
    fr = frame(title or f"{name}: population by age", subtitle, footer, body_height=5.0, width=width, key=key,
               key_cols=len(key))
    ax = fr.body.subplots()
    ax.grid(axis="y", visible=False)
    for k, yr in enumerate(years):
        part = d[d["year"] == yr]
        for sex_sign, sel in ([(-1, part[part["sex"].str.lower() == "male"]), (1, part[part["sex"].str.lower() == "female"])]
                              if by_sex else [(1, part)]):
            ys = [pos[a] for a in sel["age"]]
            vals = sel["share"].to_numpy() * sex_sign
            if k == 0:
                ax.barh(ys, vals, height=0.85, color=st["colour"], alpha=0.75, gid=f"bars-{yr}")
            else:
                order_ = np.argsort(ys)
                yy = np.asarray(ys)[order_]
                vv = vals[order_]
                edges_y = np.repeat(yy, 2) + np.tile([-0.45, 0.45], len(yy))
                ax.plot(np.repeat(vv, 2), edges_y, color="#222222", lw=1.6, ls=outline_styles[(k - 1) % 3],
                        gid=f"outline-{yr}")
    ax.set_yticks(range(len(age_order)), [lab for _, lab in age_order], fontsize=7.4)
    ax.set_xlabel("% of total population")
    if by_sex:
        ax.axvline(0, color="#444444", lw=0.8)
        ax.xaxis.set_major_formatter(__import__("matplotlib").ticker.FuncFormatter(lambda v, _: f"{abs(v):g}"))
    coverage = {"years": years, "missing_years": missing_years, "by_sex": by_sex}
    return finish(fr, kind="pyramid", title=title or f"{name}: population by age", subtitle=subtitle, unit="%",
                  data=plotted, footer_lines=footer, notes=notes, coverage=coverage, sources=sources,
                  axes={"main": ax}, made_by=made_by)


# ----------------------------------------------------------------------------- timeline
FOCUS_GROUP_LABELS = {
    "older_persons": "older persons", "children": "children", "mothers": "mothers",
    "persons_with_disabilities": "persons with disabilities", "poor_and_vulnerable": "poor and vulnerable",
    "working_age": "working age", "whole_population": "whole population",
}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _group_labels(focus_groups) -> str:
    """Readable focus groups from a tuple (validated table) or a ";"-separated string."""
    if isinstance(focus_groups, tuple | list):
        items = list(focus_groups)
    elif focus_groups is None or pd.isna(focus_groups):
        items = []
    else:
        items = [g for g in str(focus_groups).split(";") if g]
    return ", ".join(FOCUS_GROUP_LABELS.get(g, g) for g in items)


def read_references() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The meetings and instruments tables, validated, from the API."""
    return api.meetings(), api.instruments()


@_in_style
def timeline(
    meetings: pd.DataFrame | None = None, instruments: pd.DataFrame | None = None, *, title: str | None = None,
    subtitle: str | None = None, notes: Sequence[str] = (), made_by: str | None = None, width: float = DEFAULT_WIDTH,
) -> Chart:
    """The ASEAN–Japan High Level Officials Meetings on Caring Societies and related ASEAN instruments.

    One row per event in date order. A meeting whose theme was not found is drawn as an open
    marker with "theme not found" (a gap in the record, not a missing meeting); years that were
    inferred rather than stated are flagged. Themes recorded only in Japanese are shown by their
    English topic list (the glyphs are not in the packaged font); the CSV keeps the original title.
    """
    if meetings is None or instruments is None:
        m_ref, i_ref = read_references()
        meetings = m_ref if meetings is None else meetings
        instruments = i_ref if instruments is None else instruments
    events = []
    for rec in meetings.itertuples(index=False):
        theme = "" if pd.isna(rec.theme) else str(rec.theme)
        lang = "" if pd.isna(rec.theme_language) else str(rec.theme_language)
        topics = "" if pd.isna(rec.topics) else str(rec.topics).replace(";", ", ")
        found = bool(theme)
        if found and lang not in ("", "en"):
            shown = f"[title in Japanese] topics: {topics}"
        elif found:
            shown = theme
        elif topics:
            shown = f"theme title not found; topics: {topics}"
        else:
            shown = "theme not found"
        city = "" if pd.isna(rec.city) else f", {rec.city}"
        inferred = str(rec.year_basis) == "inferred"
        label = f"{_ordinal(int(rec.meeting_no))} HLOM{city}: {shown}"
        groups = _group_labels(rec.focus_groups)
        events.append({"kind": "meeting", "year": int(rec.year), "date": "" if pd.isna(rec.dates) else str(rec.dates),
                       "label": label, "theme": theme, "theme_found": found, "year_inferred": inferred,
                       "focus_groups": groups, "source_url": "" if pd.isna(rec.source_url) else str(rec.source_url),
                       "order": (int(rec.year), 0, int(rec.meeting_no))})
    for k, rec in enumerate(instruments.itertuples(index=False)):
        date = str(rec.date)
        groups = _group_labels(rec.focus_groups)
        events.append({"kind": "instrument", "year": int(date[:4]), "date": date, "label": str(rec.instrument),
                       "theme": str(rec.instrument), "theme_found": True, "year_inferred": False, "focus_groups": groups,
                       "source_url": "" if pd.isna(rec.source_url) else str(rec.source_url), "order": (int(date[:4]), 1, k)})
    # Years inside the meeting series without any meeting on record: shown as gaps, not skipped.
    meeting_years = {e["year"] for e in events if e["kind"] == "meeting"}
    if meeting_years:
        for yr in range(min(meeting_years), max(meeting_years) + 1):
            if yr not in meeting_years:
                events.append({"kind": "no meeting recorded", "year": yr, "date": "", "label": "no meeting recorded",
                               "theme": "", "theme_found": False, "year_inferred": False, "focus_groups": "",
                               "source_url": "", "order": (yr, 0, 0)})
    events.sort(key=lambda e: e["order"])
    table = pd.DataFrame(events).drop(columns="order")
    n_gap = int((~table.loc[table["kind"] == "meeting", "theme_found"]).sum())
    n_meet = int((table["kind"] == "meeting").sum())
    n_instr = int((table["kind"] == "instrument").sum())
    no_meeting = sorted(table.loc[table["kind"] == "no meeting recorded", "year"].astype(int).tolist())
    extra_source = ["Source: compiled for this project from MHLW, ASEAN and news pages; one cited source_url per row "
                    f"(data/raw/references/meeting_themes.csv, {n_meet} meetings; asean_instruments.csv, "
                    f"{n_instr} instruments)."]
    notes = [f"Theme not found for {n_gap} of {n_meet} meetings (open circles): a gap in the record.",
             "Years marked (year inferred) were inferred, not stated, by the cited page.",
             ("No meeting recorded in " + ", ".join(map(str, no_meeting)) + " (crosses).") if no_meeting else "", *notes]
    footer = extra_source + [n for n in notes if n]
    subtitle = subtitle if subtitle is not None else "Meetings (circles) and related ASEAN instruments (diamonds), by year"
    key = [Line2D([], [], marker="o", ls="none", color="#0072B2", label="meeting, theme known"),
           Line2D([], [], marker="o", ls="none", markerfacecolor="white", markeredgecolor="#0072B2", markeredgewidth=1.5,
                  label="meeting, theme not found"),
           Line2D([], [], marker="D", ls="none", color="#D55E00", label="ASEAN / ASEAN+3 instrument")]
    text_w = width - 1.6
    wrapped = []
    for e in events:
        label = e["label"] + (" (year inferred)" if e["year_inferred"] else "")
        if e["focus_groups"]:
            label += f"  [{e['focus_groups']}]"
        wrapped.append(style.wrap(label, text_w, 7.8))
    heights = [max(1, len(w)) for w in wrapped]
    y = 0.0
    ys = []
    for w in heights:
        ys.append(y)
        y += 0.55 + 0.45 * w
    # One y unit is about 0.3 inch: a 7.8 pt text line takes 0.45 units.
    fr = frame(title or "ASEAN–Japan High Level Officials Meetings on Caring Societies", subtitle, footer,
               body_height=0.3 * (y + 0.5), width=width, key=key + [
                   Line2D([], [], marker="x", ls="none", color=palette.NO_DATA_COLOUR, label="no meeting recorded")],
               key_cols=4)
    ax = fr.body.subplots()
    ax.set_axis_off()
    ax.set_ylim(y, -0.5)
    ax.set_xlim(0, 1)
    ax.plot([0.075, 0.075], [ys[0], ys[-1]], color="#bbbbbb", lw=1.2, zorder=1)
    prev_year = None
    for e, yy, w in zip(events, ys, wrapped):
        if e["year"] != prev_year:
            ax.text(0.0, yy, str(e["year"]), ha="left", va="top", fontsize=8.2, fontweight="bold", color="#333333")
            prev_year = e["year"]
        if e["kind"] == "no meeting recorded":
            ax.plot([0.075], [yy + 0.2], marker="x", markersize=6, color=palette.NO_DATA_COLOUR, zorder=3)
            colour = palette.NO_DATA_COLOUR
        elif e["kind"] == "meeting":
            ax.plot([0.075], [yy + 0.2], marker="o", markersize=6.5, color="#0072B2",
                    markerfacecolor="#0072B2" if e["theme_found"] else "white", markeredgewidth=1.5, zorder=3)
            colour = "#222222" if e["theme_found"] else palette.NO_DATA_COLOUR
        else:
            ax.plot([0.075], [yy + 0.2], marker="D", markersize=5.5, color="#D55E00", zorder=3)
            colour = "#7a3a00"
        ax.text(0.1, yy, "\n".join(w), ha="left", va="top", fontsize=7.8, color=colour, linespacing=1.25,
                style="normal" if e["theme_found"] else "italic")
    freeze_layout(fr.figure)
    coverage = {"meetings": n_meet, "themes_not_found": n_gap, "instruments": n_instr, "years_without_meeting": no_meeting}
    return Chart(figure=fr.figure, kind="timeline", title=title or "ASEAN–Japan High Level Officials Meetings on Caring Societies",
                 subtitle=subtitle, unit="", indicator_ids=(), source_ids=("references",), data=table,
                 notes=tuple(n for n in notes if n), coverage=coverage, footer=tuple(footer),
                 sources={"references": []}, made_by=made_by or "analysis.charts.timeline", axes={"main": ax})


# ----------------------------------------------------------------------------- ageing
def share_65_chart(series: pd.DataFrame, countries: Sequence[str] | None = None, start: int = 1960,
                   end: int = 2100, thresholds: Sequence[float] = (7.0, 14.0, 21.0), title: str | None = None):
    """Line chart of the combined share aged 65+ with the 7/14/21 % thresholds drawn as reference lines.

    ``series`` comes from ``load_share_65``; spliced projection years are named in the footer.
    """

    data = series.assign(indicator_id="pop_65plus_share", unit="% of population")
    spliced = series.loc[~np.isclose(series["splice_factor"].astype(float), 1.0)]
    notes = ["Estimates: World Bank WDI; before and after them UN WPP 2019"
             + (", level-adjusted (ratio splice) to meet the latest WDI estimate" if not spliced.empty else "")
             + ". Grey lines: 7 % (ageing), 14 % (aged), 21 % (super-aged)."]
    chart = lines(data, countries=countries, start=start, end=end, aggregate=None,
                         title=title or "Share of the population aged 65 and over",
                         subtitle="% of population; thresholds 7, 14 and 21 %", notes=notes,
                         made_by="analysis.presentation.charts.share_65_chart")
    ax = chart.axes.get("main")
    if ax is not None:
        for t in thresholds:
            ax.axhline(t, color="#999999", lw=0.8, ls="-", zorder=0.6)
    return chart
