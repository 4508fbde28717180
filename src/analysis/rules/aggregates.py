"""Group aggregates: the one rule for a group's value in a year.

Per group x indicator x year, over the members with a value (``n`` of ``N`` members): the unweighted
median and the population-weighted mean, each missing (not computed) below the minimum coverage.
The build stores the result (``aggregates.parquet``); the API and the charts call the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from analysis.rules.membership import members as group_members

STATS = ("median", "weighted_mean")


def _coverage_text(n: pd.Series, big_n: int) -> pd.Series:
    return n.astype("string") + f" of {big_n}"


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
    universe = data.loc[:, ["indicator_id", "year"]].drop_duplicates()
    weights = (data.loc[data["indicator_id"] == weight_indicator, ["iso3", "year", "value"]]
               .rename(columns={"value": "weight"}))
    units = (data.loc[:, ["indicator_id", "unit"]].dropna().drop_duplicates("indicator_id")
             if "unit" in data.columns else None)
    parts = []
    for group in groups:
        iso = group_members(group, on=on, countries=countries)
        parts.append(_aggregate_group(data, universe, weights, group, iso, min_coverage))
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
    data = df.loc[df["value"].notna(), ["iso3", "indicator_id", "year", "value"]
                  + [c for c in ("projection",) if c in df.columns]]
    universe = data.loc[:, ["indicator_id", "year"]].drop_duplicates()
    if weights is None:
        weights = pd.DataFrame({"iso3": pd.Series(dtype="string"), "year": pd.Series(dtype="int64"),
                                "weight": pd.Series(dtype="float64")})
    return _aggregate_group(data, universe, weights, label, list(members), min_coverage)


def _aggregate_group(data: pd.DataFrame, universe: pd.DataFrame, weights: pd.DataFrame, group: str,
                     iso: list[str], min_coverage: float) -> pd.DataFrame:
    big_n = len(iso)
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
