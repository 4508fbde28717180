"""Reports from the store: headline charts, the chart pack PDF, country profiles and an HTML gallery.

``build_reports()`` (``python -m analysis report``) draws a fixed, data-driven list of headline
charts per population group (``HEADLINE_CHARTS``), exports each into ``reports/figures/pack/``,
binds their PDFs into ``reports/chart-pack.pdf`` (one A4 landscape page size, bookmarks; cover with
where the data are and how to cite, key messages, the meetings' themes beside the data, contents, one
chart per page), writes a profile per focus country (``reports/profiles/<ISO3>.pdf``), the workbook
``reports/caring-societies-data.xlsx``, the store as a download (``reports/data/`` with
``datapackage.json``) and a static gallery of every chart under ``reports/figures/`` (``reports/index.html``).

Modules by concern: ``specs`` (the chart specs, their validation against the catalogue and how each
kind is drawn), ``context`` (what is read through the API), ``front`` (key-message pages), ``pages``
(the pack's text pages), ``pack`` (the chart pack PDF), ``profiles`` (the country profile page),
``parallel`` (independent tasks on every usable core) and ``build`` (the entry point and its freshness check).
Work is skipped when neither the store (its manifest) nor the report code changed since the last
run; a chart whose indicators are not in the store is skipped and listed, never faked.
"""

from analysis.presentation.report.build import STATE_FILE, ReportResult, build_reports
from analysis.presentation.report.context import ReportContext, make_context
from analysis.presentation.report.pack import write_chart_pack
from analysis.presentation.report.profile_pages import draw_profile, write_profiles
from analysis.presentation.report.profiles import profile_table
from analysis.presentation.report.specs import (
    GROUP_TITLES,
    HEADLINE_CHARTS,
    ChartSpecError,
    draw,
    profile_groups,
    validate_specs,
)

__all__ = [
    "GROUP_TITLES", "HEADLINE_CHARTS", "STATE_FILE", "ChartSpecError", "ReportContext", "ReportResult",
    "build_reports", "draw", "draw_profile", "make_context", "profile_groups", "profile_table", "validate_specs",
    "write_chart_pack", "write_profiles",
]
