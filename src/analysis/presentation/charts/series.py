"""What the time-series kinds (lines, small multiples) share: the rows drawn and how one series is drawn."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.presentation.charts import palette
from analysis.presentation.charts.common import (
    STATISTICS,
    aggregate_rows,
    aggregate_series,
    asean_members,
    concat,
    no_data_rows,
    plotted_rows,
    split_present,
)


@dataclass
class SeriesPanel:
    """The rows a time-series chart draws.

    ``data``: the countries' series in the span; ``agg``: the ASEAN statistic per year (empty when
    none is drawn); ``plotted``: the CSV, with "no data" rows for countries without a value (so a
    gap is shown, not dropped).
    """

    data: pd.DataFrame
    have: list[str]
    missing: list[str]
    members: list[str]
    agg: pd.DataFrame
    plotted: pd.DataFrame

    @property
    def has_aggregate(self) -> bool:
        return not self.agg.empty

    @property
    def has_projections(self) -> bool:
        return bool(self.data["projection"].any())

    def n_range(self) -> str:
        """How many members the yearly statistic covers: "9" or "7–10"."""
        lo, hi = int(self.agg["n"].min()), int(self.agg["n"].max())
        return f"{lo}" if lo == hi else f"{lo}–{hi}"


def _in_span(d: pd.DataFrame, start: int | None, end: int | None, projections: bool) -> pd.DataFrame:
    if not projections:
        d = d[~d["projection"]]
    if start is not None:
        d = d[d["year"] >= start]
    if end is not None:
        d = d[d["year"] <= end]
    return d.sort_values(["iso3", "year"])


def series_panel(d: pd.DataFrame, rows: pd.DataFrame, ind: str, unit: str, aggregate: str | None,
                 start: int | None, end: int | None, projections: bool) -> SeriesPanel:
    d = _in_span(d[d["iso3"].isin(rows["iso3"]) & d["value"].notna()], start, end, projections)
    have, missing = split_present(rows, set(d["iso3"]))
    members = asean_members(rows)
    agg = aggregate_series(d, members, aggregate) if aggregate else pd.DataFrame()
    plotted = plotted_rows(d, rows, role="country")
    if aggregate and not agg.empty:
        plotted = concat([plotted, aggregate_rows(
            aggregate, ind, years=agg["year"], values=agg["value"].to_numpy(), unit=unit,
            projection=agg["projection"].astype("boolean"), n=agg["n"].to_numpy(), total=agg["N"].to_numpy(),
            role=f"aggregate: {STATISTICS[aggregate]}")])
    plotted = concat([plotted, no_data_rows(missing, rows, ind, unit).assign(role="no data")])
    return SeriesPanel(data=d, have=have, missing=missing, members=members, agg=agg, plotted=plotted)


def draw_series(ax, part: pd.DataFrame, st: dict, lw: float = 1.7, gid: str | None = None) -> None:
    """One country's line: estimates solid (or dashed for Plus Three), projections dotted and lighter."""
    est = part[~part["projection"]]
    proj = part[part["projection"]]
    if not est.empty:
        ax.plot(est["year"], est["value"], color=st["colour"], ls=st["linestyle"], lw=lw, gid=gid,
                solid_capstyle="round")
    if not proj.empty:
        # Projections continue from the last estimate.
        joined = pd.concat([est.tail(1), proj]) if not est.empty else proj
        # Dotted for ASEAN, dash-dot for Plus Three: the group stays readable in the projections.
        ls = (0, (1, 1.6)) if st["group"] != palette.PLUS_THREE else (0, (4, 1.5, 1, 1.5))
        ax.plot(joined["year"], joined["value"], color=st["colour"], ls=ls, lw=lw * 0.9, alpha=0.85,
                gid=f"{gid}-projection" if gid else None)
