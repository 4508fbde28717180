"""Dots with uncertainty intervals per country: series side by side, optionally paired and in panels.

One row per country, one dot per series (female and male, with and without a disability, two sources of
one concept), whiskers from the published ``lower`` to ``upper`` bound where the data carry them. With
``connect=True`` the two series of a panel are joined (a dumbbell) and the difference first minus second
is written beside the pair: it is computed only when both values share source, vintage and year, so a
gap never mixes two sources. Series are told apart by marker and a categorical colour, never by the
better/worse band colours: the kind judges nothing, so it suits neutral indicators.

The ASEAN median of each series (latest values, the project's one aggregation rule, including its minimum
coverage) is a row of its own; below the coverage rule it is left out and the footer says why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from analysis.core import settings
from analysis.presentation.charts import footer as footer_mod
from analysis.presentation.charts import palette
from analysis.presentation.charts.base import (
    DEFAULT_WIDTH,
    Chart,
    ChartDataError,
    check_tidy,
    collect_footer,
    finish,
    frame,
    unit_of,
)
from analysis.presentation.charts.common import (
    Window,
    asean_members,
    concat,
    country_rows,
    groups_of,
    headline_year,
    in_style,
    latest_per_country,
    missing_note,
    names_of,
    no_data_rows,
    plotted_rows,
    style_tick_labels,
    years_text,
)
from analysis.store import api

MARKERS = ("o", "s", "D", "^")
# Series colours from Paul Tol's colour-blind-safe "muted" scheme, dark enough for 3:1 against white, and
# none of them the better/worse band colours: a series is a group (female, with a disability), not a verdict.
# Markers differ too, so the series read apart without colour.
COLOURS = ("#332288", "#117733", "#882255", "#6E5B3E")
OFFSET = 0.16  # half the vertical spread of unjoined series within a country's row
SEX_LABELS = {"_female": "Female", "_male": "Male"}
BOUNDS = ("lower", "upper")


@dataclass
class _Panels:
    """What is drawn: panels of series, each series' latest value per country, the countries' order."""

    panels: list[tuple[str, list[str]]]
    latest: dict[str, pd.DataFrame]
    rows: pd.DataFrame
    order: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def series(self) -> list[str]:
        return [s for _, ids in self.panels for s in ids]

    @property
    def labels(self) -> list[str]:
        return self.order + self.missing


def default_label(indicator_id: str) -> str:
    """"Female" / "Male" for the catalogue's sex ids, else the id (callers pass the titles they want)."""
    for suffix, label in SEX_LABELS.items():
        if indicator_id.endswith(suffix):
            return label
    return indicator_id


def _check_panels(series: Sequence[str] | None, panels, present: set[str]) -> list[tuple[str, list[str]]]:
    if panels is None:
        if not series:
            raise ChartDataError("intervals: give the series to draw (indicator ids) or panels")
        panels = [("", list(series))]
    out = [(str(t), [str(s) for s in ids]) for t, ids in panels]
    sizes = {len(ids) for _, ids in out}
    if len(sizes) != 1 or not 1 <= min(sizes) <= len(MARKERS):
        raise ChartDataError(f"intervals: every panel needs the same number of series (1 to {len(MARKERS)}), "
                             f"got {[ids for _, ids in out]}")
    unknown = [s for _, ids in out for s in ids if s not in present]
    if len(unknown) == sum(len(ids) for _, ids in out):
        raise ChartDataError(f"intervals: none of the series {unknown} has a value in the data")
    return out


def _latest(d: pd.DataFrame, series: list[str], rows: pd.DataFrame, window: Window) -> dict[str, pd.DataFrame]:
    d = d[d["iso3"].isin(rows["iso3"])]
    out = {}
    for s in series:
        part = latest_per_country(d[d["indicator_id"] == s], window)
        out[s] = part if not part.empty else pd.DataFrame(columns=d.columns).set_index("iso3", drop=False)
    return out


def _order(latest: dict[str, pd.DataFrame], rows: pd.DataFrame, sort_by: str) -> tuple[list[str], list[str]]:
    """Countries ranked by ``sort_by`` (highest first), then those with data in other series only, then
    the countries without any value, in drawing order."""
    values = latest[sort_by]["value"] if sort_by in latest else pd.Series(dtype="float64")
    have = [i for i in rows["iso3"] if any(i in f.index for f in latest.values())]
    ranked = sorted((i for i in have if i in values.index), key=lambda i: (-float(values[i]), i))
    rest = [i for i in have if i not in values.index]
    return ranked + rest, [i for i in rows["iso3"] if i not in have]


def _years_of(p: _Panels, iso: str) -> list[int]:
    return sorted({int(f.loc[iso, "year"]) for f in p.latest.values() if iso in f.index})


# ----------------------------------------------------------------------------- the group statistic
def _aggregates(p: _Panels, members: list[str]) -> dict[str, tuple[float, int, int]]:
    """ASEAN median of each series' latest values: (value, n, N); NaN below the minimum coverage."""
    out = {}
    for s in p.series:
        part = p.latest[s]
        part = part.loc[part.index.isin(members) & part["value"].notna()]
        if part.empty:
            out[s] = (math.nan, 0, len(members))
            continue
        # One pseudo-year: the median is taken across the members' latest values, whatever their years.
        flat = pd.DataFrame({"iso3": part.index.astype(str), "indicator_id": s, "year": 0,
                             "value": part["value"].to_numpy(dtype="float64")})
        agg = api.aggregate_members(flat, members)
        out[s] = (float(agg["median"].iloc[0]), int(agg["n"].iloc[0]), len(members))
    return out


def _aggregate_notes(aggs: dict[str, tuple[float, int, int]], labels: Mapping[str, str]) -> list[str]:
    short = [f"{labels[s]}: {n} of {total}" for s, (v, n, total) in aggs.items() if math.isnan(v) and total]
    if not short:
        return []
    rule = f"{settings.MIN_COVERAGE:.0%}"
    return [f"No ASEAN median where fewer than {rule} of the ASEAN members have a value ({'; '.join(short)})."]


# ----------------------------------------------------------------------------- pairs
def _pair_gap(p: _Panels, first: str, second: str, iso: str) -> float:
    """first minus second for one country, only within one source, vintage and year (else NaN)."""
    a, b = p.latest[first], p.latest[second]
    if iso not in a.index or iso not in b.index:
        return math.nan
    ra, rb = a.loc[iso], b.loc[iso]
    same = all(str(ra.get(c)) == str(rb.get(c)) for c in ("source_id", "vintage", "year"))
    return float(ra["value"]) - float(rb["value"]) if same else math.nan


# ----------------------------------------------------------------------------- the CSV
def _table(p: _Panels, aggs: dict, labels: Mapping[str, str], unit: str, connect: bool) -> pd.DataFrame:
    parts = []
    for title, ids in p.panels:
        for pos, s in enumerate(ids):
            lat = p.latest[s]
            have = [i for i in p.labels if i in lat.index]
            rows = lat.loc[have].reset_index(drop=True)
            extra = {c: rows[c].to_numpy(dtype="float64") if c in rows else np.nan for c in BOUNDS}
            if connect and pos == 0 and len(ids) == 2:
                extra["pair_difference"] = [_pair_gap(p, ids[0], ids[1], i) for i in have]
            parts.append(plotted_rows(rows, p.rows, role="country", panel=title, series=labels[s], **extra))
            miss = [i for i in p.labels if i not in lat.index]
            parts.append(no_data_rows(miss, p.rows, s, unit, role="no data", panel=title, series=labels[s]))
            value, n, total = aggs.get(s, (math.nan, 0, 0))
            if not math.isnan(value):
                parts.append(_aggregate_row(s, value, unit, n, total, title, labels[s]))
    return concat(parts)


def _aggregate_row(s: str, value: float, unit: str, n: int, total: int, panel: str, label: str) -> pd.DataFrame:
    return pd.DataFrame({"iso3": ["ASEAN"], "country": ["ASEAN median"], "group": ["aggregate"], "indicator_id": [s],
                         "year": pd.array([pd.NA], dtype="Int64"), "value": [value], "unit": [unit],
                         "source_id": [pd.NA], "vintage": [pd.NA], "projection": pd.array([pd.NA], dtype="boolean"),
                         "role": ["aggregate: median of latest values"], "panel": [panel], "series": [label],
                         "n": [n], "N": [total]})


# ----------------------------------------------------------------------------- drawing
def _offsets(k: int, connect: bool) -> np.ndarray:
    if connect or k == 1:
        return np.zeros(k)
    return np.linspace(-OFFSET, OFFSET, k)


def _point(y: float, rec: pd.Series, pos: int) -> tuple[int, float, float, float, float]:
    """One dot to draw: (series position, y, value, lower, upper); NaN bounds draw no whisker."""
    lo, hi = (rec.get(c, math.nan) for c in BOUNDS)
    return pos, y, float(rec["value"]), float(lo) if pd.notna(lo) else math.nan, float(hi) if pd.notna(hi) else math.nan


def _draw_points(ax, points: list[tuple[int, float, float, float, float]], edge: str = "white") -> None:
    """Dots (and whiskers where both bounds are given) of :func:`_point`, one artist per series position
    and part instead of three per dot: every artist costs again in each format saved. Within a row the
    drawing order is as before (first series' whisker, then the next's; dots above all whiskers)."""
    for pos in sorted({p[0] for p in points}):
        mine = [p for p in points if p[0] == pos]
        colour = COLOURS[pos % len(COLOURS)]
        bounded = [(y, lo, hi) for _, y, _, lo, hi in mine if not (math.isnan(lo) or math.isnan(hi))]
        if bounded:
            ys, los, his = (list(col) for col in zip(*bounded))
            ax.hlines(ys, los, his, color=colour, lw=1.4, zorder=3)
            ax.vlines([x for pair in zip(los, his) for x in pair], [y - 0.07 for y in ys for _ in (0, 1)],
                      [y + 0.07 for y in ys for _ in (0, 1)], color=colour, lw=1.2, zorder=3)
        ax.plot([p[2] for p in mine], [p[1] for p in mine], marker=MARKERS[pos], ms=6.5, color=colour, mec=edge,
                mew=0.8, ls="none", zorder=4)


def _draw_panel(ax, p: _Panels, ids: list[str], connect: bool, span: float) -> None:
    offs = _offsets(len(ids), connect)
    points = []
    for k, iso in enumerate(p.order):
        present = [(pos, s) for pos, s in enumerate(ids) if iso in p.latest[s].index]
        if connect and len(present) == 2:
            xs = [float(p.latest[s].loc[iso, "value"]) for _, s in present]
            ax.plot(xs, [k, k], color="#888888", lw=1.6, zorder=2, solid_capstyle="butt")
            gap = _pair_gap(p, ids[0], ids[1], iso)
            if not math.isnan(gap):
                ax.text(max(xs) + span * 0.025, k, f"{gap:+.1f}", va="center", ha="left", fontsize=7.5,
                        color="#444444")
        points += [_point(k + offs[pos], p.latest[s].loc[iso], pos) for pos, s in present]
    _draw_points(ax, points)
    for k, iso in enumerate(p.missing, start=len(p.order)):
        ax.text(0.01, k, "no data", transform=ax.get_yaxis_transform(), va="center", ha="left", fontsize=8,
                color=palette.NO_DATA_COLOUR, style="italic", gid=f"nodata-{iso}")


def _draw_aggregate(ax, ids: list[str], aggs: dict, y: float, connect: bool) -> None:
    offs = _offsets(len(ids), connect)
    shown = [(pos, s) for pos, s in enumerate(ids) if not math.isnan(aggs[s][0])]
    if connect and len(shown) == 2:
        ax.plot([aggs[s][0] for _, s in shown], [y, y], color=palette.AGGREGATE_COLOUR, lw=1.6, zorder=2)
    _draw_points(ax, [_point(y + offs[pos], pd.Series({"value": aggs[s][0]}), pos) for pos, s in shown],
                 edge=palette.AGGREGATE_COLOUR)


def _value_limits(p: _Panels, aggs: dict, connect: bool, ids: Sequence[str]) -> tuple[float, float]:
    frames = [p.latest[s] for s in ids]
    vals = [float(v) for f in frames for c in ("value", *BOUNDS) if c in f for v in f[c] if pd.notna(v)]
    vals += [aggs[s][0] for s in ids if s in aggs and not math.isnan(aggs[s][0])]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    span = (hi - lo) or max(abs(hi), 1.0)
    return lo - span * 0.06, hi + span * (0.16 if connect else 0.06)


def _tick_labels(p: _Panels, headline: int | None, agg_label: str | None) -> list[str]:
    names = names_of(p.rows)
    out = []
    for iso in p.order:
        years = _years_of(p, iso)
        odd = headline is not None and years != [headline]
        out.append(names.get(iso, iso) + (" · " + "/".join(map(str, years)) if odd else ""))
    out += [names.get(i, i) for i in p.missing]
    return out + ([agg_label] if agg_label else [])


def _finish_axes(ax, p: _Panels, ticks: list[str], title: str, first: bool, xlim) -> None:
    n = len(ticks)
    ax.set_ylim(n - 0.4, -0.6)
    ax.set_xlim(*xlim)
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    if title:
        ax.set_title(title, fontsize=9.5, loc="left")
    if first:
        ax.set_yticks(np.arange(n), ticks)
        style_tick_labels(ax.get_yticklabels(), p.labels, p.rows, p.missing)
    else:
        # The panels share the y axis: hide, not blank, the labels (blanking would blank the first panel's too).
        ax.tick_params(axis="y", labelleft=False)


def _key(labels: list[str], bounds: bool, k: int) -> list:
    handles = [Line2D([], [], marker=MARKERS[pos], color=COLOURS[pos], mec="white", ls="none", ms=7, label=label)
               for pos, label in enumerate(labels[:k])]
    if bounds:
        handles.append(Line2D([], [], color="#555555", lw=1.4, marker="|", ms=7,
                              label="uncertainty interval (lower to upper bound, as published)"))
    return handles


def catalogue_notes(ids: Sequence[str]) -> list[str]:
    """The catalogue's ``note`` of each drawn indicator (comparability breaks, caveats), once each."""
    cat = api.catalogue().set_index("indicator_id")
    notes = [str(cat.at[i, "note"]) for i in ids if i in cat.index and pd.notna(cat.at[i, "note"])]
    return [n for n in dict.fromkeys(notes) if n.strip()]


def _subtitle(unit: str, headline: int | None, drawn: pd.DataFrame, comparison: bool) -> str:
    if headline is None:
        return unit
    # One year per country (its newest among the series drawn), said exactly: "2023 for 2 of 6, 2015–2022 for 4".
    per_country = drawn.groupby("iso3", sort=True)["year"].max()
    when = years_text(per_country)
    if (drawn["year"] != headline).any():
        when += " (other years beside the country name)"
    return ("Comparison of sources; " if comparison else "") + f"{unit}; {when}"


def _prepare(data, series, panels, countries, window, sort_by) -> tuple[_Panels, pd.DataFrame]:
    d = check_tidy(data, what="intervals")
    for c in BOUNDS:
        if c in d.columns:
            d[c] = d[c].astype("float64")
    rows = country_rows(countries)
    pan = _check_panels(series, panels, set(d["indicator_id"].astype(str)))
    p = _Panels(panels=pan, latest={}, rows=rows)
    p.latest = _latest(d, p.series, rows, window)
    p.order, p.missing = _order(p.latest, rows, sort_by or p.series[0])
    return p, d


@in_style
def intervals(
    data: pd.DataFrame, series: Sequence[str] | None = None, *,
    panels: Sequence[tuple[str, Sequence[str]]] | None = None, labels: Mapping[str, str] | None = None,
    connect: bool = False, countries: Sequence[str] | None = None, title: str | None = None,
    subtitle: str | None = None, unit: str | None = None, window: Window = None, aggregate: bool = True,
    sort_by: str | None = None, comparison: bool = False, share_x: bool = True, notes: Sequence[str] = (),
    made_by: str | None = None, width: float = DEFAULT_WIDTH,
) -> Chart:
    """Latest value per country and series as dots, with whiskers where ``lower``/``upper`` are given.

    ``series``: indicator ids drawn side by side in one panel; or ``panels``: [(title, ids), ...], each
    with the same number of series, drawn with the same marker and colour by position (so "with a
    disability" looks the same in the female and the male panel). ``labels``: id -> key label (default:
    "Female"/"Male" for the sex ids, else the id); the key shows the first panel's labels.
    ``connect=True`` joins the two series of each panel and writes first minus second beside the pair
    (only within one source, vintage and year). ``comparison=True`` marks a labelled comparison of
    sources (metadata ``coverage["comparison"]``): two estimates of one concept may appear only there.
    ``share_x=False`` gives each panel its own value range (panels of different magnitude).
    Countries without any value are "no data" rows; the year of a value is written beside the country
    where it differs from the headline year.
    """
    p, d = _prepare(data, series, panels, countries, window, sort_by)
    labels = {s: (labels or {}).get(s) or default_label(s) for s in p.series}
    unit = unit_of(d[d["indicator_id"].isin(p.series)], unit)
    members = asean_members(p.rows)
    aggs = _aggregates(p, members) if aggregate else {}
    shown = [(v, n, total) for v, n, total in aggs.values() if not math.isnan(v)]
    agg_label = None
    if shown:
        counts = sorted({f"{n} of {total}" for _, n, total in shown})
        agg_label = f"ASEAN median ({' / '.join(counts)} members)"
    drawn = concat([f.assign(iso3=f.index.astype(str)).reset_index(drop=True) for f in p.latest.values()])
    years = drawn["year"] if not drawn.empty else pd.Series(dtype="int64")
    headline = headline_year(years)
    subtitle = subtitle if subtitle is not None else _subtitle(unit, headline, drawn, comparison)
    has_bounds = any(c in drawn.columns and drawn[c].notna().any() for c in BOUNDS)
    notes = [footer_mod.coverage_note(len(p.order), len(p.rows), window), missing_note(p.missing, p.rows),
             *_aggregate_notes(aggs, labels), *_plus_three_note(p), *catalogue_notes(p.series), *notes]
    if connect:
        notes.append(_pair_note(p, labels))
    if comparison:
        notes.append("A comparison of sources: each series as its publisher estimates it; everywhere else the "
                     "project shows one current series per concept.")
    footer, sources = collect_footer(drawn if not drawn.empty else None, notes)
    k = len(p.panels[0][1])
    fr = frame(title or " / ".join(p.series), subtitle, footer,
               body_height=0.3 * (len(p.labels) + (1 if agg_label else 0)) + 0.75, width=width,
               key=_key([labels[s] for s in p.panels[0][1]], has_bounds, k), key_cols=min(k + has_bounds, 3))
    axes = fr.body.subplots(1, len(p.panels), sharey=True, squeeze=False)[0]
    shared = _value_limits(p, aggs, connect, p.series)
    ticks = _tick_labels(p, headline, agg_label)
    for n_panel, (ax, (ptitle, ids)) in enumerate(zip(axes, p.panels)):
        xlim = shared if share_x else _value_limits(p, aggs, connect, ids)
        _draw_panel(ax, p, ids, connect, xlim[1] - xlim[0])
        if agg_label:
            ax.axhline(len(p.labels) - 0.5, color=palette.GRID_GREY, lw=0.8)
            _draw_aggregate(ax, ids, aggs, len(p.labels), connect)
        _finish_axes(ax, p, ticks, ptitle, n_panel == 0, xlim)
    # One unit line under all panels: per-panel labels would run into each other.
    fr.body.supxlabel(unit, fontsize=axes[0].xaxis.label.get_fontsize())
    table = _table(p, aggs, labels, unit, connect)
    coverage = {"n": len(p.order), "N": len(p.rows), "missing": p.missing, "headline_year": headline,
                "window": window, "comparison": bool(comparison),
                "aggregate": {s: {"value": v, "n": n, "N": t} for s, (v, n, t) in aggs.items()}}
    return finish(fr, kind="intervals", title=title or " / ".join(p.series), subtitle=subtitle, unit=unit,
                  data=table, footer_lines=footer, notes=notes, coverage=coverage, sources=sources,
                  axes={f"panel{k}": ax for k, ax in enumerate(axes)}, made_by=made_by)


def _pair_note(p: _Panels, labels: Mapping[str, str]) -> str:
    first, second = p.panels[0][1][:2] if len(p.panels[0][1]) >= 2 else (p.series[0], p.series[0])
    return (f"Beside each pair: {labels[first]} minus {labels[second]} (difference in the unit shown), only where both "
            "come from the same source, vintage and year.")


def _plus_three_note(p: _Panels) -> list[str]:
    groups = groups_of(p.rows)
    return (["Plus Three comparators in italics."] if any(groups.get(i) == palette.PLUS_THREE for i in p.labels)
            else [])


__all__ = ["catalogue_notes", "default_label", "intervals"]
