"""Group aggregates: the one rule for a group's value in a year.

Per group x indicator x year, over the members with a value (``n`` of ``N`` members): the unweighted
median and the population-weighted mean, each missing (not computed) below the minimum coverage.
The build stores the result (``aggregates.parquet``); the API and the charts call the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.rules.membership import members as group_members

STATS = ("median", "weighted_mean")


def _coverage_text(n: pd.Series | np.ndarray, big_n: int) -> pd.api.extensions.ExtensionArray:
    """"n of N" per row; the few distinct texts are formed once each (charts call this for every statistic)."""
    counts = np.asarray(n, dtype="int64")
    texts = np.array([f"{k} of {big_n}" for k in range(int(counts.max(initial=0)) + 1)], dtype=object)
    return pd.array(texts[counts], dtype="string")


def compute_aggregates(df: pd.DataFrame, countries: pd.DataFrame, *, min_coverage: float,
                       groups: Sequence[str], on: str | date, weight_indicator: str) -> pd.DataFrame:
    """Group medians and population-weighted means per indicator and year (the stored layout).

    For each group, the composition is the group's membership as of ``on`` (the pinned ``as_of``), used
    for **every year** (a fixed composition, so a series does not jump when a member joins; for
    ASEAN this counts Timor-Leste in all years). The members are listed in ``composition``.

    Per group x indicator x year, over the members with a value (``n`` of ``N`` members):
    ``median`` is the unweighted median; ``weighted_mean`` weights each value by the member's
    ``weight_indicator`` (total population) of the same year, over the ``n_weighted`` members
    that have both a value and a population. A statistic is NaN when its coverage is below
    ``min_coverage`` (``n / N < min_coverage``) or no member reports: it is missing, not computed.

    Years: every year in which the indicator has a value for any economy of ``df``.
    Columns: group, indicator_id, year (int16), unit, median, n, N, coverage ("n of N"),
    coverage_ok, weighted_mean, n_weighted, coverage_weighted, coverage_weighted_ok, composition,
    projection (any contributing value is a projection).
    """
    if not 0 <= min_coverage <= 1:
        raise ValueError(f"min_coverage must be between 0 and 1, got {min_coverage}")
    data = df.loc[df["value"].notna(), ["iso3", "indicator_id", "year", "value"]
                  + [c for c in ("projection", "unit") if c in df.columns]]
    data = data.astype({"iso3": "string", "indicator_id": "string"})
    cells = _cells(data)  # shared by every group
    weights = (data.loc[data["indicator_id"] == weight_indicator, ["iso3", "year", "value"]]
               .rename(columns={"value": "weight"}))
    units = (data.loc[:, ["indicator_id", "unit"]].dropna().drop_duplicates("indicator_id")
             if "unit" in data.columns else None)
    parts = []
    for group in groups:
        iso = group_members(group, on=on, countries=countries)
        parts.append(_aggregate_group(data, cells, weights, group, iso, min_coverage))
    out = pd.concat(parts, ignore_index=True) if parts else _empty_aggregates()
    out = out.merge(units, on="indicator_id", how="left") if units is not None else out.assign(unit=pd.NA)
    cols = ["group", "indicator_id", "year", "unit", "median", "n", "N", "coverage", "coverage_ok",
            "weighted_mean", "n_weighted", "coverage_weighted", "coverage_weighted_ok", "composition", "projection"]
    out = out.loc[:, cols].astype({"group": "string", "indicator_id": "string", "unit": "string",
                                   "coverage": "string", "coverage_weighted": "string",
                                   "composition": "string", "year": "int16"})
    return out.sort_values(["group", "indicator_id", "year"], kind="stable").reset_index(drop=True)


def aggregate_members(df: pd.DataFrame, members: Sequence[str], *, min_coverage: float, label: str = "group",
                      weights: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median and population-weighted mean over an explicit list of members, per indicator and year.

    The same rule as :func:`compute_aggregates` (which calls it per group), for callers that hold
    their own member list, such as the charts. ``weights`` has columns iso3, year, weight; without
    it the weighted mean is missing (``n_weighted`` = 0), never an unweighted mean in disguise.
    """
    has_value = df["value"].notna().to_numpy(dtype=bool)
    data = df if has_value.all() else df.loc[has_value]
    return _aggregate_group(data, _cells(data), _NO_WEIGHTS if weights is None else weights, label, list(members),
                            min_coverage)


# No weights: read only (callers get new frames), so one frame serves every call.
_NO_WEIGHTS = pd.DataFrame({"iso3": pd.Series(dtype="string"), "year": pd.Series(dtype="int64"),
                            "weight": pd.Series(dtype="float64")})


class _Cells(NamedTuple):
    """The indicator x year cells of a frame, in order of first appearance, and each row's cell."""

    ids: pd.Series  # the indicator_id of each cell
    years: pd.Series  # the year of each cell
    of_row: np.ndarray  # the cell of each row
    sorted_at: np.ndarray  # each cell's place in (indicator_id, year) order, the order pandas' groupby sorts to

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"indicator_id": self.ids, "year": self.years})


def _cells(data: pd.DataFrame) -> _Cells:
    ind, _ = pd.factorize(data["indicator_id"], sort=True, use_na_sentinel=False)
    year, years = pd.factorize(data["year"], sort=True, use_na_sentinel=False)
    pair = ind.astype(np.int64) * max(len(years), 1) + year
    _, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
    sorted_at = np.argsort(first, kind="stable")  # np.unique sorts; the cells keep first-appearance order
    rank = np.empty_like(sorted_at)
    rank[sorted_at] = np.arange(len(sorted_at))
    first = first[sorted_at]
    return _Cells(data["indicator_id"].iloc[first].reset_index(drop=True),
                  data["year"].iloc[first].reset_index(drop=True), rank[inverse.reshape(-1)], sorted_at)


def _aggregate_group(data: pd.DataFrame, cells: _Cells, weights: pd.DataFrame, group: str,
                     iso: list[str], min_coverage: float) -> pd.DataFrame:
    """One group's statistics per cell, computed on arrays (charts call this hundreds of times on small
    frames, where pandas' groupby and merges cost milliseconds each). Inputs of other dtypes, missing
    indicator ids, and weights with two usable values for one country and year take
    :func:`_aggregate_group_pandas`, which defines the results this reproduces to the last bit."""
    rows = data["iso3"].isin(iso).to_numpy(dtype=bool)
    weight = _row_weights(data, rows, weights, iso) if _plain_numbers(data, weights) else None
    if weight is None:
        return _aggregate_group_pandas(data, cells.frame(), weights, group, iso, min_coverage)
    count = len(cells.ids)
    cell = cells.of_row[rows]
    value = data["value"].to_numpy(dtype="float64")[rows]
    n = np.bincount(cell, minlength=count)
    has_w = ~np.isnan(weight)
    n_w = np.bincount(cell[has_w], minlength=count)
    ok, ok_w = _enough(n, len(iso), min_coverage), _enough(n_w, len(iso), min_coverage)
    # Overflow gives inf and cells without weights 0 / 0, as in pandas (which does not warn either).
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # The products and sums as pandas forms them: value x weight per row, then the sums per cell.
        vw = _sums(cell[has_w], cells.sorted_at, value[has_w] * weight[has_w], count)
        w = _sums(cell[has_w], cells.sorted_at, weight[has_w], count)
        mean = np.where(ok_w, vw / w, np.nan)
        median = np.where(ok, _medians(cell, value, count), np.nan)
    return pd.DataFrame({
        "group": group,
        "indicator_id": cells.ids,
        "year": cells.years,
        "median": median,
        "n": n,
        "N": np.int64(len(iso)),
        "coverage": _coverage_text(n, len(iso)),
        "coverage_ok": ok,
        "weighted_mean": mean,
        "n_weighted": n_w,
        "coverage_weighted": _coverage_text(n_w, len(iso)),
        "coverage_weighted_ok": ok_w,
        "composition": ",".join(iso),
        "projection": _projection(data, rows, cell, count),
    })


def _plain_numbers(data: pd.DataFrame, weights: pd.DataFrame) -> bool:
    """Whether the inputs have what the array path reproduces pandas on: indicator ids all present,
    integer years, int64 or float64 values, float64 weights, a bool or boolean projection flag."""
    proj = data["projection"].dtype if "projection" in data.columns else np.dtype(bool)
    return (data["year"].dtype.kind in "iu" and weights["year"].dtype.kind in "iu"
            and data["value"].dtype in (np.float64, np.int64) and weights["weight"].dtype == np.float64
            and (proj == np.dtype(bool) or proj == pd.BooleanDtype()) and not data["indicator_id"].hasnans)


def _row_weights(data: pd.DataFrame, rows: np.ndarray, weights: pd.DataFrame, iso: list[str]) -> np.ndarray | None:
    """Each member row's usable (positive) weight for its country and year, NaN where there is none; None
    when a country and year has two usable weights (the merge would then count the row twice)."""
    weight = weights["weight"].to_numpy()
    usable = (weight > 0) & weights["iso3"].isin(iso).to_numpy(dtype=bool)
    if not usable.any():
        return np.full(int(rows.sum()), np.nan)
    keys = zip(weights["iso3"].array[usable].tolist(), weights["year"].to_numpy()[usable].tolist())
    lookup = dict(zip(keys, weight[usable].tolist()))
    if len(lookup) < usable.sum():
        return None
    pairs = zip(data["iso3"].array[rows].tolist(), data["year"].to_numpy()[rows].tolist())
    return np.array([lookup.get(pair, np.nan) for pair in pairs], dtype="float64")


def _medians(cell: np.ndarray, value: np.ndarray, count: int) -> np.ndarray:
    """Per cell, the median of its values (the mean of the middle two for an even count); NaN if none."""
    size = np.bincount(cell, minlength=count)
    out = np.full(count, np.nan)
    has = size > 0
    ordered = value[np.lexsort((value, cell))]
    start = (np.cumsum(size) - size)[has]
    low, high = ordered[start + (size[has] - 1) // 2], ordered[start + size[has] // 2]
    out[has] = np.where(size[has] % 2 == 1, high, (high + low) / 2)
    return out


def _sums(cell: np.ndarray, sorted_at: np.ndarray, x: np.ndarray, count: int) -> np.ndarray:
    """Per cell, the sum of ``x`` exactly as pandas' groupby sum forms it, whose two ways differ in the last
    bit: ``np.add.reduceat`` over the runs when the rows come in the cells' sorted order without a NaN,
    else the compensated (Kahan) sum in row order, skipping NaN."""
    at = sorted_at[cell]
    if len(x) and not np.isnan(x).any() and bool(np.all(at[1:] >= at[:-1])):
        starts = np.flatnonzero(np.r_[True, at[1:] != at[:-1]])
        out = np.zeros(count)
        out[cell[starts]] = np.add.reduceat(x, starts)
        return out
    keep = ~np.isnan(x)
    return _kahan_sums(cell[keep], x[keep], count)


def _kahan_sums(cell: np.ndarray, x: np.ndarray, count: int) -> np.ndarray:
    """Per cell, the compensated (Kahan) sum of ``x`` in row order.

    The cells are summed side by side, one step per position within a cell, so the loop runs as many
    times as the largest cell has rows (at most the group's members), not once per row."""
    order = np.argsort(cell, kind="stable")
    cell, x = cell[order], x[order]
    size = np.bincount(cell, minlength=count)
    position = np.arange(len(cell)) - (np.cumsum(size) - size)[cell]
    by_position = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[by_position], np.arange(int(size.max(initial=0)) + 1))
    total, compensation = np.zeros(count), np.zeros(count)
    with np.errstate(invalid="ignore", over="ignore"):
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            at = cell[by_position[lo:hi]]
            y = x[by_position[lo:hi]] - compensation[at]
            t = total[at] + y
            c = t - total[at] - y
            # As pandas: an infinite sum leaves no compensation (else the sum would turn NaN).
            compensation[at] = np.where(np.isfinite(c), c, 0.0)
            total[at] = t
    return total


def _enough(n: np.ndarray, big_n: int, min_coverage: float) -> np.ndarray:
    """Coverage reached: some member reports and at least ``min_coverage`` of the ``big_n`` members do."""
    if not big_n:
        return np.zeros(len(n), dtype=bool)
    return (n > 0) & (n / big_n >= min_coverage)


def _projection(data: pd.DataFrame, rows: np.ndarray, cell: np.ndarray, count: int) -> np.ndarray:
    """Per cell, whether any contributing value is a projection (a missing flag counts as no)."""
    if "projection" not in data.columns:
        return np.zeros(count, dtype=bool)
    flag = data["projection"].fillna(False).to_numpy(dtype=bool)[rows]
    return np.bincount(cell[flag], minlength=count) > 0


def _aggregate_group_pandas(data: pd.DataFrame, universe: pd.DataFrame, weights: pd.DataFrame, group: str,
                            iso: list[str], min_coverage: float) -> pd.DataFrame:
    """The rule in pandas' groupby and merges: the definition :func:`_aggregate_group` reproduces, and the
    path for inputs it does not take (nullable or other dtypes, duplicate weights)."""
    big_n = len(iso)
    data = data.loc[:, ["iso3", "indicator_id", "year", "value"] + [c for c in ("projection",) if c in data.columns]]
    rows = data.loc[data["iso3"].isin(iso)]
    keys = ["indicator_id", "year"]
    by = rows.groupby(keys, observed=True)
    stats = by["value"].agg(median="median", n="count")
    if "projection" in rows.columns:
        stats = stats.join(by["projection"].any().rename("projection"))
    weighted = rows.merge(weights, on=["iso3", "year"], how="inner")
    weighted = weighted.loc[weighted["weight"].notna() & (weighted["weight"] > 0)]
    wsum = (weighted.assign(vw=weighted["value"] * weighted["weight"])
            .groupby(keys, observed=True).agg(vw=("vw", "sum"), w=("weight", "sum"), n_weighted=("value", "size")))
    out = universe.merge(stats.reset_index(), on=keys, how="left").merge(wsum.reset_index(), on=keys, how="left")
    n = out["n"].fillna(0).astype("int64")
    n_w = out["n_weighted"].fillna(0).astype("int64")
    ok = (n > 0) & (n / max(big_n, 1) >= min_coverage) if big_n else pd.Series(False, index=out.index)
    ok_w = (n_w > 0) & (n_w / max(big_n, 1) >= min_coverage) if big_n else pd.Series(False, index=out.index)
    projection = out["projection"] if "projection" in out.columns else pd.Series(False, index=out.index)
    return pd.DataFrame({
        "group": group,
        "indicator_id": out["indicator_id"],
        "year": out["year"],
        "median": out["median"].where(ok),
        "n": n,
        "N": np.int64(big_n),
        "coverage": _coverage_text(n, big_n),
        "coverage_ok": ok.astype(bool),
        "weighted_mean": (out["vw"] / out["w"]).where(ok_w),
        "n_weighted": n_w,
        "coverage_weighted": _coverage_text(n_w, big_n),
        "coverage_weighted_ok": ok_w.astype(bool),
        "composition": ",".join(iso),
        "projection": projection.fillna(False).astype(bool),
    })


def _empty_aggregates() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in [
        ("group", "string"), ("indicator_id", "string"), ("year", "int16"), ("median", "float64"),
        ("n", "int64"), ("N", "int64"), ("coverage", "string"), ("coverage_ok", bool),
        ("weighted_mean", "float64"), ("n_weighted", "int64"), ("coverage_weighted", "string"),
        ("coverage_weighted_ok", bool), ("composition", "string"), ("projection", bool)]})


def aggregates_long(wide: pd.DataFrame, stat: str = "both") -> pd.DataFrame:
    """The stored (wide) aggregates as one row per statistic: value, n, N, coverage, coverage_ok."""
    stats = STATS if stat == "both" else (stat,)
    unknown = [s for s in stats if s not in STATS]
    if unknown:
        raise ValueError(f"stat must be 'median', 'weighted_mean' or 'both', got {stat!r}")
    common = ["group", "indicator_id", "year", "unit"]
    tail = ["N", "composition", "projection"]
    parts = []
    for s in stats:
        suffix = "" if s == "median" else "_weighted"
        part = wide.loc[:, common + [s, f"n{suffix}", f"coverage{suffix}", f"coverage{suffix}_ok"] + tail]
        part = part.rename(columns={s: "value", f"n{suffix}": "n", f"coverage{suffix}": "coverage",
                                    f"coverage{suffix}_ok": "coverage_ok"})
        parts.append(part.assign(stat=s))
    out = pd.concat(parts, ignore_index=True).astype({"stat": "string"})
    cols = ["group", "indicator_id", "year", "stat", "value", "n", "N", "coverage", "coverage_ok", "unit",
            "composition", "projection"]
    return out.loc[:, cols].sort_values(["group", "indicator_id", "stat", "year"], kind="stable").reset_index(drop=True)
