"""rules.membership.members: a date is always required, and membership follows accession dates.

All tables here are synthetic (QA./QP. codes are not countries).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analysis.rules import membership


def synthetic_members_table() -> pd.DataFrame:
    """A references-like table: three ASEAN-like members joining on different days, one Plus Three."""
    return pd.DataFrame({
        "iso3": ["QAA", "QAB", "QAC", "QPA"],
        "name": ["Synthetic A", "Synthetic B", "Synthetic C", "Synthetic P"],
        "grouping": ["ASEAN", "ASEAN", "ASEAN", "Plus Three"],
        "joined": ["1967-08-08", "1999-04-30", "2030-01-15", pd.NA],
    }).astype("string")


def test_members_without_on_is_refused():
    with pytest.raises(TypeError):
        membership.members("ASEAN", countries=synthetic_members_table())  # type: ignore[call-arg]


def test_members_with_on_none_is_refused_not_today():
    with pytest.raises(ValueError, match="`on` is required"):
        membership.members("ASEAN", on=None, countries=synthetic_members_table())  # type: ignore[arg-type]


def test_members_follow_accession_dates():
    table = synthetic_members_table()
    assert membership.members("ASEAN", on="1999-04-29", countries=table) == ["QAA"]
    assert membership.members("ASEAN", on=date(1999, 4, 30), countries=table) == ["QAA", "QAB"]
    assert membership.members("ASEAN", on="2030-01-14", countries=table) == ["QAA", "QAB"]
    assert membership.members("ASEAN", on="2030-01-15", countries=table) == ["QAA", "QAB", "QAC"]
    assert membership.members("ASEAN", on="1967-08-07", countries=table) == []


def test_plus_three_and_focus_do_not_depend_on_the_date():
    table = synthetic_members_table()
    assert membership.members("ASEAN+3", on="1999-04-30", countries=table) == ["QAA", "QAB", "QPA"]
    assert membership.members("PLUS_THREE", on="1900-01-01", countries=table) == ["QPA"]
    assert membership.members("FOCUS", on="1900-01-01", countries=table) == ["QAA", "QAB", "QAC", "QPA"]


def test_malformed_date_is_an_error():
    with pytest.raises(ValueError, match="ISO date"):
        membership.members("ASEAN", on="not a date", countries=synthetic_members_table())
