"""Shares per country stacked in one bar (e.g. health spending by source), latest common year."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.patches import Patch

from analysis.presentation.charts import palette
from analysis.presentation.charts.base import (
    DEFAULT_WIDTH,
    Chart,
    check_tidy,
    collect_footer,
    finish,
    frame,
    unit_of,
)
from analysis.presentation.charts.common import (
    Window,
    concat,
    country_rows,
    faded_note,
    groups_of,
    headline_year,
    in_style,
    luminance,
    missing_note,
    names_of,
    no_data_rows,
    old_values,
    plotted_rows,
    style_tick_labels,
    window_text,
    years_text,
)
from analysis.presentation.charts.layout import fmt


def _colour(j: int) -> str:
    return palette.COMPONENT_COLOURS[j % len(palette.COMPONENT_COLOURS)]


@dataclass
class _Stacks:
    """The rows drawn: ASEAN members, a separator (None), Plus Three; each country in its latest complete year."""

    chosen: pd.DataFrame
    wide: pd.DataFrame
    year_of: dict[str, int]
    have: list[str]
    missing: list[str]
    order: list[str | None]
    headline: int | None


def _stacks(d: pd.DataFrame, rows: pd.DataFrame, comps: list[str]) -> _Stacks:
    complete = d.groupby(["iso3", "year"])["indicator_id"].nunique()
    complete = complete[complete == len(comps)].reset_index()
    year_of = complete.groupby("iso3")["year"].max().to_dict()
    have = [i for i in rows["iso3"] if i in year_of]
    missing = [i for i in rows["iso3"] if i not in year_of]
    chosen = d[[year_of.get(i) == y for i, y in zip(d["iso3"], d["year"])]]
    wide = chosen.pivot(index="iso3", columns="indicator_id", values="value").reindex(columns=comps)
    groups = groups_of(rows)

    def ranked(isos):  # largest first component on top
        return sorted(isos, key=lambda i: (-wide.loc[i, comps[0]], i))

    asean = ranked([i for i in have if groups[i] == palette.ASEAN])
    plus3 = ranked([i for i in have if groups[i] != palette.ASEAN])
    miss_a = [i for i in missing if groups[i] == palette.ASEAN]
    miss_p = [i for i in missing if groups[i] != palette.ASEAN]
    separator = [None] if (plus3 or miss_p) and (asean or miss_a) else []
    headline = headline_year(pd.Series(list(year_of.values()))) if year_of else None
    return _Stacks(chosen=chosen, wide=wide, year_of=year_of, have=have, missing=missing,
                   order=asean + miss_a + separator + plus3 + miss_p, headline=headline)


def _draw_stack(ax, k: int, iso: str, s: _Stacks, comps: list[str], xmax: float, faded: bool = False) -> float:
    """One country's segments, each labelled with its value where wide enough; returns the bar's end.
    ``faded``: the country's year is much older than the others' (drawn lighter and dotted)."""
    left = 0.0
    for j, c in enumerate(comps):
        v = float(s.wide.loc[iso, c])
        ax.barh(k, v, left=left, height=0.72, color=_colour(j), edgecolor="white", linewidth=0.6, gid=f"seg-{iso}-{c}",
                alpha=palette.FADED_ALPHA if faded else 1.0, hatch=palette.FADED_HATCH if faded else None)
        if v >= xmax * 0.06:
            ax.text(left + v / 2, k, fmt(v, 0), ha="center", va="center", fontsize=7.4,
                    color="white" if luminance(to_rgba(_colour(j))) < 0.55 else "#111111")
        left += v
    return left


def _draw_rows(ax, s: _Stacks, comps: list[str], xmax: float) -> None:
    old = old_values(pd.Series(s.year_of, dtype="float64"))
    for k, iso in enumerate(s.order):
        if iso is None:
            continue
        if iso in s.missing:
            ax.text(xmax * 0.005, k, "no data", va="center", ha="left", fontsize=8, style="italic",
                    color=palette.NO_DATA_COLOUR, gid=f"nodata-{iso}")
            continue
        end = _draw_stack(ax, k, iso, s, comps, xmax, faded=bool(old.get(iso, False)))
        if s.headline is not None and s.year_of[iso] != s.headline:
            ax.text(end + xmax * 0.01, k, str(s.year_of[iso]), va="center", ha="left", fontsize=7.6, color="#444444")


def _label_rows(ax, s: _Stacks, rows: pd.DataFrame) -> None:
    names = names_of(rows)
    ticks = [k for k, iso in enumerate(s.order) if iso is not None]
    ax.set_yticks(ticks, [names.get(s.order[k], s.order[k]) for k in ticks])
    style_tick_labels(ax.get_yticklabels(), [s.order[k] for k in ticks], rows, s.missing)
    if None in s.order:
        sep = s.order.index(None)
        ax.axhline(sep, color="#444444", lw=0.8)
        ax.text(0, sep, "Plus Three comparators ", ha="left", va="center", fontsize=7.8, style="italic",
                color="#444444", bbox=dict(facecolor="white", edgecolor="none", pad=1))


@in_style
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
    rows = country_rows(countries)
    comps = list(components)
    labels = labels or {c: c for c in comps}
    unit = unit_of(d[d["indicator_id"].isin(comps)], unit)
    d = d[d["iso3"].isin(rows["iso3"]) & d["indicator_id"].isin(comps) & d["value"].notna() & ~d["projection"]]
    if window:
        d = d[(d["year"] >= window[0]) & (d["year"] <= window[1])]
    s = _stacks(d, rows, comps)
    plotted = concat([
        plotted_rows(s.chosen.sort_values(["iso3", "indicator_id"]), rows, role="segment"),
        no_data_rows(s.missing, rows, comps[0], unit).assign(role="no data", indicator_id="all components"),
    ])
    notes = [f"Latest year with all {len(comps)} components" + window_text(window)
             + f"; {len(s.have)} of {len(rows)} countries with data.", missing_note(s.missing, rows),
             faded_note(pd.Series(s.year_of, dtype="float64"), names_of(rows)), *notes]
    footer, sources = collect_footer(s.chosen if not s.chosen.empty else None, notes)
    subtitle = subtitle if subtitle is not None else "; ".join(
        t for t in (unit, years_text(pd.Series(s.year_of, dtype="int64"))) if t)
    key = [Patch(facecolor=_colour(k), label=labels.get(c, c)) for k, c in enumerate(comps)]
    fr = frame(title or "Composition", subtitle, footer, body_height=0.3 * len(s.order) + 0.6, width=width, key=key,
               key_cols=min(4, len(key)))
    ax = fr.body.subplots()
    ax.grid(axis="y", visible=False)
    totals = s.wide.sum(axis=1) if not s.wide.empty else pd.Series(dtype="float64")
    xmax = max(100.0, float(totals.max()) if len(totals) else 100.0)
    _draw_rows(ax, s, comps, xmax)
    _label_rows(ax, s, rows)
    ax.set_ylim(len(s.order) - 0.4, -0.6)
    ax.set_xlim(0, xmax * 1.07)
    ax.set_xlabel(unit)
    ax.tick_params(axis="y", length=0)
    coverage = {"n": len(s.have), "N": len(rows), "missing": s.missing, "headline_year": s.headline}
    return finish(fr, kind="stacked_bars", title=title or "Composition", subtitle=subtitle, unit=unit, data=plotted,
                  footer_lines=footer, notes=notes, coverage=coverage, sources=sources, axes={"main": ax},
                  made_by=made_by)
