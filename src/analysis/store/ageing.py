"""Speed of population ageing from the store: the combined share aged 65+ and the speed table.

The rules (splice, threshold crossings, years between thresholds) are in
:mod:`analysis.rules.crossings`; this module loads their inputs through the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
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
from analysis.store.series import concept_of, splice_id

__all__ = ["REFERENCE_COUNTRY", "THRESHOLDS", "ageing_speed_table", "format_speed_table", "load_share_65",
           "splice_notes"]


def load_share_65(countries: Iterable[str] | None = None,
                  estimate_indicator: str = SHARE_65_ESTIMATE,
                  projection_indicator: str = SHARE_65_PROJECTION, splice: str | None = "ratio") -> pd.DataFrame:
    """Combined share-65+ series from the store: WDI estimates, WPP before and after (see module doc).

    The joined series is a series of its own: its rows carry ``indicator_id`` ``<concept>_spliced``
    (the estimates' concept), never the plain id of either source; :func:`splice_notes` says how it
    was joined."""
    countries = list(countries) if countries is not None else list(api.members("FOCUS"))
    cols = ["iso3", "year", "value", "projection", "source_id", "vintage"]
    est = api.load(estimate_indicator, countries=countries, names=False).loc[:, cols]
    proj = api.load(projection_indicator, countries=countries, names=False).loc[:, cols]
    vintages = dict(zip(pd.concat([est, proj])["source_id"].astype(str), pd.concat([est, proj])["vintage"]))
    combined = combine_estimates_and_projections(est.drop(columns="vintage"), proj.drop(columns="vintage"),
                                                 splice=splice)
    concept = concept_of(estimate_indicator) or estimate_indicator
    return combined.assign(vintage=combined["source_id"].astype(str).map(vintages).astype("string"),
                           indicator_id=splice_id(concept))


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


def _years(years: pd.Series) -> str:
    lo, hi = int(years.min()), int(years.max())
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def _title(source_id: str) -> str:
    ds = api.registry().datasets.get(source_id)
    return f"{ds.publisher} {ds.title}" if ds is not None else source_id


def splice_notes(series: pd.DataFrame) -> list[str]:
    """The source line and the joining note of a :func:`load_share_65` series, from its rows.

    "Series pop_65plus_share_spliced: World Bank World Development Indicators estimates to 2025; UN DESA
    Population Division World Population Prospects 2019 before and after them, ratio-spliced at each
    join." and how the factor is computed (range of the factors drawn)."""
    if series.empty:
        return []
    est = series.loc[~series["projection"].astype(bool)]
    first_est = est.groupby("iso3")["year"].min() if not est.empty else pd.Series(dtype="int64")
    est_source = est.loc[est["year"] >= est["iso3"].map(first_est), "source_id"].mode()
    main = str(est_source.iloc[0]) if not est_source.empty else ""
    own = series.loc[series["source_id"].astype(str) == main]
    other = sorted(set(series["source_id"].astype(str)) - {main})
    last = own.groupby("iso3")["year"].max() if not own.empty else pd.Series(dtype="int64")
    factors = series.loc[series["source_id"].astype(str) != main, "splice_factor"].astype(float)
    ratio = not factors.empty and not np.allclose(factors, 1.0)
    how = "ratio-spliced at each join" if ratio else "joined without level adjustment"
    line = (f"Series {series['indicator_id'].iloc[0]}: {_title(main)} estimates to {_years(last)}; "
            + "; ".join(f"{_title(o)} before and after them" for o in other) + f", {how}.")
    if not ratio:
        return [line]
    note = ("How joined: per country, the later series is multiplied by estimate ÷ its own value in the join "
            f"year (the last estimate year; before the first estimate, the first), factors {factors.min():.2f} to "
            f"{factors.max():.2f}: the projected growth is the projection's, the level the estimate's.")
    return [line, note]
