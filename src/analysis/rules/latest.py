"""Which year's value stands for a country: the latest within a window, or the nearest to a year.

Two rules, each written once and used by the build (``latest.parquet``), the API, the charts
(through the API) and the change-since-a-meeting tables, so every output picks the same year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def compute_latest(df: pd.DataFrame, *, window: int | Mapping[str, int], ref_year: int | None = None,
                   include_projections: bool = False, iso3: Sequence[str] | None = None) -> pd.DataFrame:
    """Per country x indicator: the latest value within ``[ref_year - window + 1, ref_year]``.

    ``window`` is one number of years for every indicator, or a mapping indicator id -> years (each
    indicator's catalogue window), which must name every indicator of ``df``.

    ``df`` is long (iso3, indicator_id, year, value; unit, source_id, vintage, projection when
    present). ``ref_year`` defaults, per indicator, to the latest year with any non-projection
    value in ``df`` (all economies of ``df``), so a country's latest value does not depend on
    which other countries were asked for; an indicator with projections only then has no window.
    ``include_projections`` lets projection rows count inside the window (only matters with an
    explicit ``ref_year`` beyond the estimates).

    Rows: every country of ``iso3`` (default: every economy in ``df``) x every indicator in
    ``df``; where there is no value in the window, value is NaN and year <NA> (the gap is shown).
    Columns: iso3, indicator_id, year (Int16), value, unit, source_id, vintage, projection
    (boolean), ref_year (Int16), window (int16). Sorted by indicator_id, iso3.
    """
    data = df.loc[df["value"].notna()]
    projection = (data["projection"].to_numpy(dtype=bool) if "projection" in data.columns
                  else np.zeros(len(data), dtype=bool))
    indicators = pd.Index(sorted(df["indicator_id"].astype(str).unique()), dtype="string", name="indicator_id")
    windows = _windows(window, indicators)
    if ref_year is None:
        refs = data.loc[~projection].groupby("indicator_id", observed=True)["year"].max()
        ref = refs.reindex(indicators).astype("Int64")
    else:
        ref = pd.Series(int(ref_year), index=indicators, dtype="Int64")
    if not include_projections:
        data = data.loc[~projection]
    at = _positions(data["indicator_id"], indicators)
    picked = data.iloc[_latest_rows(data, at, ref, windows)]

    countries = pd.Index(list(iso3) if iso3 is not None else sorted(df["iso3"].astype(str).unique()),
                         dtype="string", name="iso3")
    grid = pd.MultiIndex.from_product([indicators, countries]).to_frame(index=False)
    keep = [c for c in ("indicator_id", "iso3", "year", "value", "unit", "source_id", "vintage", "projection")
            if c in picked.columns]
    picked = picked.loc[:, keep].astype({"indicator_id": "string", "iso3": "string"})
    out = grid.merge(picked, on=["indicator_id", "iso3"], how="left")
    # The grid's rows, one per picked row at most, run indicator by indicator: the indicator's own values by
    # position instead of a lookup per row.
    of_row = np.repeat(np.arange(len(indicators)), len(countries))
    # The unit belongs to the indicator: show it on gap rows too.
    unit = (df.loc[:, ["indicator_id", "unit"]].dropna().drop_duplicates("indicator_id")
            .astype("string").set_index("indicator_id")["unit"]) if "unit" in df.columns else None
    out = out.assign(
        year=out["year"].astype("Int16"),
        value=out["value"].astype("float64"),
        unit=(unit.reindex(indicators).array[of_row] if unit is not None else pd.NA),
        source_id=out.get("source_id", pd.Series(pd.NA, index=out.index)),
        vintage=out.get("vintage", pd.Series(pd.NA, index=out.index)),
        projection=out.get("projection", pd.Series(pd.NA, index=out.index)).astype("boolean"),
        ref_year=ref.array[of_row].astype("Int16"),
        window=windows.to_numpy()[of_row].astype("int16"),
    )
    cols = ["iso3", "indicator_id", "year", "value", "unit", "source_id", "vintage", "projection",
            "ref_year", "window"]
    out = out.loc[:, cols].astype({"unit": "string", "source_id": "string", "vintage": "string"})
    return out.sort_values(["indicator_id", "iso3"], kind="stable").reset_index(drop=True)


def _positions(ids: pd.Series, indicators: pd.Index) -> np.ndarray:
    """Each row's position in ``indicators`` (-1 for a missing id), looked up once per distinct id."""
    codes, uniques = pd.factorize(ids)
    found = indicators.get_indexer(pd.Index(uniques).astype("string"))
    return np.where(codes >= 0, found[codes], -1)


def _latest_rows(data: pd.DataFrame, at: np.ndarray, ref: pd.Series, windows: pd.Series) -> np.ndarray:
    """Positions of the rows that stand for each indicator x country: the latest year within the window
    ``(ref - window, ref]`` of the row's indicator (``at``: its position in ``ref`` and ``windows``); of
    two rows of one year, the later row (the last after a stable sort by year)."""
    # Position -1 (a missing id) reads the NaN appended at the end: no window, as for an indicator without ref.
    ref_year = np.append(ref.to_numpy(dtype="float64", na_value=np.nan), np.nan)[at]
    width = np.append(windows.to_numpy(dtype="float64"), np.nan)[at]
    year = data["year"].to_numpy(dtype="float64", na_value=np.nan)
    rows = np.flatnonzero((year <= ref_year) & (year > ref_year - width))
    if not len(rows):
        return rows
    iso, _ = pd.factorize(data["iso3"].iloc[rows], use_na_sentinel=False)
    ind = at[rows]
    order = np.lexsort((rows, year[rows], iso, ind))  # by indicator, country, year, then row: the last key first
    ind, iso = ind[order], iso[order]
    last = np.r_[(ind[1:] != ind[:-1]) | (iso[1:] != iso[:-1]), True]
    return rows[order[last]]


def _windows(window: int | Mapping[str, int], indicators: pd.Index) -> pd.Series:
    """indicator id -> window in years, checked: at least one year, and one for every indicator."""
    if isinstance(window, Mapping):
        missing = [i for i in indicators if i not in window]
        if missing:
            raise ValueError(f"no window given for indicator(s) {', '.join(missing)}")
        windows = pd.Series({i: int(window[i]) for i in indicators}, index=indicators, dtype="int64")
    else:
        windows = pd.Series(int(window), index=indicators, dtype="int64")
    too_short = windows[windows < 1]
    if len(too_short):
        raise ValueError(f"window must be at least 1 year, got {int(too_short.iloc[0])} "
                         f"for {too_short.index[0]}")
    return windows


def nearest_year(frame: pd.DataFrame, year: int, tolerance: int) -> pd.DataFrame:
    """Per group of rows, the row at ``year`` or the nearest year within ``tolerance``.

    ``frame`` holds the rows of one series (one country x indicator) or of several, keyed by every
    column except ``year`` and ``value``; pass one series at a time or group first. Ties (one year
    before and one after) go to the **earlier** year: a baseline for "since a meeting" must not
    borrow a value from after the meeting. Returns the chosen rows with ``offset`` (chosen year
    minus ``year``), or no rows when nothing lies within the tolerance.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be zero or more years, got {tolerance}")
    if frame["year"].dtype.kind not in "iu":  # nullable or float years: pandas' own arithmetic and errors
        cand = frame.loc[frame["value"].notna() & ((frame["year"] - year).abs() <= tolerance)]
        cand = cand.assign(offset=(cand["year"] - year).astype("int64"), _d=(cand["year"] - year).abs())
        return cand.sort_values(["_d", "year"], kind="stable").drop(columns="_d")
    # Integer years (the store's): the same choice on arrays; charts call this once per country and end.
    offset = frame["year"].to_numpy() - year
    distance = np.abs(offset)
    near = np.flatnonzero(frame["value"].notna().to_numpy(dtype=bool) & (distance <= tolerance))
    near = near[np.lexsort((frame["year"].to_numpy()[near], distance[near]))]  # nearest first, then earlier
    return frame.iloc[near].assign(offset=offset[near].astype("int64"))
