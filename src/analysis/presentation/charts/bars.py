"""Ranked horizontal bars of the latest value per country, optionally coloured by band (banded bars)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from analysis.presentation.charts import footer as footer_mod
from analysis.presentation.charts import palette
from analysis.presentation.charts.base import (
    DEFAULT_WIDTH,
    Chart,
    ChartDataError,
    bar_key_handles,
    check_tidy,
    collect_footer,
    finish,
    frame,
    one_indicator,
    unit_of,
)
from analysis.presentation.charts.common import (
    STATISTICS,
    Window,
    aggregate_label,
    aggregate_latest,
    aggregate_name,
    aggregate_rows,
    asean_members,
    concat,
    country_rows,
    headline_year,
    in_style,
    latest_per_country,
    missing_note,
    names_of,
    no_data_rows,
    plotted_rows,
    split_present,
    style_tick_labels,
    title_or,
)
from analysis.presentation.charts.layout import fmt
from analysis.store import api

DIRECTIONS = ("higher", "lower", "neutral")


@dataclass
class _Ranking:
    """The countries of a bar chart: ranked with data, then without."""

    latest: pd.DataFrame
    values: pd.Series
    order: list[str]
    missing: list[str]
    headline: int | None

    @property
    def labels(self) -> list[str]:
        return self.order + self.missing


def _rank(latest: pd.DataFrame, rows: pd.DataFrame) -> _Ranking:
    have, missing = split_present(rows, latest.index)
    values = latest["value"] if not latest.empty else pd.Series(dtype="float64")
    headline = headline_year(latest["year"]) if not latest.empty else None
    order = sorted(have, key=lambda i: (-values[i], i))
    return _Ranking(latest=latest, values=values, order=order, missing=missing, headline=headline)


def _min_difference(indicator_id: str, given: float | None) -> float:
    """The catalogue's smallest meaningful difference of the indicator, unless given."""
    if given is not None:
        return float(given)
    try:
        return api.min_difference_of(indicator_id)
    except KeyError:
        raise ChartDataError(f"banded_bars: indicator {indicator_id!r} is not in data/indicators.toml, so its "
                             "min_difference (the smallest difference worth a band colour) is unknown; "
                             "pass min_difference= to the chart") from None


def _bands(rk: _Ranking, rows: pd.DataFrame, members: list[str], indicator_id: str, better: str | None,
           min_difference: float | None) -> pd.DataFrame:
    """Each country's band against the ASEAN median ± 1 MAD (widened to the catalogue's minimum), judged."""
    if better is not None and better not in DIRECTIONS:
        raise ChartDataError(f"banded_bars: better must be one of {', '.join(DIRECTIONS)} or None, got {better!r}")
    bands = api.band(rk.values.reindex(rows["iso3"]), reference=rk.values.reindex(members),
                     min_difference=_min_difference(indicator_id, min_difference))
    bands["judged"] = api.judge(bands["band"], better).to_numpy()
    return bands


def _table(rk: _Ranking, rows: pd.DataFrame, ind: str, unit: str, aggregate: str | None, agg: tuple,
           bands: pd.DataFrame | None) -> pd.DataFrame:
    """The CSV: the bars in drawing order, the "no data" rows, the aggregate and the bands."""
    plotted = (plotted_rows(rk.latest.loc[rk.order].reset_index(drop=True), rows, role="country")
               if rk.order else pd.DataFrame())
    parts = [plotted, no_data_rows(rk.missing, rows, ind, unit).assign(role="no data")]
    agg_val, n_agg, n_tot = agg
    if aggregate and n_agg:
        parts.append(aggregate_rows(aggregate, [ind], years=[pd.NA], values=[agg_val], unit=[unit],
                                    projection=[pd.NA], n=[n_agg], total=[n_tot],
                                    role=[f"aggregate: {STATISTICS[aggregate]}"]))
    table = concat(parts)
    if bands is not None and not table.empty:
        bf = bands.reindex(table["iso3"])
        table["band"] = bf["band"].fillna("").to_numpy()
        table["judged"] = bf["judged"].fillna("").to_numpy()
        table["band_lower"] = bf["lower"].to_numpy()
        table["band_upper"] = bf["upper"].to_numpy()
    return table


def _band_key(better: str | None) -> list[Patch]:
    labels = ("better", "within", "worse") if better in ("higher", "lower") else ("above", "within", "below")
    words = {"within": "within ASEAN median ± 1 MAD", "better": "better than the band",
             "worse": "worse than the band", "above": "above the band", "below": "below the band"}
    return [Patch(facecolor=palette.BAND_COLOURS[b], label=words[b]) for b in labels]


def _draw_bars(ax, rk: _Ranking, rows: pd.DataFrame, bands: pd.DataFrame | None) -> None:
    for k, iso in enumerate(rk.order):
        st = palette.style_of(iso, rows)
        colour = palette.BAND_COLOURS[bands.loc[iso, "judged"]] if bands is not None else st["colour"]
        ax.barh(k, rk.values[iso], height=0.72, color=colour, hatch=st["hatch"],
                edgecolor="white" if st["hatch"] else "none", linewidth=0, gid=f"bar-{iso}")


def _value_span(values: pd.Series) -> tuple[float, float]:
    """(lowest x, width) of the value axis: from zero or the lowest value to the highest."""
    vmax = float(values.max()) if len(values) else 1.0
    vmin = min(0.0, float(values.min())) if len(values) else 0.0
    return vmin, (vmax - vmin) or 1.0


def _draw_value_labels(ax, rk: _Ranking, vmin: float, span: float) -> None:
    """The value beside each bar (with its year where it differs from the headline year), "no data" rows."""
    for k, iso in enumerate(rk.order):
        v = rk.values[iso]
        yr = int(rk.latest.loc[iso, "year"])
        label = fmt(v) + (f" ({yr})" if rk.headline is not None and yr != rk.headline else "")
        ax.text(v + span * 0.01, k, label, va="center", ha="left", fontsize=8, color="#222222")
    for k, iso in enumerate(rk.missing, start=len(rk.order)):
        ax.text(vmin + span * 0.01, k, "no data", va="center", ha="left", fontsize=8, color=palette.NO_DATA_COLOUR,
                style="italic", gid=f"nodata-{iso}")


def _draw_aggregate(ax, statistic: str, value: float) -> None:
    ax.axvline(value, color=palette.AGGREGATE_COLOUR, lw=palette.AGGREGATE_LINEWIDTH * 0.8, zorder=4, gid="aggregate")
    ax.text(value, -0.75, f"{aggregate_name(statistic)}: {fmt(value)}", ha="center", va="bottom", fontsize=8,
            color=palette.AGGREGATE_COLOUR, fontweight="bold", zorder=6,
            bbox=dict(facecolor="white", edgecolor="none", pad=1.0))


def _finish_axes(ax, rk: _Ranking, rows: pd.DataFrame, unit: str, vmin: float, span: float) -> None:
    names = names_of(rows)
    n_rows = len(rk.labels)
    ax.set_yticks(np.arange(n_rows), [names.get(i, i) for i in rk.labels])
    style_tick_labels(ax.get_yticklabels(), rk.labels, rows, rk.missing)
    ax.set_ylim(n_rows - 0.4, -1.1)
    ax.set_xlim(vmin, vmin + span * 1.16)
    ax.set_xlabel(unit)
    ax.tick_params(axis="y", length=0)


@in_style
def ranked_bars(
    data: pd.DataFrame, *, countries: Sequence[str] | None = None, title: str | None = None,
    subtitle: str | None = None, unit: str | None = None, window: Window = None, aggregate: str | None = "median",
    banded: bool = False, better: str | None = None, min_difference: float | None = None, notes: Sequence[str] = (),
    made_by: str | None = None, width: float = DEFAULT_WIDTH,
) -> Chart:
    """Latest value per country as ranked horizontal bars; countries without data as "no data" rows.

    The year of a bar is printed beside its value where it differs from the headline year. With
    ``banded=True`` bars are coloured by their position against the ASEAN median ± 1 MAD, widened
    to ``min_difference`` (default: the catalogue's, ``api.min_difference_of``), as better / worse
    when ``better`` is "higher" or "lower", above / below when it is "neutral" or None.
    """
    d = check_tidy(data, what="ranked_bars")
    ind = one_indicator(d, "ranked_bars")
    unit = unit_of(d, unit)
    rows = country_rows(countries)
    rk = _rank(latest_per_country(d[d["iso3"].isin(rows["iso3"])], window), rows)
    members = asean_members(rows)
    agg = aggregate_latest(rk.latest, members, aggregate) if aggregate else (math.nan, 0, len(members))
    bands = _bands(rk, rows, members, ind, better, min_difference) if banded else None

    subtitle = subtitle if subtitle is not None else (
        f"{unit}" + (f"; latest available year (mostly {rk.headline})" if rk.headline else ""))
    notes = [footer_mod.coverage_note(len(rk.order), len(rows), window), missing_note(rk.missing, rows), *notes]
    table = _table(rk, rows, ind, unit, aggregate, agg, bands)
    footer, sources = collect_footer(rk.latest if not rk.latest.empty else None, notes)
    show_agg = bool(aggregate and agg[1])
    agg_label = aggregate_label(aggregate, agg[1], agg[2], "latest values") if show_agg else None
    key = bar_key_handles(set(rows["group"]), agg_label, _band_key(better) if banded else [])
    fr = frame(title_or(title, ind), subtitle, footer, body_height=0.27 * len(rk.labels) + 0.55, width=width,
               key=key, key_cols=3)
    ax = fr.body.subplots()
    ax.grid(axis="y", visible=False)
    _draw_bars(ax, rk, rows, bands)
    vmin, span = _value_span(rk.values)
    _draw_value_labels(ax, rk, vmin, span)
    if bands is not None and agg[1]:
        ax.axvspan(float(bands["lower"].iloc[0]), float(bands["upper"].iloc[0]), color="#000000", alpha=0.07, lw=0,
                   zorder=0)
    if show_agg:
        _draw_aggregate(ax, aggregate, agg[0])
    _finish_axes(ax, rk, rows, unit, vmin, span)
    coverage = {"n": len(rk.order), "N": len(rows), "missing": rk.missing, "headline_year": rk.headline,
                "window": window}
    return finish(fr, kind="ranked_bars", title=title_or(title, ind), subtitle=subtitle, unit=unit, data=table,
                  footer_lines=footer, notes=notes, coverage=coverage, sources=sources, axes={"main": ax},
                  made_by=made_by)


def banded_bars(data: pd.DataFrame, *, better: str | None = None, min_difference: float | None = None,
                **kwargs) -> Chart:
    """Ranked bars coloured by band: above / within / below the ASEAN median ± 1 MAD (see ``ranked_bars``)."""
    chart = ranked_bars(data, banded=True, better=better, min_difference=min_difference, **kwargs)
    chart.kind = "banded_bars"
    if not kwargs.get("made_by"):
        chart.made_by = "analysis.charts.banded_bars"
    return chart
