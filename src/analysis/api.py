"""The public API the notebooks use: load, panel, latest, aggregate, catalogue, sources, countries.

Everything reads the store built by ``python -m analysis build`` (``data/processed/``); every
function takes ``processed_dir`` so tests can point it at a small synthetic store (or set
``ANALYSIS_PROJECT_ROOT``).

Countries may be given as ``None`` (all economies), a group name (``"FOCUS"``, ``"ASEAN"``,
``"ASEAN10"``, ``"PLUS_THREE"``, ``"ASEAN+3"``, ``"region:East Asia & Pacific"``,
``"income:High income"``), one ISO3 code, or a list mixing codes and group names.
Years may be ``None``, one year, a ``(start, end)`` tuple (inclusive; either end may be None) or a
list of years.

Missing data is shown, never filled: :func:`latest` keeps a row (value NaN, year <NA>) for a
country without a value in the window, :func:`panel` keeps requested countries and indicators
without data as NaN, and :func:`aggregate` reports a group value only when enough members report.

``compute_latest`` and ``compute_aggregates`` are pure functions on a long frame; the build uses
them to write ``latest.parquet`` and ``aggregates.parquet``, and the API calls the same functions,
so stored and on-the-fly results agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from . import groups, store
from .store import as_list
from .groups import members as _group_members

DEFAULT_WINDOW = 10
DEFAULT_MIN_COVERAGE = 0.5
AGGREGATE_GROUPS = ("ASEAN", "ASEAN10", "ASEAN+3")
WEIGHT_INDICATOR = "pop_total"
STATS = ("median", "weighted_mean")

Countries = str | Iterable[str] | None
Years = int | tuple[int | None, int | None] | Iterable[int] | None

members = groups.members
display_order = groups.display_order

__all__ = [
    "load", "panel", "latest", "aggregate", "catalogue", "sources", "countries", "members",
    "display_order", "country_names", "compute_latest", "compute_aggregates",
    "DEFAULT_WINDOW", "DEFAULT_MIN_COVERAGE", "AGGREGATE_GROUPS", "WEIGHT_INDICATOR",
]


# --------------------------------------------------------------------------------------------
# Argument resolution


def resolve_countries(countries: Countries, *, on: str | date | None = None,
                      processed_dir: Path | str | None = None) -> list[str] | None:
    """ISO3 codes for a ``countries`` argument (None stays None: all economies).

    Group names are expanded with :func:`analysis.groups.members` against the store's countries
    table; an ISO3 code not in that table raises ValueError (a typo must not read as a gap).
    """
    items = as_list(countries)
    if items is None:
        return None
    table = store.read_table("countries", processed_dir)
    known = set(table["iso3"].astype(str))
    out: list[str] = []
    unknown: list[str] = []
    for item in items:
        if groups.is_group(item):
            out += groups.members(item, on=on, countries=table)
        elif item.strip().upper() in known:
            out.append(item.strip().upper())
        else:
            unknown.append(item)
    if unknown:
        raise ValueError(f"unknown country code(s) or group(s): {', '.join(unknown)}; groups are "
                         f"{', '.join(groups.GROUP_NAMES)}, region:<WB region>, income:<WB income group>")
    return list(dict.fromkeys(out))  # unique, first-mention order


def _check_indicators(indicators: str | Iterable[str] | None, processed_dir) -> list[str] | None:
    wanted = as_list(indicators)
    if wanted is None:
        return None
    known = store.indicator_ids(processed_dir)
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise ValueError(f"indicator id(s) not in the store: {', '.join(unknown)} "
                         "(see analysis.catalogue() for the ids; rebuild the store if the catalogue changed)")
    return list(dict.fromkeys(wanted))


def _year_mask(year: pd.Series, years: Years) -> np.ndarray:
    if years is None:
        return np.ones(len(year), dtype=bool)
    if isinstance(years, (int, np.integer)):
        return (year == years).to_numpy(dtype=bool)
    if isinstance(years, tuple) and len(years) == 2:
        start, end = years
        mask = np.ones(len(year), dtype=bool)
        if start is not None:
            mask &= (year >= start).to_numpy(dtype=bool)
        if end is not None:
            mask &= (year <= end).to_numpy(dtype=bool)
        return mask
    return year.isin([int(y) for y in years]).to_numpy(dtype=bool)


def _with_names(frame: pd.DataFrame, processed_dir) -> pd.DataFrame:
    names = store.read_table("countries", processed_dir).loc[:, ["iso3", "name"]]
    out = frame.merge(names, on="iso3", how="left")
    cols = list(frame.columns)
    cols.insert(cols.index("iso3") + 1, "name")
    return out.loc[:, cols]


# --------------------------------------------------------------------------------------------
# Loading


def load(indicators: str | Iterable[str] | None = None, countries: Countries = None, years: Years = None, *,
         include_projections: bool = True, names: bool = True,
         processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Indicator values in long form.

    Columns: iso3, name (unless ``names=False``), year, indicator_id, value, unit, source_id,
    vintage, projection. Only observed values are rows; use :func:`panel` or :func:`latest` to
    see gaps. ``include_projections=False`` drops WPP projection rows.

    >>> load(["pop_65plus_share"], countries="FOCUS", years=(2000, 2020))  # doctest: +SKIP
    """
    ind = _check_indicators(indicators, processed_dir)
    iso = resolve_countries(countries, processed_dir=processed_dir)
    frame = store.read_indicators(ind, iso, years, processed_dir=processed_dir)
    if not include_projections:
        frame = frame.loc[~frame["projection"].to_numpy(dtype=bool)].reset_index(drop=True)
    return _with_names(frame, processed_dir) if names else frame


def panel(indicators: str | Iterable[str], countries: Countries = "FOCUS", years: Years = None, *,
          include_projections: bool = True, processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Wide table: index (iso3, year), one column per indicator (in the order asked).

    Every requested country appears for every year that has any value among the requested
    indicators, and every requested indicator is a column, so gaps show as NaN.
    """
    ind = _check_indicators(indicators, processed_dir)
    iso = resolve_countries(countries, processed_dir=processed_dir)
    long = store.read_indicators(ind, iso, years, processed_dir=processed_dir,
                                 columns=["iso3", "year", "indicator_id", "value", "projection"])
    if not include_projections:
        long = long.loc[~long["projection"].to_numpy(dtype=bool)]
    wide = long.pivot(index=["iso3", "year"], columns="indicator_id", values="value")
    all_iso = iso if iso is not None else sorted(long["iso3"].astype(str).unique())
    year_values = np.sort(long["year"].unique())
    index = pd.MultiIndex.from_product([pd.Index(all_iso, dtype="string"), pd.Index(year_values, dtype="int16")],
                                       names=["iso3", "year"])
    wide = wide.reindex(index=index, columns=ind if ind is not None else sorted(wide.columns))
    wide.columns.name = None
    return wide


# --------------------------------------------------------------------------------------------
# Latest value in a window


def compute_latest(df: pd.DataFrame, *, window: int = DEFAULT_WINDOW, ref_year: int | None = None,
                   include_projections: bool = False, iso3: Sequence[str] | None = None) -> pd.DataFrame:
    """Per country x indicator: the latest value within ``[ref_year - window + 1, ref_year]``.

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
    if window < 1:
        raise ValueError(f"window must be at least 1 year, got {window}")
    data = df.loc[df["value"].notna()]
    projection = (data["projection"].to_numpy(dtype=bool) if "projection" in data.columns
                  else np.zeros(len(data), dtype=bool))
    indicators = pd.Index(sorted(df["indicator_id"].astype(str).unique()), dtype="string", name="indicator_id")
    if ref_year is None:
        refs = data.loc[~projection].groupby("indicator_id", observed=True)["year"].max()
        ref = refs.reindex(indicators).astype("Int64")
    else:
        ref = pd.Series(int(ref_year), index=indicators, dtype="Int64")
    if not include_projections:
        data = data.loc[~projection]
    row_ref = data["indicator_id"].astype("string").map(ref).astype("Int64")
    in_window = (data["year"] <= row_ref) & (data["year"] > row_ref - window)
    picked = (data.loc[in_window.fillna(False).to_numpy(dtype=bool)]
              .sort_values(["indicator_id", "iso3", "year"], kind="stable")
              .drop_duplicates(["indicator_id", "iso3"], keep="last"))

    countries = pd.Index(list(iso3) if iso3 is not None else sorted(df["iso3"].astype(str).unique()),
                         dtype="string", name="iso3")
    grid = pd.MultiIndex.from_product([indicators, countries]).to_frame(index=False)
    keep = [c for c in ("indicator_id", "iso3", "year", "value", "unit", "source_id", "vintage", "projection")
            if c in picked.columns]
    picked = picked.loc[:, keep].astype({"indicator_id": "string", "iso3": "string"})
    out = grid.merge(picked, on=["indicator_id", "iso3"], how="left")
    # The unit belongs to the indicator: show it on gap rows too.
    unit = (df.loc[:, ["indicator_id", "unit"]].dropna().drop_duplicates("indicator_id")
            .astype("string").set_index("indicator_id")["unit"]) if "unit" in df.columns else None
    out = out.assign(
        year=out["year"].astype("Int16"),
        value=out["value"].astype("float64"),
        unit=(out["indicator_id"].map(unit) if unit is not None else pd.NA),
        source_id=out.get("source_id", pd.Series(pd.NA, index=out.index)),
        vintage=out.get("vintage", pd.Series(pd.NA, index=out.index)),
        projection=out.get("projection", pd.Series(pd.NA, index=out.index)).astype("boolean"),
        ref_year=out["indicator_id"].map(ref).astype("Int16"),
        window=np.int16(window),
    )
    cols = ["iso3", "indicator_id", "year", "value", "unit", "source_id", "vintage", "projection",
            "ref_year", "window"]
    out = out.loc[:, cols].astype({"unit": "string", "source_id": "string", "vintage": "string"})
    return out.sort_values(["indicator_id", "iso3"], kind="stable").reset_index(drop=True)


def latest(indicators: str | Iterable[str] | None = None, countries: Countries = "FOCUS", *,
           window: int = DEFAULT_WINDOW, ref_year: int | None = None, include_projections: bool = False,
           processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Latest value per country x indicator within the last ``window`` years up to ``ref_year``.

    ``ref_year`` defaults, per indicator, to the latest year with any non-projection value in the
    store (over all economies, so the answer for one country does not depend on the others).
    Countries without a value in the window are kept with value NaN and year <NA>. A ``name``
    column is added. See :func:`compute_latest` for the columns.
    """
    ind = _check_indicators(indicators, processed_dir)
    iso = resolve_countries(countries, processed_dir=processed_dir)
    data = store.read_indicators(ind, None, None, processed_dir=processed_dir)
    out = compute_latest(data, window=window, ref_year=ref_year, include_projections=include_projections,
                         iso3=iso)
    return _with_names(out, processed_dir)


# --------------------------------------------------------------------------------------------
# Group aggregates


def _coverage_text(n: pd.Series, big_n: int) -> pd.Series:
    return n.astype("string") + f" of {big_n}"


def compute_aggregates(df: pd.DataFrame, countries: pd.DataFrame, *, min_coverage: float = DEFAULT_MIN_COVERAGE,
                       groups: Sequence[str] = AGGREGATE_GROUPS, on: str | date | None = None,
                       weight_indicator: str = WEIGHT_INDICATOR) -> pd.DataFrame:
    """Group medians and population-weighted means per indicator and year (the stored layout).

    For each group, the composition is the group's membership as of ``on`` (default today), used
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
        iso = _group_members(group, on=on, countries=countries)
        parts.append(_aggregate_group(data, universe, weights, group, iso, min_coverage))
    out = pd.concat(parts, ignore_index=True) if parts else _empty_aggregates()
    if units is not None:
        out = out.merge(units, on="indicator_id", how="left")
    else:
        out = out.assign(unit=pd.NA)
    cols = ["group", "indicator_id", "year", "unit", "median", "n", "N", "coverage", "coverage_ok",
            "weighted_mean", "n_weighted", "coverage_weighted", "coverage_weighted_ok", "composition", "projection"]
    out = out.loc[:, cols].astype({"group": "string", "indicator_id": "string", "unit": "string",
                                   "coverage": "string", "coverage_weighted": "string",
                                   "composition": "string", "year": "int16"})
    return out.sort_values(["group", "indicator_id", "year"], kind="stable").reset_index(drop=True)


def aggregate_members(df: pd.DataFrame, members: Sequence[str], *, label: str = "group",
                      min_coverage: float = DEFAULT_MIN_COVERAGE, weights: pd.DataFrame | None = None) -> pd.DataFrame:
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


def population_weights(iso3: Sequence[str], processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Total population (the aggregation weight) of the given economies, as iso3, year, weight."""
    pop = load(WEIGHT_INDICATOR, countries=list(iso3), processed_dir=processed_dir)
    return pop.loc[:, ["iso3", "year", "value"]].rename(columns={"value": "weight"})


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


def aggregate(indicators: str | Iterable[str], group: str = "ASEAN", *, years: Years = None,
              stat: str = "median", min_coverage: float = DEFAULT_MIN_COVERAGE, on: str | date | None = None,
              processed_dir: Path | str | None = None) -> pd.DataFrame:
    """Group value per indicator x year: one row per statistic (``stat``: median, weighted_mean, both).

    Columns: group, indicator_id, year, stat, value, n, N, coverage ("n of N"), coverage_ok, unit,
    composition, projection. ``value`` is NaN when fewer than ``min_coverage`` of the N members
    report (or, for the weighted mean, report and have a population). The group's composition
    is its membership as of ``on`` (default today) applied to every year; see
    :func:`compute_aggregates`, which the build uses for ``aggregates.parquet`` with the same rules.
    """
    ind = _check_indicators(indicators, processed_dir)
    wanted = list(ind) + ([WEIGHT_INDICATOR] if WEIGHT_INDICATOR not in ind else [])
    known = store.indicator_ids(processed_dir)
    data = store.read_indicators([i for i in wanted if i in known], None, None, processed_dir=processed_dir)
    table = store.read_table("countries", processed_dir)
    wide = compute_aggregates(data, table, min_coverage=min_coverage, groups=(group,), on=on)
    wide = wide.loc[wide["indicator_id"].isin(ind).to_numpy(dtype=bool)]
    wide = wide.loc[_year_mask(wide["year"], years)]
    return aggregates_long(wide, stat)


# --------------------------------------------------------------------------------------------
# Reference tables


def catalogue() -> pd.DataFrame:
    """The indicator catalogue (``data/indicators.toml``): id, title, unit, group, domain, source, ..."""
    from .indicators import load_catalogue

    return load_catalogue().to_frame()


def catalogue_gaps() -> pd.DataFrame:
    """The recorded gaps: population group x domain cells no pinned source can fill, and why."""
    from .indicators import load_catalogue

    gaps = load_catalogue().gaps
    return pd.DataFrame({"group": [g.group for g in gaps], "domain": [g.domain for g in gaps],
                         "reason": [g.reason for g in gaps]}).astype("string")


def sources() -> pd.DataFrame:
    """The source datasets of ``data/sources.toml``: id, publisher, title, licence, vintage, files, ..."""
    from .registry import load_registry

    reg = load_registry()
    rows = [{"id": d.id, "publisher": d.publisher, "title": d.title, "vintage": d.vintage, "licence": d.licence,
             "landing_page": d.landing_page, "distributor": d.distributor, "files": len(reg.files_of(d.id)),
             "citation": d.citation(), "notes": d.notes} for d in reg.datasets.values()]
    return pd.DataFrame(rows).astype({c: "string" for c in rows[0] if c != "files"}) if rows else pd.DataFrame()


def countries(group: str | None = None, *, on: str | date | None = None,
              processed_dir: Path | str | None = None) -> pd.DataFrame:
    """The countries table of the store (iso3, name, m49, wb_region, wb_income_group, asean_joined,
    plus_three, focus, ...), optionally only the members of ``group`` (as of ``on``)."""
    table = store.read_table("countries", processed_dir)
    if group is None:
        return table
    iso = groups.members(group, on=on, countries=table)
    return table.loc[table["iso3"].isin(iso).to_numpy(dtype=bool)].reset_index(drop=True)


def country_names(iso3: Iterable[str] | None = None, *, processed_dir: Path | str | None = None) -> dict[str, str]:
    """ISO3 -> display name from the store's countries table (all economies, or those asked)."""
    table = store.read_table("countries", processed_dir)
    return groups.country_names(table, list(iso3) if iso3 is not None else None)
