"""Change since a meeting year: the value around the meeting and the latest value after it.

This is **co-movement, not effect**: the meetings are exchanges of experience among officials, many
other things changed over the same years, and nothing here identifies what a meeting caused. The
numbers say how an indicator moved after a meeting on a related theme, nothing more.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def _direction(change: float, better: str | None) -> str:
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return "no comparison"
    if better not in ("higher", "lower"):  # "neutral" or unknown: no better/worse wording
        return "no judgement"
    if change == 0:
        return "unchanged"
    improved = change > 0 if better == "higher" else change < 0
    return "better" if improved else "worse"


def change_since_meeting(df: pd.DataFrame, meeting_year: int,
                         latest_window: tuple[int, int] | None = None, *,
                         tolerance: int,
                         better: dict[str, str] | None = None,
                         by: str = "iso3") -> pd.DataFrame:
    """Value around a meeting year and latest value, per ``by`` (country or group) x indicator.

    ``df`` is a long frame with ``by``, ``indicator_id``, ``year``, ``value`` (projection rows, if a
    ``projection`` column is present, are dropped: a projection is not an observed change).
    The baseline is the value in ``meeting_year`` or, failing that, the nearest year within
    ``tolerance`` (:func:`analysis.rules.latest.nearest_year`; ties: the earlier year);
    ``baseline_flag`` says ``exact``, ``nearest (+/-n)`` or ``none within +/-tolerance``. The latest
    value is the newest year after the baseline year and, when ``latest_window = (first, last)`` is
    given, inside that window. ``better`` maps indicator id to ``higher`` / ``lower``; ``direction``
    is then ``better`` / ``worse`` / ``unchanged`` (``no judgement`` when the catalogue gives no
    direction, ``no comparison`` when a value is missing).

    Co-movement, not effect: the table shows how indicators moved after a meeting on a related
    theme. It does not say the meeting caused the movement.
    """
    for col in (by, "indicator_id", "year", "value"):
        if col not in df.columns:
            raise ValueError(f"change_since_meeting input: missing column {col!r}")
    better = better or {}
    data = df.loc[df["value"].notna()]
    if "projection" in data.columns:
        data = data.loc[~data["projection"].fillna(False).astype(bool)]
    rows = _baselines_and_latest(data, meeting_year, latest_window, tolerance=tolerance, by=by)
    cols = [by, "indicator_id", "meeting_year", "baseline_year", "baseline_value", "baseline_flag",
            "latest_year", "latest_value", "change", "annualised_change", "better", "direction"]
    if not rows[by]:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    span = out["latest_year"] - out["baseline_year"]
    change = out["latest_value"] - out["baseline_value"]
    out = out.assign(
        baseline_year=out["baseline_year"].astype("Int64"),
        latest_year=out["latest_year"].astype("Int64"),
        change=change,
        annualised_change=change / span,
        better=out["indicator_id"].map(lambda i: better.get(i)).astype("string"),
    )
    out = out.assign(direction=[_direction(c, better.get(i)) for c, i in zip(out["change"], out["indicator_id"])])
    return out.loc[:, cols]


def _first_per_group(group: np.ndarray, rows: np.ndarray, *keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(groups, rows): for each group present among ``rows`` (positions), the row that sorts first by
    ``keys`` (most significant first; each as long as ``rows``), ties to the earlier position."""
    if not len(rows):
        return rows, rows
    order = np.lexsort((rows, *reversed(keys), group[rows]))
    groups, picked = group[rows][order], rows[order]
    first = np.r_[True, groups[1:] != groups[:-1]]
    return groups[first], picked[first]


def _baselines_and_latest(data: pd.DataFrame, meeting_year: int, latest_window: tuple[int, int] | None, *,
                          tolerance: int, by: str) -> dict[str, list]:
    """Per ``by`` x indicator (sorted), the baseline around ``meeting_year`` and the latest value after
    it, as columns. All series at once: a loop over the series cost seconds per report."""
    data = data.loc[(data[by].notna() & data["indicator_id"].notna()).to_numpy(dtype=bool)]
    grouped = data.groupby([by, "indicator_id"], sort=True)
    group = grouped.ngroup().to_numpy(dtype="int64")
    keys = grouped.size().index
    year = data["year"].to_numpy(dtype="float64", na_value=np.nan)
    value = data["value"].to_numpy(dtype="float64", na_value=np.nan)
    n = len(keys)
    # the baseline: the nearest year within the tolerance, ties to the earlier year (rules.latest.nearest_year)
    distance = np.abs(year - meeting_year)
    near = np.flatnonzero(distance <= tolerance)
    with_base, base_row = _first_per_group(group, near, distance[near], year[near])
    base_year, base_value = np.full(n, np.nan), np.full(n, np.nan)
    base_year[with_base], base_value[with_base] = year[base_row], value[base_row]
    # the latest value: the newest year after the baseline year (inside the window when given)
    later = year > base_year[group]
    if latest_window is not None:
        later &= (year >= latest_window[0]) & (year <= latest_window[1])
    after = np.flatnonzero(later)
    with_last, last_row = _first_per_group(group, after, -year[after], -after)
    last_year, last_value = np.full(n, np.nan), np.full(n, np.nan)
    last_year[with_last], last_value[with_last] = year[last_row], value[last_row]
    flags = [f"none within +/-{tolerance}" if np.isnan(y) else
             "exact" if int(y) == meeting_year else f"nearest ({int(y) - meeting_year:+d})" for y in base_year]
    return {by: keys.get_level_values(0).tolist(), "indicator_id": keys.get_level_values(1).tolist(),
            "meeting_year": [meeting_year] * n,
            "baseline_year": [math.nan if np.isnan(y) else int(y) for y in base_year],
            "baseline_value": base_value.tolist(), "baseline_flag": flags,
            "latest_year": [math.nan if np.isnan(y) else int(y) for y in last_year],
            "latest_value": last_value.tolist()}


def change_since_meeting_aggregate(aggregates: pd.DataFrame, meeting_year: int, group: str = "ASEAN",
                                   statistic: str = "median",
                                   latest_window: tuple[int, int] | None = None, *,
                                   tolerance: int,
                                   better: dict[str, str] | None = None) -> pd.DataFrame:
    """``change_since_meeting`` for a group aggregate (``aggregates.parquet`` layout).

    Uses the ``statistic`` column (``median`` or ``weighted_mean``) of the rows of ``group``; rows with
    ``coverage_ok`` False are dropped (too few countries reported that year to call it the group's
    value), so the baseline or the latest year may move to a year with enough coverage.
    Co-movement, not effect (see ``change_since_meeting``).
    """
    for col in ("group", "indicator_id", "year", statistic):
        if col not in aggregates.columns:
            raise ValueError(f"aggregates: missing column {col!r}")
    rows = aggregates.loc[aggregates["group"] == group]
    if "coverage_ok" in rows.columns:
        rows = rows.loc[rows["coverage_ok"].fillna(False).astype(bool)]
    rows = rows.assign(value=rows[statistic])
    return change_since_meeting(rows, meeting_year, latest_window=latest_window, tolerance=tolerance,
                                better=better, by="group")


def direction_counts(by_country: pd.DataFrame) -> pd.DataFrame:
    """Per indicator: how many countries moved in the better / worse direction, or cannot be compared."""
    if by_country.empty:
        return pd.DataFrame(columns=["indicator_id", "better", "worse", "unchanged", "no judgement",
                                     "no comparison"])
    counts = pd.crosstab(by_country["indicator_id"], by_country["direction"])
    for col in ("better", "worse", "unchanged", "no judgement", "no comparison"):
        if col not in counts.columns:
            counts[col] = 0
    order = list(dict.fromkeys(by_country["indicator_id"]))
    counts = counts.reindex(order).loc[:, ["better", "worse", "unchanged", "no judgement", "no comparison"]]
    counts.columns.name = None
    return counts.reset_index()
