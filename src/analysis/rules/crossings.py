"""Speed of population ageing: how many years a country takes to go from 7 % to 14 % to 21 % aged 65+.

The conventional labels are "ageing" (7 %), "aged" (14 %) and "super-aged" (21 %) society. The speed of
the passage matters for policy because it is the time a country has to build pensions, health and
long-term care before the share of older people doubles.

Series rule (``combine_estimates_and_projections``): observed estimates (World Bank WDI) are used for
every year they cover; the UN WPP 2019 series fills only the years *before* the first estimate (its
1950s estimates) and the years *after* the last estimate (its medium-variant projections), ratio-
spliced by default so that it meets the newer WDI level at the junction year (WPP 2019 is older and
for some countries several points off the current estimates). The two series are never averaged, and
gaps inside the estimate span are left as gaps. Every row keeps its ``source_id``, ``projection`` flag
and ``splice_factor``, so every crossing says which source it came from and whether it is observed or
projected. A crossing interpolated between an estimate year and a projection year counts as
projected: it depends on a projected value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

THRESHOLDS: tuple[float, ...] = (7.0, 14.0, 21.0)
REFERENCE_COUNTRY = "JPN"

#: indicator ids in data/indicators.toml: share of the population aged 65+ (WDI estimates) and the
#: same share derived from WPP 2019 population by age (estimates 1950-2020, projections to 2100).
SHARE_65_ESTIMATE = "pop_65plus_share"
SHARE_65_PROJECTION = "pop_65plus_share_wpp"

#: crossing status values
ESTIMATE = "estimate"
PROJECTION = "projection"
BEFORE_SERIES = "before_series"
NOT_REACHED = "not_reached"

_REQUIRED = ("year", "value")


def _as_frame(series: pd.Series | pd.DataFrame, what: str = "share series") -> pd.DataFrame:
    """Accept a Series (index = year) or a frame with year, value[, projection, source_id]."""
    if isinstance(series, pd.Series):
        frame = pd.DataFrame({"year": series.index.to_numpy(), "value": series.to_numpy()})
    else:
        missing = [c for c in _REQUIRED if c not in series.columns]
        if missing:
            raise ValueError(f"{what}: missing column(s) {missing}; need year and value")
        keep = ("year", "value", "projection", "source_id", "splice_factor")
        frame = series.loc[:, [c for c in series.columns if c in keep]]
    if "projection" not in frame.columns:
        frame = frame.assign(projection=False)
    if "source_id" not in frame.columns:
        frame = frame.assign(source_id="")
    if "splice_factor" not in frame.columns:
        frame = frame.assign(splice_factor=1.0)
    frame = frame.assign(
        year=pd.to_numeric(frame["year"]).astype("int64"),
        value=pd.to_numeric(frame["value"]).astype("float64"),
        projection=frame["projection"].fillna(False).astype(bool),
        source_id=frame["source_id"].astype("string").fillna(""),
    )
    frame = frame.loc[frame["value"].notna()].sort_values("year", kind="stable")
    if frame["year"].duplicated().any():
        dup = frame.loc[frame["year"].duplicated(), "year"].iloc[0]
        raise ValueError(f"{what}: year {dup} appears more than once; combine the sources first")
    return frame.reset_index(drop=True)


def _splice_factor(est: pd.DataFrame, proj: pd.DataFrame, year: int) -> float:
    """Ratio estimate/projection-source value in the junction ``year``; 1.0 when either is missing."""
    e = est.loc[est["year"] == year, "value"]
    p = proj.loc[proj["year"] == year, "value"]
    if e.empty or p.empty or float(p.iloc[0]) == 0:
        return 1.0
    return float(e.iloc[0]) / float(p.iloc[0])


def _combine_one(est: pd.DataFrame, proj: pd.DataFrame, splice: str | None) -> pd.DataFrame:
    if est.empty:
        return proj.assign(splice_factor=1.0)
    first, last = int(est["year"].min()), int(est["year"].max())
    before = proj.loc[proj["year"] < first]
    after = proj.loc[proj["year"] > last]
    if splice == "ratio":
        before = before.assign(splice_factor=_splice_factor(est, proj, first))
        after = after.assign(splice_factor=_splice_factor(est, proj, last))
        before = before.assign(value=before["value"] * before["splice_factor"])
        after = after.assign(value=after["value"] * after["splice_factor"])
    else:
        before, after = before.assign(splice_factor=1.0), after.assign(splice_factor=1.0)
    return pd.concat([before, est.assign(splice_factor=1.0), after], ignore_index=True)


def combine_estimates_and_projections(estimates: pd.DataFrame, projections: pd.DataFrame,
                                      splice: str | None = "ratio") -> pd.DataFrame:
    """One series per country: estimates where they exist, the projection source only outside their span.

    ``estimates`` and ``projections`` are long frames with ``year``, ``value`` and optionally ``iso3``,
    ``projection``, ``source_id``. For each country the estimate span is [first, last] estimated year;
    rows of ``projections`` before ``first`` or after ``last`` are added (keeping their own
    ``projection`` flag and ``source_id``). Missing years inside the span are not filled.

    ``splice="ratio"`` (default) level-adjusts the added rows so the two sources meet at the junction:
    rows after ``last`` are multiplied by estimate(last) / projection-source(last), rows before
    ``first`` by estimate(first) / projection-source(first); the projected *growth* is WPP's, the
    level is the newer estimate's. Without this, a country whose newest estimates were revised away
    from WPP 2019 would jump at the junction and its projected crossings would inherit the jump. The
    factor is kept in ``splice_factor`` (1.0 for estimates, and where the sources do not overlap).
    ``splice=None`` keeps the projection source's own levels.
    Returns year, value, projection, source_id, splice_factor (and iso3 when given), sorted.
    """
    if splice not in ("ratio", None):
        raise ValueError(f"splice must be 'ratio' or None, got {splice!r}")
    est = estimates.assign(projection=False) if "projection" not in estimates.columns else estimates
    proj = projections
    for name, frame in (("estimates", est), ("projections", proj)):
        for col in _REQUIRED:
            if col not in frame.columns:
                raise ValueError(f"{name}: missing column {col!r}")
    if "source_id" not in est.columns:
        est = est.assign(source_id="")
    if "source_id" not in proj.columns:
        proj = proj.assign(source_id="")
    if "projection" not in proj.columns:
        proj = proj.assign(projection=False)
    by = ["iso3"] if "iso3" in est.columns and "iso3" in proj.columns else []
    est = est.loc[est["value"].notna()]
    proj = proj.loc[proj["value"].notna()]
    if by:
        keys = sorted(set(est["iso3"].astype(str)) | set(proj["iso3"].astype(str)))
        parts = [_combine_one(est.loc[est["iso3"].astype(str) == k], proj.loc[proj["iso3"].astype(str) == k], splice)
                 for k in keys]
        combined = pd.concat(parts, ignore_index=True) if parts else est.assign(splice_factor=1.0)
    else:
        combined = _combine_one(est, proj, splice)
    combined = combined.assign(projection=combined["projection"].fillna(False).astype(bool))
    cols = by + ["year", "value", "projection", "source_id", "splice_factor"]
    return combined.loc[:, cols].sort_values(by + ["year"], kind="stable").reset_index(drop=True)


def _interpolate_crossing(y0: int, v0: float, y1: int, v1: float, threshold: float) -> float:
    if v1 == v0:
        return float(y1)
    return float(y0 + (threshold - v0) / (v1 - v0) * (y1 - y0))


def _source_label(a: str, b: str) -> str:
    return a if a == b or not b else (b if not a else f"{a}+{b}")


def threshold_crossings(share_series: pd.Series | pd.DataFrame,
                        thresholds: Sequence[float] = THRESHOLDS) -> pd.DataFrame:
    """The year each threshold (in %) is first reached, by linear interpolation between adjacent years.

    Returns one row per threshold: ``threshold``, ``year`` (float, NaN when not determinable),
    ``status`` (``estimate`` / ``projection`` / ``before_series`` / ``not_reached``), ``source``
    (source id of the points around the crossing; ``wdi+wpp2019`` when it bridges both) and ``flag``
    (plain words, empty when the crossing is an ordinary observed one).
    """
    frame = _as_frame(share_series)
    rows = []
    if frame.empty:
        for t in thresholds:
            rows.append({"threshold": float(t), "year": math.nan, "status": NOT_REACHED, "source": "",
                         "flag": "no data"})
        return pd.DataFrame(rows)
    years = frame["year"].to_numpy()
    values = frame["value"].to_numpy()
    proj = frame["projection"].to_numpy()
    src = frame["source_id"].to_numpy()
    factor = frame["splice_factor"].to_numpy(dtype="float64")
    for t in thresholds:
        reached = np.flatnonzero(values >= t)
        if reached.size == 0:
            rows.append({"threshold": float(t), "year": math.nan, "status": NOT_REACHED,
                         "source": str(src[-1]), "flag": f"{t:g}% not reached by {years[-1]}"})
            continue
        i = int(reached[0])
        if i == 0:
            rows.append({"threshold": float(t), "year": math.nan, "status": BEFORE_SERIES,
                         "source": str(src[0]), "flag": f"{t:g}% already reached before {years[0]}"})
            continue
        year = _interpolate_crossing(years[i - 1], values[i - 1], years[i], values[i], t)
        status = PROJECTION if (proj[i] or proj[i - 1]) else ESTIMATE
        flag = ""
        if status == PROJECTION:
            flag = "projected (WPP medium variant)"
        spliced = [f for f in (factor[i - 1], factor[i]) if not math.isclose(f, 1.0)]
        if spliced:
            adj = f"{src[i] or 'projection source'} level-adjusted x{spliced[-1]:.2f} to meet the estimates"
            flag = f"{flag}; {adj}" if flag else adj
        if years[i] - years[i - 1] > 1:
            gap = f"interpolated across a gap {years[i - 1]}-{years[i]}"
            flag = f"{flag}; {gap}" if flag else gap
        rows.append({"threshold": float(t), "year": year, "status": status,
                     "source": _source_label(str(src[i - 1]), str(src[i])), "flag": flag})
    return pd.DataFrame(rows)


def years_to_transition(share_series: pd.Series | pd.DataFrame,
                        thresholds: Sequence[float] = THRESHOLDS) -> pd.DataFrame:
    """Years between consecutive thresholds of the share aged 65+ (default 7 -> 14 -> 21 %).

    ``share_series`` is a Series indexed by year or a frame with ``year``, ``value`` and optionally
    ``projection`` and ``source_id`` (see ``combine_estimates_and_projections`` for the rule joining
    estimates and projections). Returns one row per consecutive pair: ``from_pct``, ``to_pct``,
    ``year_from``, ``year_to``, ``years`` (NaN when either end is not determinable), ``status_from``,
    ``status_to``, ``source_from``, ``source_to``, ``projected`` (True when either end is projected) and
    ``flag`` joining the flags of both ends.
    """
    if len(thresholds) < 2:
        raise ValueError("need at least two thresholds")
    if list(thresholds) != sorted(thresholds):
        raise ValueError(f"thresholds must increase: {tuple(thresholds)}")
    crossings = threshold_crossings(share_series, thresholds)
    rows = []
    for a, b in zip(crossings.itertuples(index=False), crossings.iloc[1:].itertuples(index=False)):
        flags = "; ".join(f for f in (a.flag, b.flag) if f)
        rows.append({
            "from_pct": a.threshold, "to_pct": b.threshold,
            "year_from": a.year, "year_to": b.year, "years": b.year - a.year,
            "status_from": a.status, "status_to": b.status,
            "source_from": a.source, "source_to": b.source,
            "projected": PROJECTION in (a.status, b.status),
            "flag": flags,
        })
    return pd.DataFrame(rows)


def _pct_label(t: float) -> str:
    return f"{t:g}"


def speed_table_from_series(series: pd.DataFrame, thresholds: Sequence[float] = THRESHOLDS,
                            reference: str = REFERENCE_COUNTRY) -> pd.DataFrame:
    """Ageing-speed table from a combined long series (iso3, year, value, projection, source_id).

    One row per country: the year each threshold is reached (``year_7``...), its status
    (``status_7``...), the years between consecutive thresholds (``years_7_14``...), and the same
    relative to the reference country: ``lag_7`` = years after the reference reached 7 %, and
    ``faster_7_14`` = reference's years minus this country's (positive: this country is faster).
    ``flags`` joins every flag of the country.
    """
    if "iso3" not in series.columns:
        raise ValueError("share series: missing column 'iso3'")
    out = []
    for iso3, frame in series.groupby("iso3", sort=True):
        crossings = threshold_crossings(frame, thresholds)
        row: dict[str, object] = {"iso3": iso3}
        for c in crossings.itertuples(index=False):
            k = _pct_label(c.threshold)
            row[f"year_{k}"] = c.year
            row[f"status_{k}"] = c.status
            row[f"source_{k}"] = c.source
        for a, b in zip(thresholds, thresholds[1:]):
            row[f"years_{_pct_label(a)}_{_pct_label(b)}"] = (
                row[f"year_{_pct_label(b)}"] - row[f"year_{_pct_label(a)}"])
        parts = [p for f in crossings["flag"] if f for p in f.split("; ")]
        row["flags"] = "; ".join(dict.fromkeys(parts))  # each distinct flag once, in order
        out.append(row)
    table = pd.DataFrame(out)
    if table.empty:
        return table
    table = table.assign(iso3=table["iso3"].astype("string"))
    first = _pct_label(thresholds[0])
    ref = table.loc[table["iso3"] == reference]
    if ref.empty:
        # Without the reference the relative columns are unknown, not zero.
        ref_vals = {c: math.nan for c in table.columns if c.startswith(("year_", "years_"))}
    else:
        ref_vals = ref.iloc[0].to_dict()
    table = table.assign(**{f"lag_{first}": table[f"year_{first}"] - ref_vals[f"year_{first}"]})
    for a, b in zip(thresholds, thresholds[1:]):
        col = f"years_{_pct_label(a)}_{_pct_label(b)}"
        table = table.assign(**{f"faster_{_pct_label(a)}_{_pct_label(b)}": ref_vals[col] - table[col]})
    return table


def format_speed_table(table: pd.DataFrame, thresholds: Sequence[float] = THRESHOLDS) -> pd.DataFrame:
    """The speed table as readers see it: whole years, ``p`` after projected years, words for gaps.

    A crossing before the series starts reads ``before <first year>``; one not reached reads
    ``not by <last year>`` (taken from the flags). Columns: Country, "reaches 7%", ..., "7->14 (years)", ...,
    "vs Japan 7->14" (positive = faster than the reference).
    """
    out = pd.DataFrame({"Country": table["name"] if "name" in table.columns else table["iso3"]})
    for t in thresholds:
        k = _pct_label(t)
        cells = []
        for year, status, flags in zip(table[f"year_{k}"], table[f"status_{k}"], table["flags"]):
            if status == BEFORE_SERIES:
                cells.append("before " + _flag_year(flags, f"{k}% already reached before "))
            elif status == NOT_REACHED:
                cells.append("not by " + _flag_year(flags, f"{k}% not reached by "))
            else:
                cells.append(f"{year:.0f}" + (" p" if status == PROJECTION else ""))
        out[f"reaches {k}%"] = cells
    for a, b in zip(thresholds, thresholds[1:]):
        k = f"{_pct_label(a)}_{_pct_label(b)}"
        out[f"{_pct_label(a)}->{_pct_label(b)} (years)"] = table[f"years_{k}"].round(0).astype("Int64")
    for a, b in zip(thresholds, thresholds[1:]):
        k = f"{_pct_label(a)}_{_pct_label(b)}"
        if f"faster_{k}" in table.columns:
            out[f"vs Japan {_pct_label(a)}->{_pct_label(b)}"] = table[f"faster_{k}"].round(0).astype("Int64")
    return out


def _flag_year(flags: str, prefix: str) -> str:
    for part in str(flags).split("; "):
        if part.startswith(prefix):
            return part.removeprefix(prefix)
    return "?"


def ageing_paths(series: pd.DataFrame, threshold: float = THRESHOLDS[0],
                 thresholds: Sequence[float] = THRESHOLDS) -> pd.DataFrame:
    """The share aged 65+ against years since the country reached ``threshold`` (the reference path).

    Adds ``years_since`` = year - (year the country first reached ``threshold``); countries that never
    reach it, or were above it when the series starts, get NaN (their paths cannot be aligned).
    """
    parts = []
    for _, frame in series.groupby("iso3", sort=True):
        crossing = threshold_crossings(frame, [threshold]).iloc[0]
        parts.append(frame.assign(years_since=frame["year"] - crossing["year"]))
    if not parts:
        return series.assign(years_since=pd.Series(dtype="float64"))
    return pd.concat(parts, ignore_index=True)
