"""Selection rules behind the key messages: which country, indicator or year a sentence is about.

Pure functions on frames (no store, no catalogue): the callers pass the latest values, the members of
the group, the catalogue's direction and smallest meaningful difference. Each rule returns the numbers a
template needs, never prose, except the small phrases every message shares ("9 of 11", "2023 for 7,
2019–2022 for 2") so that no template spells them differently.

Direction words are the callers' business, with one rule here: an indicator whose direction is neither
``higher`` nor ``lower`` (neutral) is only ever "highest" or "lowest" (:func:`extreme_words`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

DIRECTED = ("higher", "lower")


# ------------------------------------------------------------------------------------ shared phrases


def year_phrase(years: Iterable[int], *, period: int = 1, of_total: bool = False) -> str:
    """The year(s) behind a set of values, said exactly: "2023" when all share it, else "2023 for 7,
    2019–2022 for 2" (the newest year and how many values carry it, then the span of the others);
    ``of_total``: "2023 for 7 of 9, …"; ``period``: values of multi-year periods stored under their
    first year read "2015–2020". The one wording of every chart, caption and message."""
    ys = [int(y) for y in years]
    if not ys:
        return "no year"

    def label(year: int) -> str:
        return f"{year}–{year + period}" if period > 1 else str(year)

    counts = Counter(ys)
    top = max(counts)
    if len(counts) == 1:
        return label(top)
    others = [y for y in ys if y != top]
    lo, hi = min(others), max(others)
    span = label(lo) if lo == hi else f"{lo}–{hi}" if period == 1 else f"{label(lo)} to {label(hi)}"
    of = f" of {len(ys)}" if of_total else ""
    return f"{label(top)} for {counts[top]}{of}, {span} for {len(others)}"


def coverage_phrase(years: Sequence[int], total: int, who: str) -> str:
    """"9 of 11 ASEAN members, 2023 for 7, 2019–2022 for 2": how many report, of whom, and when."""
    return f"{len(years)} of {total} {who}, {year_phrase(years)}"


def format_number(value: float) -> str:
    """A value as a sentence shows it: thousands separated, one decimal below 1,000, none above."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no value"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.1f}"


def with_unit(value: float, unit: str) -> str:
    """"42.1 % of population", "20.3 per 1,000 live births", "61.0 on an index of 0-100"."""
    text = format_number(value)
    scale = re.fullmatch(r"index \((.+)\)", unit)
    if scale:
        return f"{text} on an index of {scale.group(1)}"
    return f"{text} {unit}"


def mid_sentence(title: str) -> str:
    """A title as it reads inside a sentence: "Life expectancy" -> "life expectancy"; acronyms such as
    "UHC service coverage" keep their capitals."""
    return title[:1].lower() + title[1:] if title[:1].isupper() and title[1:2].islower() else title


def extreme_words(better: str | None, high: bool) -> str:
    """"highest"/"lowest" for a neutral indicator; for a directed one the same word plus the judgement
    ("highest, the best", "lowest, the worst"), so neutral indicators never read as better or worse."""
    word = "highest" if high else "lowest"
    if better not in DIRECTED:
        return word
    good = high == (better == "higher")
    return f"{word} (the {'best' if good else 'worst'})"


def movement_word(before: float, after: float) -> str:
    """"rose" / "fell" / "did not change": what a value did, with no judgement. Judged at the precision
    a sentence shows, so "rose from 0.9 to 0.9" cannot happen."""
    if format_number(before) == format_number(after):
        return "did not change"
    return "rose" if after > before else "fell"


# ------------------------------------------------------------------------------------ latest values


def _observed(latest: pd.DataFrame, members: Sequence[str]) -> pd.DataFrame:
    """The members' rows with a value (iso3, value, year), in ISO3 order."""
    rows = latest.loc[latest["iso3"].astype(str).isin(list(members)).to_numpy(dtype=bool)]
    rows = rows.loc[rows["value"].notna().to_numpy(dtype=bool)]
    return rows.assign(iso3=rows["iso3"].astype(str), year=rows["year"].astype("int64"),
                       value=rows["value"].astype("float64")).sort_values("iso3").reset_index(drop=True)


def gap_to_median(latest: pd.DataFrame, members: Sequence[str]) -> dict | None:
    """The member furthest from the members' median of one indicator's latest values.

    ``latest``: iso3, value, year (one row per country). Returns iso3, value, year, median, gap
    (value − median), spread (median absolute deviation, unscaled), score (|gap| / spread; |gap| when
    the spread is 0), years (of every value behind the median), n and N; None with fewer than two values.
    Ties go to the first ISO3 code, so the choice does not depend on row order.
    """
    rows = _observed(latest, members)
    if len(rows) < 2:
        return None
    values = rows["value"].to_numpy()
    median = float(np.median(values))
    spread = float(np.median(np.abs(values - median)))
    gaps = values - median
    k = int(np.argmax(np.abs(gaps)))
    score = abs(gaps[k]) / spread if spread > 0 else abs(gaps[k])
    return {"iso3": rows.at[k, "iso3"], "value": float(values[k]), "year": int(rows.at[k, "year"]),
            "median": median, "gap": float(gaps[k]), "spread": spread, "score": float(score),
            "years": rows["year"].tolist(), "n": len(rows), "N": len(members)}


def extremes(table: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series] | None:
    """The rows with the smallest and the largest ``column`` (NaN left out; ties: first ISO3); None
    without any value."""
    rows = table.loc[table[column].notna().to_numpy(dtype=bool)]
    if rows.empty:
        return None
    rows = rows.sort_values(["iso3"], kind="stable").reset_index(drop=True)
    values = rows[column].astype("float64").to_numpy()
    return rows.iloc[int(np.argmin(values))], rows.iloc[int(np.argmax(values))]


def stale_or_missing(latest: pd.DataFrame, members: Sequence[str], first_year: int) -> pd.DataFrame:
    """Members without a value since ``first_year``: iso3 and their newest year (<NA>: none at all).

    ``latest`` holds each member's newest observed value of one indicator (any age), iso3 and year."""
    newest = latest.assign(iso3=latest["iso3"].astype(str)).set_index("iso3")["year"]
    rows = []
    for iso in sorted(members):
        year = newest.get(iso)
        if year is None or pd.isna(year) or int(year) < first_year:
            rows.append({"iso3": iso, "year": pd.NA if year is None or pd.isna(year) else int(year)})
    return pd.DataFrame(rows, columns=["iso3", "year"]).astype({"iso3": "string", "year": "Int64"})


# ------------------------------------------------------------------------------------ pairs and changes


def paired_gap(a: pd.DataFrame, b: pd.DataFrame, members: Sequence[str]) -> pd.DataFrame:
    """Per member, ``a`` − ``b`` in the newest year both have, from one source and vintage.

    ``a`` and ``b``: long frames (iso3, year, value, source_id, vintage) of two indicators measured
    together (women and men, with and without a disability). Gaps are never taken across two sources
    or vintages, nor across two years. Returns iso3, year, a, b, gap, sorted by ISO3.
    """
    keys = ["iso3", "year", "source_id", "vintage"]
    left = a.loc[a["value"].notna(), [*keys, "value"]].rename(columns={"value": "a"})
    right = b.loc[b["value"].notna(), [*keys, "value"]].rename(columns={"value": "b"})
    both = left.merge(right, on=keys, how="inner")
    both = both.loc[both["iso3"].astype(str).isin(list(members)).to_numpy(dtype=bool)]
    if both.empty:
        return pd.DataFrame(columns=["iso3", "year", "a", "b", "gap"])
    newest = both.sort_values(["iso3", "year"], kind="stable").groupby("iso3", sort=True).tail(1)
    out = newest.assign(iso3=newest["iso3"].astype(str), year=newest["year"].astype("int64"),
                        gap=newest["a"] - newest["b"])
    return out.loc[:, ["iso3", "year", "a", "b", "gap"]].sort_values("iso3").reset_index(drop=True)


def largest_change(changes: pd.DataFrame, better: str | None) -> pd.Series | None:
    """The country whose value moved most since a meeting (a ``change_since_meeting`` frame of one
    indicator): the largest improvement for a directed indicator, the largest absolute move for a
    neutral one. None when no country has both values. Ties: first ISO3 code."""
    rows = changes.loc[changes["change"].notna().to_numpy(dtype=bool)]
    if rows.empty:
        return None
    rows = rows.sort_values("iso3", kind="stable").reset_index(drop=True)
    change = rows["change"].astype("float64").to_numpy()
    if better == "higher":
        score = change
    elif better == "lower":
        score = -change
    else:
        score = np.abs(change)
    return rows.iloc[int(np.argmax(score))]


def judged_distance(value: float, median: float, spread: float, min_difference: float, better: str | None) -> float:
    """How far a country is from the group's typical range, signed by the catalogue's direction:
    positive is better, negative worse, 0 inside the band (median ± max(spread, min_difference)), NaN
    for a neutral indicator or a missing value: neutral indicators are never strengths or concerns."""
    if better not in DIRECTED or any(pd.isna(x) for x in (value, median, spread)):
        return math.nan
    width = max(float(spread), float(min_difference))
    excess = max(abs(value - median) - width, 0.0)
    if excess == 0.0:
        return 0.0
    scale = width if width > 0 else 1.0
    above = value > median
    return (excess / scale) * (1.0 if above == (better == "higher") else -1.0)
