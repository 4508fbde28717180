"""The share of the population aged 65 and over, with the ageing thresholds drawn as reference lines."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.presentation.charts.base import Chart
from analysis.presentation.charts.lines import lines
from analysis.store.ageing import splice_notes

THRESHOLD_COLOUR = "#999999"


def share_65_chart(series: pd.DataFrame, countries: Sequence[str] | None = None, start: int = 1960,
                   end: int = 2100, thresholds: Sequence[float] = (7.0, 14.0, 21.0),
                   title: str | None = None) -> Chart:
    """Line chart of the spliced share aged 65+ with the 7/14/21 % thresholds drawn as reference lines.

    ``series`` comes from ``analysis.store.ageing.load_share_65``: a series of its own (indicator id
    ``pop_65plus_share_spliced``), so its CSV never passes a spliced value off as either source's; the
    footer gives its source line and how it was joined.
    """
    data = series.assign(unit="% of population")
    shown = data.loc[data["year"].between(start, end)]
    notes = [*splice_notes(shown if not shown.empty else data),
             "Grey lines: 7 % (ageing), 14 % (aged), 21 % (super-aged)."]
    chart = lines(data, countries=countries, start=start, end=end, aggregate=None,
                  title=title or "Share of the population aged 65 and over",
                  subtitle="% of population; thresholds 7, 14 and 21 %", notes=notes,
                  made_by="analysis.presentation.charts.share_65_chart")
    ax = chart.axes.get("main")
    if ax is not None:
        for t in thresholds:
            ax.axhline(t, color=THRESHOLD_COLOUR, lw=0.8, ls="-", zorder=0.6)
    return chart
