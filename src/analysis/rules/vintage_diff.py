"""What changed between two series of one concept (two vintages of a source, or two builds of a store).

Pure functions on tidy frames (``iso3``, ``year``, ``value``; one row per country and year). A value is
*revised* when both series have the year and the values differ, *added* when only the newer one has
it, *dropped* when only the older one has it. Because a refresh often replaces a point by a newer year
instead of revising it (most SDG 1.3.1 points between the 2020 and the 2023 builds of the SDG
database), the diff also compares each country's *latest* value and year before and after.

Values are equal when they agree to a relative ``1e-9``: a value parsed again from a file that did not
change must not read as a revision, and published figures are never that precise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

KEY = ["iso3", "year"]
REVISED, UNCHANGED, ADDED, DROPPED = "revised", "unchanged", "added", "dropped"
LATEST_CHANGED, LATEST_SAME = "latest_changed", "latest_same"
#: every kind of row :func:`diff_series` returns, in output order within a country
KINDS = (LATEST_CHANGED, LATEST_SAME, REVISED, UNCHANGED, ADDED, DROPPED)
#: the kinds that are changes (the others are kept for counts and per-country tables)
CHANGE_KINDS = (LATEST_CHANGED, REVISED, ADDED, DROPPED)
COLUMNS = ["iso3", "change", "old_year", "old_value", "new_year", "new_value", "difference"]
RTOL = 1e-9
ATOL = 1e-12

_FAMILY = re.compile(r"[-_]?\d{4}$")


def _tidy(frame: pd.DataFrame, side: str) -> pd.DataFrame:
    """The observed values of one series; ValueError when a country and year appear twice."""
    missing = [c for c in [*KEY, "value"] if c not in frame.columns]
    if missing:
        raise ValueError(f"{side} series lacks the column(s) {', '.join(missing)}")
    out = frame.loc[frame["value"].notna(), [*KEY, "value"]].copy()
    out["iso3"] = out["iso3"].astype("string")
    out["year"] = out["year"].astype("int64")
    out["value"] = out["value"].astype("float64")
    twice = out.loc[out.duplicated(KEY, keep=False), KEY].drop_duplicates()
    if len(twice):
        shown = ", ".join(f"{r.iso3} {r.year}" for r in twice.head(5).itertuples())
        raise ValueError(f"{side} series has more than one value for {len(twice)} country-year(s), e.g. {shown}")
    return out


def same(old: pd.Series | np.ndarray, new: pd.Series | np.ndarray) -> np.ndarray:
    """Element-wise: the two values agree (both present and equal within the tolerance)."""
    a = np.asarray(old, dtype="float64")
    b = np.asarray(new, dtype="float64")
    return np.isclose(a, b, rtol=RTOL, atol=ATOL) & ~np.isnan(a) & ~np.isnan(b)


def _values(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    both = old.merge(new, on=KEY, how="outer", suffixes=("_old", "_new"), indicator=True)
    kind = np.select([both["_merge"].eq("left_only").to_numpy(), both["_merge"].eq("right_only").to_numpy(),
                      same(both["value_old"], both["value_new"])], [DROPPED, ADDED, UNCHANGED], default=REVISED)
    has_old = both["_merge"].ne("right_only")
    has_new = both["_merge"].ne("left_only")
    return pd.DataFrame({
        "iso3": both["iso3"], "change": kind,
        "old_year": both["year"].where(has_old), "old_value": both["value_old"],
        "new_year": both["year"].where(has_new), "new_value": both["value_new"],
    })


def latest_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Each country's most recent year and its value (iso3, year, value)."""
    ordered = frame.sort_values(KEY, kind="stable")
    return ordered.drop_duplicates("iso3", keep="last").loc[:, [*KEY, "value"]]


def _latest(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    both = latest_values(old).merge(latest_values(new), on="iso3", how="outer", suffixes=("_old", "_new"))
    unchanged = (both["year_old"] == both["year_new"]).fillna(False).to_numpy(dtype=bool) & same(
        both["value_old"], both["value_new"])
    return pd.DataFrame({
        "iso3": both["iso3"], "change": np.where(unchanged, LATEST_SAME, LATEST_CHANGED),
        "old_year": both["year_old"], "old_value": both["value_old"],
        "new_year": both["year_new"], "new_value": both["value_new"],
    })


def diff_series(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Every country of either series: its latest value before and after (``latest_changed`` or
    ``latest_same``) and every year's value (``revised``, ``unchanged``, ``added``, ``dropped``).

    Columns :data:`COLUMNS`; years are nullable integers (empty where a side has no value),
    ``difference`` is new minus old where both exist. Sorted by iso3, kind (:data:`KINDS`), year.
    """
    a, b = _tidy(old, "older"), _tidy(new, "newer")
    out = pd.concat([_latest(a, b), _values(a, b)], ignore_index=True)
    out = out.astype({"iso3": "string", "change": "string", "old_year": "Int64", "new_year": "Int64",
                      "old_value": "float64", "new_value": "float64"})
    out["difference"] = out["new_value"] - out["old_value"]
    order = out["change"].map({k: i for i, k in enumerate(KINDS)}).astype("int64")
    year = out["new_year"].fillna(out["old_year"])
    out = (out.assign(_order=order, _year=year).sort_values(["iso3", "_order", "_year"], kind="stable")
           .drop(columns=["_order", "_year"]).reset_index(drop=True))
    return out.loc[:, COLUMNS]


def relative_size(frame: pd.DataFrame) -> pd.Series:
    """|new - old| as a share of the larger of |old| and |new| (0 to 2; NaN where a side is missing):
    a scale on which changes of different units can be ranked together without dividing by zero."""
    scale = np.maximum(frame["old_value"].abs(), frame["new_value"].abs())
    size = frame["difference"].abs() / scale.where(scale > 0)
    return size.where(frame["difference"].ne(0), 0.0).astype("float64")


def largest(frame: pd.DataFrame, kinds: Iterable[str], n: int, tie_break: Sequence[str] = ("iso3",)) -> pd.DataFrame:
    """The ``n`` rows of the given kinds with the largest :func:`relative_size` (both sides present),
    ties broken by ``tie_break`` then the years, so the choice is deterministic."""
    rows = frame.loc[frame["change"].isin(list(kinds)).to_numpy(dtype=bool) & frame["difference"].notna().to_numpy()]
    rows = rows.assign(relative=relative_size(rows))
    rows = rows.loc[rows["relative"] > 0]
    by = ["relative", *tie_break, "old_year", "new_year"]
    ascending = [False] + [True] * (len(by) - 1)
    return rows.sort_values(by, ascending=ascending, kind="stable").head(n).reset_index(drop=True)


def source_family(source_id: str) -> str:
    """The source a vintage belongs to: its id without a trailing year (``sdg2020`` and ``sdg2023`` are
    vintages of ``sdg``; ``ilostat`` and ``ilostat-disability`` are different sources)."""
    return _FAMILY.sub("", source_id) or source_id


def vintage_pairs(vintages: dict[str, str]) -> list[tuple[str, str]]:
    """(older, newest) source ids within each family of ``vintages`` (source id -> vintage): every
    older vintage of a family against its newest one, ordered by vintage then id."""
    families: dict[str, list[tuple[str, str]]] = {}
    for source, vintage in vintages.items():
        families.setdefault(source_family(source), []).append((str(vintage), source))
    pairs = []
    for members in families.values():
        ordered = [source for _, source in sorted(members)]
        pairs += [(older, ordered[-1]) for older in ordered[:-1]]
    return sorted(pairs)
