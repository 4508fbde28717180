"""The membership date (``as_of``) of a build: it decides the stored ASEAN composition, the manifest
records it, a new date rebuilds, and the API's default membership follows the store, never today.

Builds the REAL store twice into a temporary directory: the day before the latest accession in the
references table and that day itself (read from the table, so no country code or date is typed here).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from analysis.config.references import load_members
from analysis.pipeline.build import build_store
from analysis.rules import membership
from analysis.store import api

pytestmark = pytest.mark.integration


def latest_accession() -> tuple[date, set[str]]:
    """The most recent ASEAN accession day and who joined on it, from the references table."""
    members = load_members()
    asean = members.loc[members["grouping"] == "ASEAN"]
    joined = pd.to_datetime(asean["joined"]).dt.date
    day = joined.max()
    return day, set(asean.loc[(joined == day).to_numpy(), "iso3"].astype(str))


def asean_composition(processed_dir: Path, group: str = "ASEAN") -> set[str]:
    aggregates = pd.read_parquet(processed_dir / "aggregates.parquet", columns=["group", "composition"])
    compositions = set(aggregates.loc[aggregates["group"] == group, "composition"])
    assert len(compositions) == 1, compositions  # one fixed composition for every indicator and year
    return set(compositions.pop().split(","))


def manifest_as_of(processed_dir: Path) -> str:
    return json.loads((processed_dir / "manifest.json").read_text(encoding="utf-8"))["as_of"]


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    """The store built the day before the latest accession, then rebuilt in place on that day."""
    day, joiners = latest_accession()
    out = tmp_path_factory.mktemp("as_of_store")
    before_day = day - timedelta(days=1)
    first = build_store(force=True, progress=False, processed_dir=out, as_of=before_day)
    before = {"report": first, "asean": asean_composition(out), "asean10": asean_composition(out, "ASEAN10"),
              "as_of": manifest_as_of(out), "api_members": api.members("ASEAN", processed_dir=out),
              "api_as_of": api.as_of(out), "countries": pd.read_parquet(out / "countries.parquet")}
    second = build_store(progress=False, processed_dir=out, as_of=day)
    after = {"report": second, "asean": asean_composition(out), "asean10": asean_composition(out, "ASEAN10"),
             "as_of": manifest_as_of(out), "api_members": api.members("ASEAN", processed_dir=out)}
    return {"day": day, "before_day": before_day, "joiners": joiners, "before": before, "after": after, "dir": out}


def test_the_later_date_adds_exactly_the_member_who_joined_that_day(two_builds):
    before, after = two_builds["before"]["asean"], two_builds["after"]["asean"]
    assert len(after) == len(before) + len(two_builds["joiners"])
    assert after - before == two_builds["joiners"] and before <= after


def test_a_fixed_group_does_not_depend_on_the_date(two_builds):
    assert two_builds["before"]["asean10"] == two_builds["after"]["asean10"]


def test_the_manifest_records_the_date(two_builds):
    assert two_builds["before"]["as_of"] == two_builds["before_day"].isoformat()
    assert two_builds["after"]["as_of"] == two_builds["day"].isoformat()


def test_rebuilding_with_another_date_is_not_skipped(two_builds):
    assert not two_builds["before"]["report"].skipped
    assert not two_builds["after"]["report"].skipped
    # ... while the same date again is
    assert build_store(progress=False, processed_dir=two_builds["dir"], as_of=two_builds["day"]).skipped


def test_api_members_default_to_the_store_as_of(two_builds):
    before = two_builds["before"]
    assert before["api_as_of"] == two_builds["before_day"]
    expected = membership.members("ASEAN", on=two_builds["before_day"], countries=before["countries"])
    assert before["api_members"] == expected
    assert not two_builds["joiners"] & set(before["api_members"])
    assert set(before["api_members"]) == before["asean"]
    assert set(two_builds["after"]["api_members"]) == two_builds["after"]["asean"]
