"""Ranked horizontal bars of the latest value per country, optionally coloured by band (banded bars)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
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
    faded_note,
    headline_year,
    in_style,
    indicator_year_label,
    latest_per_country,
    missing_note,
    names_of,
    no_data_rows,
    old_values,
    period_of,
    plotted_rows,
    split_present,
    style_tick_labels,
    title_or,
    year_label,
    years_text,
)
from analysis.presentation.charts.layout import clear_of_line, fmt
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
    parts = [plotted, no_data_rows(rk.missing, rows, ind, unit, role="no data")]
    agg_val, n_agg, n_tot = agg
    if aggregate and n_agg:
        parts.append(aggregate_rows(aggregate, [ind], years=[pd.NA], values=[agg_val], unit=[unit],
                                    projection=[pd.NA], n=[n_agg], total=[n_tot],
                                    role=[f"aggregate: {STATISTICS[aggregate]}"]))
    table = concat(parts)
    if period_of(ind) > 1 and not table.empty:
        # a period's first year is what `year` holds; the label says the whole period
        table.insert(table.columns.get_loc("year") + 1, "period", [year_label(y, period_of(ind))
                                                                   for y in table["year"]])
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


def _bar_styles(rk: _Ranking, rows: pd.DataFrame, bands: pd.DataFrame | None) -> list[tuple[str, str | None, bool]]:
    """(colour, hatch, faded) of each bar, in drawing order."""
    old = old_values(rk.latest["year"]) if not rk.latest.empty else pd.Series(dtype=bool)
    # The drawing table read once (the bars are ranked from its rows), not one row lookup per bar.
    colours = dict(zip(rows["iso3"], rows["colour"]))
    hatches = {iso: h if isinstance(h, str) else None for iso, h in zip(rows["iso3"], rows["hatch"])}
    judged = bands["judged"].to_dict() if bands is not None else {}
    out = []
    for iso in rk.order:
        colour = palette.BAND_COLOURS[judged[iso]] if bands is not None else colours[iso]
        # A value much older than the others is drawn faded and dotted, so it is not read as current.
        faded = bool(old.get(iso, False))
        out.append((colour, hatches[iso] or (palette.FADED_HATCH if faded else None), faded))
    return out


def _draw_bars(ax, rk: _Ranking, rows: pd.DataFrame, bands: pd.DataFrame | None) -> None:
    """All bars in one ``barh`` call (one call per bar cost more than the bars themselves), then each
    bar's own transparency and id."""
    if not rk.order:
        return
    styles = _bar_styles(rk, rows, bands)
    bars = ax.barh(np.arange(len(rk.order)), [rk.values[iso] for iso in rk.order], height=0.72,
                   color=[c for c, _, _ in styles], edgecolor=["white" if h else "none" for _, h, _ in styles],
                   linewidth=0)
    for bar, iso, (_, hatch, faded) in zip(bars.patches, rk.order, styles):
        # Set per bar, not as barh's list: barh keeps a list's items as numpy strings or plain ones
        # depending on whether the list mixes in None, and the SVG names a hatch pattern after that.
        bar.set_hatch(hatch)
        bar.set_alpha(palette.FADED_ALPHA if faded else 1.0)
        bar.set_gid(f"bar-{iso}")


def _value_span(values: pd.Series) -> tuple[float, float]:
    """(lowest x, width) of the value axis: from zero or the lowest value to the highest."""
    vmax = float(values.max()) if len(values) else 1.0
    vmin = min(0.0, float(values.min())) if len(values) else 0.0
    return vmin, (vmax - vmin) or 1.0


def _draw_value_labels(ax, rk: _Ranking, vmin: float, span: float) -> list:
    """The value beside each bar (with its year where it differs from the headline year), "no data" rows;
    returns the value labels."""
    labels = []
    for k, iso in enumerate(rk.order):
        v = rk.values[iso]
        yr = int(rk.latest.loc[iso, "year"])
        shown = indicator_year_label(rk.latest.loc[iso, "indicator_id"], yr)
        label = fmt(v) + (f" ({shown})" if rk.headline is not None and yr != rk.headline else "")
        labels.append(ax.text(v + span * 0.01, k, label, va="center", ha="left", fontsize=8, color="#222222",
                              gid=f"value-{iso}"))
    for k, iso in enumerate(rk.missing, start=len(rk.order)):
        ax.text(vmin + span * 0.01, k, "no data", va="center", ha="left", fontsize=8, color=palette.NO_DATA_COLOUR,
                style="italic", gid=f"nodata-{iso}")
    return labels


def _draw_aggregate(ax, statistic: str, value: float) -> None:
    ax.axvline(value, color=palette.AGGREGATE_COLOUR, lw=palette.AGGREGATE_LINEWIDTH * 0.8, zorder=4, gid="aggregate")
    ax.text(value, -0.75, f"{aggregate_name(statistic)}: {fmt(value)}", ha="center", va="bottom", fontsize=8,
            color=palette.AGGREGATE_COLOUR, fontweight="bold", zorder=6,
            bbox=dict(facecolor="white", edgecolor="none", pad=1.0), gid="aggregate-label")


# ----------------------------------------------------------------------------- an aggregate a source publishes
PUBLISHED_LINESTYLE = (0, (4, 2))


def _published_pick(published: pd.DataFrame | None, headline: int | None, window: Window) -> pd.Series | None:
    """The published aggregate's row drawn beside the project's median: in the bars' headline year where
    the source has it, else its latest year (within the window when one is given)."""
    if published is None or published.empty:
        return None
    rows = published.loc[published["value"].notna()].sort_values("year")
    if window:
        rows = rows.loc[rows["year"].between(window[0], window[1])]
    if rows.empty:
        return None
    same = rows.loc[rows["year"] == headline] if headline is not None else rows.iloc[:0]
    return (same if not same.empty else rows).iloc[-1]


def _published_label(pub: pd.Series) -> str:
    return f"{pub['label']}, {int(pub['year'])}: {fmt(float(pub['value']))}"


def _published_note(pub: pd.Series | None, agg: tuple) -> str:
    if pub is None:
        return ""
    _, n, total = agg
    return (f"Dashed line: {_published_label(pub)}. The two ASEAN figures differ because {pub['why']} "
            f"({n} of {total} members here).")


def _published_rows(pub: pd.Series | None, ind: str, unit: str) -> pd.DataFrame:
    """The CSV row of the published aggregate, with its own source id."""
    if pub is None:
        return pd.DataFrame()
    return pd.DataFrame({
        "iso3": [str(pub["geo"])], "country": [str(pub["label"])], "group": ["aggregate"], "indicator_id": [ind],
        "year": pd.array([int(pub["year"])], dtype="Int64"), "value": [float(pub["value"])], "unit": [unit],
        "source_id": [str(pub["source_id"])], "vintage": [str(pub["vintage"])],
        "projection": pd.array([bool(pub["projection"])], dtype="boolean"), "role": ["published aggregate"]})


def _published_key(pub: pd.Series | None) -> list[Line2D]:
    """The key entry naming the published aggregate (no text over the bars)."""
    if pub is None:
        return []
    # the key keeps the name short; the footer and the CSV carry the whole label
    short = str(pub["label"]).split(" (")[0]
    return [Line2D([], [], color=palette.AGGREGATE_COLOUR, lw=palette.AGGREGATE_LINEWIDTH * 0.5,
                   ls=PUBLISHED_LINESTYLE, label=f"{short}, {int(pub['year'])}: {fmt(float(pub['value']))}")]


def _draw_published(ax, pub: pd.Series | None) -> None:
    if pub is not None:
        ax.axvline(float(pub["value"]), color=palette.AGGREGATE_COLOUR, lw=palette.AGGREGATE_LINEWIDTH * 0.5,
                   ls=PUBLISHED_LINESTYLE, zorder=4, gid="published-aggregate")


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
    made_by: str | None = None, width: float = DEFAULT_WIDTH, published: pd.DataFrame | None = None,
) -> Chart:
    """Latest value per country as ranked horizontal bars; countries without data as "no data" rows.

    ``published``: an aggregate a source publishes for ASEAN (``analysis.store.series.published_aggregate``),
    drawn dashed beside the project's median, named in the key and footer with why the two differ.

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
    pub = _published_pick(published, rk.headline, window)

    years = rk.latest["year"] if not rk.latest.empty else pd.Series(dtype="int64")
    subtitle = subtitle if subtitle is not None else "; ".join(
        t for t in (unit, years_text(years, period_of(ind))) if t)
    band_note = footer_mod.min_difference_note(_min_difference(ind, min_difference), unit) if banded else ""
    notes = [footer_mod.coverage_note(len(rk.order), len(rows), window, period=period_of(ind)),
             missing_note(rk.missing, rows),
             faded_note(years, names_of(rows), period_of(ind)), band_note, *notes, _published_note(pub, agg)]
    table = concat([_table(rk, rows, ind, unit, aggregate, agg, bands), _published_rows(pub, ind, unit)])
    footer, sources = collect_footer(rk.latest if not rk.latest.empty else None, notes,
                                     {str(pub["source_id"]): [str(pub["vintage"])]} if pub is not None else None)
    show_agg = bool(aggregate and agg[1])
    agg_label = aggregate_label(aggregate, agg[1], agg[2], "latest values") if show_agg else None
    key = bar_key_handles(set(rows["group"]), agg_label, _published_key(pub) + (_band_key(better) if banded else []))
    fr = frame(title_or(title, ind), subtitle, footer, body_height=0.27 * len(rk.labels) + 0.55, width=width,
               key=key, key_cols=3)
    ax = fr.body.subplots()
    ax.grid(axis="y", visible=False)
    _draw_bars(ax, rk, rows, bands)
    vmin, span = _value_span(rk.values)
    value_labels = _draw_value_labels(ax, rk, vmin, span)
    if bands is not None and agg[1]:
        ax.axvspan(float(bands["lower"].iloc[0]), float(bands["upper"].iloc[0]), color="#000000", alpha=0.07, lw=0,
                   zorder=0)
    if show_agg:
        _draw_aggregate(ax, aggregate, agg[0])
    _draw_published(ax, pub)
    _finish_axes(ax, rk, rows, unit, vmin, span)
    coverage = {"n": len(rk.order), "N": len(rows), "missing": rk.missing, "headline_year": rk.headline,
                "window": window}
    chart = finish(fr, kind="ranked_bars", title=title_or(title, ind), subtitle=subtitle, unit=unit, data=table,
                   footer_lines=footer, notes=notes, coverage=coverage, sources=sources, axes={"main": ax},
                   made_by=made_by)
    # The layout is final now: labels a vertical (median, published aggregate) would cross move past it.
    for x, lw in ([(agg[0], palette.AGGREGATE_LINEWIDTH * 0.8)] if show_agg else []) + (
            [(float(pub["value"]), palette.AGGREGATE_LINEWIDTH * 0.5)] if pub is not None else []):
        clear_of_line(ax, value_labels, x, lw)
    return chart


def banded_bars(data: pd.DataFrame, *, better: str | None = None, min_difference: float | None = None,
                **kwargs) -> Chart:
    """Ranked bars coloured by band: above / within / below the ASEAN median ± 1 MAD (see ``ranked_bars``)."""
    chart = ranked_bars(data, banded=True, better=better, min_difference=min_difference, **kwargs)
    chart.kind = "banded_bars"
    if not kwargs.get("made_by"):
        chart.made_by = "analysis.charts.banded_bars"
    return chart
