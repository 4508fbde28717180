"""caring-societies: welfare, health and care indicators for ASEAN and Plus Three.

The public API used by the notebooks is re-exported here; see ``analysis.api``::

    import analysis as an
    an.load(["pop_65plus_share"], countries="FOCUS", years=(2000, 2023))
    an.panel(["pop_65plus_share", "life_expectancy_60_wpp"], countries="ASEAN")
    an.latest(["uhc_service_coverage"])            # gaps kept as NaN
    an.aggregate(["pop_65plus_share"], group="ASEAN", stat="both")
    an.members("ASEAN", on="2025-10-25")           # before Timor-Leste's accession
    an.headline_indicators()                       # the catalogue's headline list
    an.sex_gap("sp_cov_pension")                   # female - male, within one source and vintage
    an.current_series("sp_cov_disability")         # which series of a concept every output shows

The names are imported on first use, so ``python -m analysis`` starts without loading pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = "store.api"
_PUBLIC = {name: _API for name in (
    "load", "panel", "latest", "aggregate", "aggregate_members", "catalogue", "catalogue_gaps", "sources",
    "countries", "country_names", "members", "display_order", "as_of", "headline_indicators",
    "profile_indicators", "window_of", "tolerance_of", "direction_of", "min_difference_of", "band", "judge",
    "age_structure", "meetings", "instruments", "events", "population_weights", "sex_gap", "current_series",
    "series_of", "concept_of")}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
