"""Values with their published uncertainty bounds, for the interval charts.

The store keeps ``lower``/``upper`` (WHO's uncertainty interval of the gho2024 health expectancies) as
detail columns that :func:`analysis.store.api.load` leaves out. This module returns them beside the
API's own rows: the latest value is the API's (its window, its suspect filter), the bounds are joined on
(country, indicator, year, source, vintage) of the row the API chose, so no second latest-value rule
exists. Rows flagged suspect by the build stay out, as in the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from analysis.config import tables
from analysis.core import settings
from analysis.store import api
from analysis.store.reader import as_list

BOUNDS = ("lower", "upper")
_KEY = ["iso3", "indicator_id", "year", "source_id", "vintage"]


def _bounds(indicators: list[str], iso3: list[str] | None, processed_dir) -> pd.DataFrame:
    """The current rows' bounds (NaN where the source publishes none) and whether each is suspect."""
    rows = api.load(indicators, iso3, detail=True, names=False, processed_dir=processed_dir)
    suspect = (rows["flag"] == settings.SUSPECT_FLAG).fillna(False).to_numpy(dtype=bool)
    return rows.loc[:, [*_KEY, *BOUNDS]].assign(suspect=suspect).astype(
        {"iso3": "string", "indicator_id": "string", "source_id": "string", "vintage": "string"})


def with_bounds(frame: pd.DataFrame, processed_dir: Path | str | None = None) -> pd.DataFrame:
    """``frame`` (rows of :func:`api.load` or :func:`api.latest`) with ``lower`` and ``upper`` added
    and the rows the build flagged suspect left out.

    Rows without a value (a country with no value in the window) keep NaN bounds.
    """
    ids = sorted(frame["indicator_id"].dropna().astype(str).unique())
    if frame.empty or not ids:
        return frame.assign(lower=pd.Series(dtype="float64"), upper=pd.Series(dtype="float64"))
    iso3 = sorted(frame["iso3"].dropna().astype(str).unique())
    bounds = _bounds(ids, iso3, processed_dir)
    left = frame.drop(columns=[c for c in BOUNDS if c in frame.columns])
    key = left.loc[:, _KEY].astype({"iso3": "string", "indicator_id": "string", "source_id": "string",
                                    "vintage": "string", "year": "Int64"})
    merged = key.merge(bounds.astype({"year": "Int64"}), on=_KEY, how="left", validate="many_to_one")
    out = left.assign(lower=merged["lower"].to_numpy(dtype="float64"),
                      upper=merged["upper"].to_numpy(dtype="float64"))
    # api.latest already leaves suspect rows out; api.load returns them, and charts must not draw them.
    return out.loc[~merged["suspect"].fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def latest_with_bounds(indicators: str | Iterable[str], countries: api.Countries = "FOCUS", *,
                       processed_dir: Path | str | None = None) -> pd.DataFrame:
    """:func:`api.latest` (each indicator in its catalogue window) with the bounds of each chosen row."""
    ids = as_list(indicators)
    return with_bounds(api.latest(ids, countries, processed_dir=processed_dir), processed_dir)


def load_with_bounds(indicators: str | Iterable[str], countries: api.Countries = "FOCUS",
                     years: api.Years = None, *, processed_dir: Path | str | None = None) -> pd.DataFrame:
    """:func:`api.load` (observed rows, no projections) with their bounds, without suspect rows."""
    data = api.load(as_list(indicators), countries, years, include_projections=False, detail=True,
                    processed_dir=processed_dir)
    suspect = (data["flag"] == settings.SUSPECT_FLAG).fillna(False).to_numpy(dtype=bool)
    # The API's own columns plus the bounds: the other detail columns stay out, as in api.load.
    hidden = set(tables.table("indicators").names()) - set(tables.table("indicators").names(detail=False))
    shown = [c for c in data.columns if c not in hidden or c in BOUNDS]
    return data.loc[~suspect, shown].reset_index(drop=True)
