"""Project-wide settings: each is declared here once and read everywhere else.

Per-indicator facts (direction, window, tolerance, smallest meaningful difference, headline and
profile membership) live in ``data/indicators.toml``; the values here are the project defaults the
catalogue falls back to, and the facts that are not about one indicator.
"""

from __future__ import annotations

from datetime import date

#: The reference date that decides group membership (ASEAN as of this day) for every stored
#: aggregate and every API call. Pinned, never "today": outputs must not depend on the day they are
#: built. Changed deliberately when the data are refreshed (after Timor-Leste's accession on
#: 2025-10-26); ``python -m analysis build --as-of YYYY-MM-DD`` overrides it for one build, and the
#: store manifest records the date used, so changing it rebuilds.
AS_OF = date(2026, 7, 1)

#: latest-value window (years up to the newest year of the indicator) when the catalogue sets none
DEFAULT_WINDOW = 10
#: how far a value may sit from a wanted year ("nearest year within ± tolerance") by default
DEFAULT_TOLERANCE = 2
#: a group statistic is shown only when at least this share of the members report
MIN_COVERAGE = 0.5
#: the groups whose aggregates the build stores
AGGREGATE_GROUPS = ("ASEAN", "ASEAN10", "ASEAN+3")
#: the indicator whose values weight the population-weighted mean
WEIGHT_INDICATOR = "pop_total"
#: the store's ``flag`` value of rows kept for the record but left out of latest values, aggregates
#: and charts (the build says why in ``flag_reason``)
SUSPECT_FLAG = "suspect"
#: first year of the coverage summary of ``python -m analysis info``
FOCUS_SINCE = 2015
#: charts draw a latest value faded (and name it in the footer) when it is more than this many years
#: older than the newest value of the same chart: a 2014 value beside 2023 values is not a like-for-like
#: comparison
OLD_VALUE_YEARS = 5


def parse_as_of(text: str) -> date:
    """An ``--as-of`` value as a date; ValueError names the expected form."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--as-of must be a date as YYYY-MM-DD, got {text!r}") from None
