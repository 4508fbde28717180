"""Every chart of caring-societies is drawn and exported here.

Chart kinds take the store's long format and return a ``Chart`` (figure + metadata); ``save``
exports it (PNG, SVG, PDF, CSV of the plotted values, JSON metadata) into ``reports/figures/``.

    from analysis.presentation import charts
    c = charts.ranked_bars(api.load("pop_65plus_share"), title="...")
    charts.save(c, "ageing-65plus", subdir="01_older_persons", made_by="notebooks/01_older_persons.ipynb")

One module per kind (bars, lines, small_multiples, slope, heatmap, scatter, stacked, pyramid, timeline,
ageing, intervals); what they share is in ``common`` (countries, group statistic, CSV rows) and ``series`` (time
series), the page frame and ``Chart`` in ``base``. Data come from ``analysis.store.api`` only.
"""

from analysis.presentation.charts.ageing import share_65_chart
from analysis.presentation.charts.bars import banded_bars, ranked_bars
from analysis.presentation.charts.base import Chart, ChartDataError
from analysis.presentation.charts.export import save
from analysis.presentation.charts.footer import footer_lines, source_line
from analysis.presentation.charts.heatmap import heatmap
from analysis.presentation.charts.intervals import intervals
from analysis.presentation.charts.lines import lines
from analysis.presentation.charts.palette import country_table, focus_iso3
from analysis.presentation.charts.pyramid import age_group_of, pyramid
from analysis.presentation.charts.scatter import scatter
from analysis.presentation.charts.slope import slope
from analysis.presentation.charts.small_multiples import small_multiples
from analysis.presentation.charts.stacked import stacked_bars
from analysis.presentation.charts.style import STYLE_FILE, styled, use_style
from analysis.presentation.charts.timeline import timeline

__all__ = [
    "Chart", "ChartDataError", "STYLE_FILE", "age_group_of", "banded_bars", "country_table", "focus_iso3",
    "footer_lines", "heatmap", "intervals", "lines", "pyramid", "ranked_bars", "save", "scatter", "share_65_chart",
    "slope", "small_multiples", "source_line", "stacked_bars", "styled", "timeline", "use_style",
]
