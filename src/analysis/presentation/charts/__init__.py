"""Every chart of caring-societies is drawn and exported here.

Chart kinds take the store's long format and return a ``Chart`` (figure + metadata); ``save``
exports it (PNG, SVG, PDF, CSV of the plotted values, JSON metadata) into ``reports/figures/``.

    from analysis.presentation import charts
    c = charts.ranked_bars(api.load("pop_65plus_share"), title="...")
    charts.save(c, "ageing-65plus", subdir="01_older_persons", made_by="notebooks/01_older_persons.ipynb")
"""

from analysis.presentation.charts.base import Chart, ChartDataError
from analysis.presentation.charts.export import save
from analysis.presentation.charts.footer import footer_lines, source_line
from analysis.presentation.charts.kinds import (
    age_group_of,
    banded_bars,
    heatmap,
    lines,
    pyramid,
    ranked_bars,
    scatter,
    share_65_chart,
    slope,
    small_multiples,
    stacked_bars,
    timeline,
)
from analysis.presentation.charts.palette import country_table, focus_iso3
from analysis.presentation.charts.style import STYLE_FILE, styled, use_style

__all__ = [
    "Chart", "ChartDataError", "STYLE_FILE", "age_group_of", "banded_bars", "country_table", "focus_iso3",
    "footer_lines", "heatmap", "lines", "pyramid", "ranked_bars", "save", "scatter", "share_65_chart", "slope",
    "small_multiples", "source_line", "stacked_bars", "styled", "timeline", "use_style",
]
