"""Group membership on a date, from a countries (or members) table: no file is read here.

Groups understood by :func:`members`:

``ASEAN``       members whose accession date is on or before ``on``, so Timor-Leste (joined
                2025-10-26) counts from that day and Cambodia from 1999-04-30.
``ASEAN10``     the first ten members in order of accession; fixed, ``on`` is ignored.
``PLUS_THREE``  rows whose grouping is "Plus Three".
``ASEAN+3``     ``ASEAN`` as of ``on`` plus ``PLUS_THREE``.
``FOCUS``       every ASEAN or Plus Three row (the countries of the analysis), whatever ``on``.
``region:<World Bank region>`` and ``income:<World Bank income group>``, from the countries table.

``on`` is always given by the caller (the pinned ``as_of`` setting by default), never today's date:
no output may depend on the day it is computed.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import numpy as np
import pandas as pd

GROUP_NAMES = ("ASEAN", "ASEAN10", "PLUS_THREE", "ASEAN+3", "FOCUS")


# Size of the "ASEAN-10" composition: a definition of the group name, not a list of countries.
_ASEAN10_SIZE = 10


def as_date(on: str | date | datetime | pd.Timestamp) -> pd.Timestamp:
    """``on`` as a normalised timestamp; a missing or malformed date is an error, never "today"."""
    if on is None:
        raise ValueError("`on` is required: pass the as_of date (analysis settings) explicitly")
    try:
        return pd.Timestamp(on).normalize()
    except (ValueError, TypeError):
        raise ValueError(f"`on` must be an ISO date (YYYY-MM-DD) or a date; got {on!r}") from None


def _members_frame(countries: pd.DataFrame) -> pd.DataFrame:
    """ASEAN / Plus Three rows as (iso3, grouping, joined) from a countries or members table."""
    if {"asean_joined", "plus_three", "focus"} <= set(countries.columns):
        focus = countries.loc[countries["focus"].astype(bool)]
        grouping = np.where(focus["plus_three"].astype(bool), "Plus Three",
                            np.where(focus["asean_joined"].notna(), "ASEAN", ""))
        return pd.DataFrame({"iso3": focus["iso3"].to_numpy(), "grouping": grouping,
                             "joined": focus["asean_joined"].to_numpy()})
    if {"iso3", "grouping", "joined"} <= set(countries.columns):
        return countries.loc[:, ["iso3", "grouping", "joined"]]
    raise ValueError("need a countries table (asean_joined, plus_three, focus) or a members table "
                     f"(iso3, grouping, joined); got columns {list(countries.columns)}")


def members(group: str, *, on: str | date, countries: pd.DataFrame) -> list[str]:
    """Sorted ISO3 codes of ``group`` (see the module docstring for the names understood).

    ``on`` dates the ASEAN composition (the caller passes the pinned ``as_of`` setting).
    ``countries`` is the store's countries table, or the members reference table (then
    ``region:`` / ``income:`` groups are not available).
    """
    key = group.strip()
    if ":" in key:
        return _wb_group(key, countries)
    canonical = _canonical_group(key)
    if canonical is None:
        raise ValueError(f"unknown group {group!r}; use one of {', '.join(GROUP_NAMES)}, "
                         "region:<World Bank region> or income:<World Bank income group>")
    ref = _members_frame(countries)
    asean = ref.loc[ref["grouping"] == "ASEAN"]
    joined = pd.to_datetime(asean["joined"], format="%Y-%m-%d")
    plus_three = ref.loc[ref["grouping"] == "Plus Three"]
    if canonical == "ASEAN":
        chosen = asean.loc[(joined <= as_date(on)).to_numpy()]
    elif canonical == "ASEAN10":
        if len(joined) < _ASEAN10_SIZE:
            raise ValueError(f"ASEAN10 needs at least {_ASEAN10_SIZE} ASEAN members in the references; "
                             f"found {len(joined)}")
        cutoff = joined.sort_values().iloc[_ASEAN10_SIZE - 1]
        chosen = asean.loc[(joined <= cutoff).to_numpy()]
    elif canonical == "PLUS_THREE":
        chosen = plus_three
    elif canonical == "ASEAN+3":
        chosen = pd.concat([asean.loc[(joined <= as_date(on)).to_numpy()], plus_three])
    else:
        chosen = ref
    return sorted(chosen["iso3"].astype(str).tolist())


_GROUP_ALIASES = {
    "ASEAN": "ASEAN", "ASEAN10": "ASEAN10", "PLUSTHREE": "PLUS_THREE", "+3": "PLUS_THREE",
    "ASEAN+3": "ASEAN+3", "ASEANPLUSTHREE": "ASEAN+3", "APT": "ASEAN+3", "FOCUS": "FOCUS",
}


def _canonical_group(name: str) -> str | None:
    """The canonical group name for spellings such as "ASEAN-10", "Plus Three", "asean+3"."""
    return _GROUP_ALIASES.get(re.sub(r"[\s_\-]", "", name.upper()))


def _wb_group(key: str, table: pd.DataFrame) -> list[str]:
    kind, _, value = key.partition(":")
    value = value.strip()
    column = {"region": "wb_region", "income": "wb_income_group"}.get(kind.strip().lower())
    if column is None:
        raise ValueError(f"unknown group kind {kind!r}: use region:<World Bank region> or income:<income group>")
    if column not in table.columns:
        # The members reference table has no World Bank columns: say so instead of a bare KeyError.
        raise ValueError(f"group {key!r} needs the store's countries table (column {column}); "
                         "the table given has none")
    values = set(table[column].dropna().astype(str))
    if value not in values:
        raise ValueError(f"no {column} {value!r}; known: {', '.join(sorted(values))}")
    return sorted(table.loc[(table[column] == value).fillna(False).to_numpy(dtype=bool), "iso3"].astype(str))


def is_group(name: str) -> bool:
    """True when ``name`` is a group name (or ``region:`` / ``income:`` group) rather than a country code."""
    return ":" in name or _canonical_group(name) is not None


def display_order(countries: pd.DataFrame) -> list[str]:
    """The fixed chart order of the 14: ASEAN members by name, then Plus Three by name."""
    ref = _members_frame(countries)
    names = country_names(countries)
    ref = ref.assign(name=ref["iso3"].map(names), plus=(ref["grouping"] == "Plus Three"))
    return ref.sort_values(["plus", "name"])["iso3"].astype(str).tolist()


def country_names(countries: pd.DataFrame, iso3: list[str] | None = None) -> dict[str, str]:
    """ISO3 -> display name from a countries (or members) table; unknown codes map to themselves."""
    table = countries.loc[:, ["iso3", "name"]]
    names = dict(zip(table["iso3"].astype(str), table["name"].astype(str)))
    if iso3 is None:
        return names
    return {code: names.get(code, code) for code in iso3}
