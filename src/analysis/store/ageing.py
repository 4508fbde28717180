"""Speed of population ageing from the store: the combined share aged 65+ and the speed table.

The rules (splice, threshold crossings, years between thresholds) are in
:mod:`analysis.rules.crossings`; this module loads their inputs through the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from analysis.rules.crossings import (
    REFERENCE_COUNTRY,
    SHARE_65_ESTIMATE,
    SHARE_65_PROJECTION,
    THRESHOLDS,
    combine_estimates_and_projections,
    format_speed_table,
    speed_table_from_series,
)
from analysis.store import api

__all__ = ["REFERENCE_COUNTRY", "THRESHOLDS", "ageing_speed_table", "format_speed_table", "load_share_65"]


def load_share_65(countries: Iterable[str] | None = None,
                  estimate_indicator: str = SHARE_65_ESTIMATE,
                  projection_indicator: str = SHARE_65_PROJECTION, splice: str | None = "ratio") -> pd.DataFrame:
    """Combined share-65+ series from the store: WDI estimates, WPP before and after (see module doc)."""
    countries = list(countries) if countries is not None else list(api.members("FOCUS"))
    cols = ["iso3", "year", "value", "projection", "source_id", "vintage"]
    est = api.load(estimate_indicator, countries=countries, names=False).loc[:, cols]
    proj = api.load(projection_indicator, countries=countries, names=False).loc[:, cols]
    vintages = dict(zip(pd.concat([est, proj])["source_id"].astype(str), pd.concat([est, proj])["vintage"]))
    combined = combine_estimates_and_projections(est.drop(columns="vintage"), proj.drop(columns="vintage"),
                                                 splice=splice)
    return combined.assign(vintage=combined["source_id"].astype(str).map(vintages).astype("string"))


def ageing_speed_table(countries: Iterable[str] | None = None, thresholds: Sequence[float] = THRESHOLDS,
                       reference: str = REFERENCE_COUNTRY, splice: str | None = "ratio") -> pd.DataFrame:
    """Ageing speed for the focus countries (default: the 14) from the store, Japan as the reference.

    See ``speed_table_from_series`` for the columns; a ``name`` column is added from the country table.
    """
    series = load_share_65(countries, splice=splice)
    table = speed_table_from_series(series, thresholds, reference)
    names = api.countries().loc[:, ["iso3", "name"]]
    table = table.merge(names.assign(iso3=names["iso3"].astype("string")), on="iso3", how="left")
    cols = ["iso3", "name"] + [c for c in table.columns if c not in ("iso3", "name")]
    # The chart order (ASEAN by name, then Plus Three); countries outside it keep alphabetical order.
    order = {iso: k for k, iso in enumerate(api.display_order())}
    table = table.assign(_order=table["iso3"].map(lambda i: order.get(str(i), len(order))))
    return table.sort_values(["_order", "iso3"], kind="stable").loc[:, cols].reset_index(drop=True)
