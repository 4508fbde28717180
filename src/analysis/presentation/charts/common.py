"""What every chart kind shares: the style decorator, the countries drawn, the group statistic, the CSV rows.

Long format: iso3, year, indicator_id, value, unit, source_id, vintage, projection. Countries
default to the 14 focus countries; a country without data is shown ("no data"), never left out.
Group aggregates are computed over the ASEAN members drawn (by the API's one aggregation rule) and
labelled with the statistic and "n of N".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.core import settings
from analysis.presentation.charts import palette, style
from analysis.presentation.charts.base import ChartDataError
from analysis.store import api

Window = tuple[int, int] | None

# The two group statistics of the project (see analysis.rules.aggregates), drawn alike everywhere.
STATISTICS = {"median": "median", "weighted_mean": "population-weighted mean"}
# Which columns of the API's aggregate frame hold each statistic and the count of members behind it.
_STAT_COLUMNS = {"median": ("median", "n"), "weighted_mean": ("weighted_mean", "n_weighted")}


def in_style(func):
    """Draw inside the packaged style: text and line properties are fixed when artists are created."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with style.styled():
            return func(*args, **kwargs)
    return wrapper


# ----------------------------------------------------------------------------- the countries drawn
def country_rows(countries: Sequence[str] | None) -> pd.DataFrame:
    """Drawing attributes for the requested countries (default: the focus set), in drawing order."""
    table = palette.country_table()
    if countries is None:
        return table
    return pd.DataFrame([palette.style_of(c, table) for c in countries])


def asean_members(rows: pd.DataFrame) -> list[str]:
    return rows.loc[rows["group"] == palette.ASEAN, "iso3"].tolist()


def names_of(rows: pd.DataFrame) -> dict[str, str]:
    return dict(zip(rows["iso3"], rows["name"]))


def groups_of(rows: pd.DataFrame) -> dict[str, str]:
    return dict(zip(rows["iso3"], rows["group"]))


def split_present(rows: pd.DataFrame, present) -> tuple[list[str], list[str]]:
    """(countries with data, countries without), both in drawing order."""
    have = [i for i in rows["iso3"] if i in present]
    return have, [i for i in rows["iso3"] if i not in present]


def title_or(title: str | None, indicator_id: str) -> str:
    return title or indicator_id


def missing_note(missing: list[str], rows: pd.DataFrame) -> str:
    if not missing:
        return ""
    names = names_of(rows)
    text = "No data: " + ", ".join(names.get(i, i) for i in missing)
    return text if text.endswith(".") else text + "."


def style_tick_labels(labels, isos: Sequence[str], rows: pd.DataFrame, missing: Sequence[str] = ()) -> None:
    """Plus Three comparators in italics, countries without data in grey."""
    groups = groups_of(rows)
    for tick, iso in zip(labels, isos):
        if groups.get(iso) == palette.PLUS_THREE:
            tick.set_fontstyle("italic")
        if iso in missing:
            tick.set_color(palette.NO_DATA_COLOUR)


# ----------------------------------------------------------------------------- latest values
def latest_per_country(data: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Latest non-projected value per country (within the window when given), indexed by iso3."""
    d = data[data["value"].notna() & ~data["projection"]]
    if window:
        d = d[(d["year"] >= window[0]) & (d["year"] <= window[1])]
    if d.empty:
        return d
    d = d.sort_values(["iso3", "year"])
    return d.groupby("iso3", sort=False).tail(1).set_index("iso3", drop=False)


def headline_year(years: pd.Series) -> int | None:
    """The year most values refer to (ties: the later year)."""
    if years.empty:
        return None
    counts = years.astype(int).value_counts()
    best = counts.max()
    return int(max(y for y, c in counts.items() if c == best))


def window_text(window: Window) -> str:
    return f" within {window[0]}–{window[1]}" if window else ""


# ----------------------------------------------------------------------------- years as a reader sees them
def period_of(indicator_id: object) -> int:
    """Years one observation covers (catalogue ``period``; 1 for ids outside the catalogue, such as a
    chart's own derived series)."""
    cat = api.catalogue_model()
    return int(cat[str(indicator_id)].period) if str(indicator_id) in cat else 1


def year_label(year: object, period: int = 1) -> str:
    """The one way a value's year is written: "2015", or "2015–2020" for a five-year period (WPP life
    tables store the period's first year); "" for a missing year."""
    if year is None or pd.isna(year):
        return ""
    first = int(year)
    return f"{first}–{first + period}" if period > 1 else str(first)


def indicator_year_label(indicator_id: object, year: object) -> str:
    """:func:`year_label` with the indicator's catalogue period."""
    return year_label(year, period_of(indicator_id))


def years_text(years: pd.Series, period: int = 1) -> str:
    """The years of a chart's latest values: "latest year: 2023", or "latest year: 2023 for 9 of 11,
    2014–2022 for 2" (the API's one wording, ``api.year_phrase``)."""
    years = pd.Series(years).dropna().astype(int)
    if years.empty:
        return ""
    return "latest year: " + api.year_phrase(years.tolist(), period=period, of_total=True)


def old_values(years: pd.Series) -> pd.Series:
    """Which values (same index as ``years``) are more than ``settings.OLD_VALUE_YEARS`` older than the
    chart's newest value: drawn faded and named in the footer."""
    years = pd.Series(years).astype("float64")
    if years.dropna().empty:
        return pd.Series(False, index=years.index)
    return (years.max() - years > settings.OLD_VALUE_YEARS).fillna(False)


def faded_note(years: pd.Series, names: dict[str, str], period: int = 1) -> str:
    """ "Faded: Lao PDR 2012, Myanmar 2014 (more than 5 years older than the newest value, 2024)." for
    the countries (index: iso3) that :func:`old_values` marks; "" when none."""
    years = pd.Series(years).dropna()
    old = years[old_values(years)]
    if old.empty:
        return ""
    items = ", ".join(f"{names.get(i, i)} {year_label(y, period)}" for i, y in old.sort_values().items())
    return (f"Faded: {items} (more than {settings.OLD_VALUE_YEARS} years older than the newest value, "
            f"{year_label(years.max(), period)}).")


# ----------------------------------------------------------------------------- group statistic
def check_statistic(statistic: str) -> None:
    if statistic not in STATISTICS:
        raise ChartDataError(f"aggregate must be one of {sorted(STATISTICS)} or None, got {statistic!r}")


def aggregate_name(statistic: str) -> str:
    return f"ASEAN {STATISTICS[statistic]}"


def aggregate_label(statistic: str, n: int, total: int, of: str = "values") -> str:
    return f"ASEAN {STATISTICS[statistic]} of {of} ({n} of {total} members)"


def aggregate_latest(latest: pd.DataFrame, members: list[str], statistic: str) -> tuple[float, int, int]:
    """Statistic over the ASEAN members' latest values (each from its own year): (value, n, N)."""
    check_statistic(statistic)
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
    value_col, n_col = _STAT_COLUMNS[statistic]
    return float(agg[value_col].iloc[0]), int(agg[n_col].iloc[0]), len(members)


def aggregate_series(d: pd.DataFrame, members: list[str], statistic: str) -> pd.DataFrame:
    """Per-year statistic over the members with data, by the project's one aggregation rule.

    Years below the API's minimum coverage are left out (missing, not computed).
    """
    check_statistic(statistic)
    weights = api.population_weights(members) if statistic == "weighted_mean" else None
    agg = api.aggregate_members(d, members, weights=weights)
    value_col, n_col = _STAT_COLUMNS[statistic]
    out = agg.loc[agg[value_col].notna(), ["year", value_col, n_col, "N", "projection"]]
    out = out.rename(columns={value_col: "value", n_col: "n"}).sort_values("year")
    return out.astype({"year": "int64"}).reset_index(drop=True)


# ----------------------------------------------------------------------------- the CSV of a chart
def plotted_rows(src: pd.DataFrame, rows: pd.DataFrame, **extra) -> pd.DataFrame:
    """The CSV shape: country iso3 + name + group, indicator, year, value, unit, source, vintage."""
    names, groups = names_of(rows), groups_of(rows)
    # The extra columns go into the one constructor: added one by one, each copied the whole frame again.
    return pd.DataFrame({
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
        **extra,
    }, index=pd.RangeIndex(len(src)))


def no_data_rows(missing: list[str], rows: pd.DataFrame, indicator_id: str, unit: str, **extra) -> pd.DataFrame:
    """The CSV rows of the countries drawn as "no data"; ``extra``: further columns (role, panel...)."""
    names, groups = names_of(rows), groups_of(rows)
    return pd.DataFrame({
        "iso3": pd.array(missing, dtype="string"), "country": [names.get(i, i) for i in missing],
        "group": [groups.get(i, "other") for i in missing], "indicator_id": indicator_id,
        "year": pd.array([pd.NA] * len(missing), dtype="Int64"), "value": np.nan, "unit": unit,
        "source_id": pd.NA, "vintage": pd.NA, "projection": pd.array([pd.NA] * len(missing), dtype="boolean"),
        **extra,
    })


def aggregate_rows(statistic: str, indicator_id, *, years, values, unit, projection, n, total,
                   **extra) -> pd.DataFrame:
    """The CSV rows of a drawn group statistic (one per year, end or axis), with n of N members."""
    return pd.DataFrame({
        "iso3": "ASEAN", "country": aggregate_name(statistic), "group": "aggregate", "indicator_id": indicator_id,
        "year": pd.array(years, dtype="Int64"), "value": values, "unit": unit, "source_id": pd.NA, "vintage": pd.NA,
        "projection": pd.array(projection, dtype="boolean"), **extra, "n": n, "N": total,
    })


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- measuring
def lay_out(fig):
    """Place the axes as the figure will be drawn and return the renderer to measure text with.

    Only the layout engine runs: it measures the tick labels, titles and texts it makes room for (and
    brings autoscaled limits and ticks up to date on the way), which is all a label placement reads.
    ``Figure.draw_without_rendering`` would run the same layout and then draw every artist for nothing.
    """
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
    return fig.canvas.get_renderer()


def label_height(ax, fontsize: float, laid_out: bool = False) -> float:
    """Height of one text line in the axes' y data units (after layout).

    ``laid_out``: the caller has just run the layout and changed nothing since that moves the axes
    (the y range may have changed: it is read here), so it is not run again.
    """
    fig = ax.get_figure(root=True)
    if not laid_out:
        lay_out(fig)
    h_px = ax.get_window_extent().height
    ymin, ymax = ax.get_ylim()
    line_px = fontsize * 1.3 / 72.0 * fig.dpi
    return abs(ymax - ymin) * line_px / max(h_px, 1.0)


def luminance(rgba) -> float:
    r, g, b = rgba[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
