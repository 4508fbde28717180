"""The public API (analysis.store.api) on a store BUILT from the synthetic project of conftest.py,
and its reading of the real catalogue.

The rules the API applies (latest value, aggregates, bands, membership) are tested on their own in
tests/unit/test_rules_*.py; here the question is whether the API feeds them the right data and the
declared parameters (catalogue windows, the store's ``as_of``, the settings), and whether what it
computes on the fly agrees with what the build stored. The synthetic store is built as of the day
before the synthetic member BBB joins, so "as of the store" and "as of today" differ.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tomllib
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import analysis
from analysis.core import paths, settings
from analysis.core.errors import StoreError
from analysis.pipeline.build import build_store
from analysis.rules import membership
from analysis.rules.aggregates import aggregates_long
from analysis.store import api
from analysis.store import reader as store
from conftest import SYNTHETIC_CATALOGUE, WPP_AGES, make_synthetic_project

# ---------------------------------------------------------------- the synthetic store

#: BBB's accession in conftest.SYNTHETIC_MEMBERS; the store is built the day before
BBB_JOINS = date(1999, 4, 30)
STORE_AS_OF = BBB_JOINS - timedelta(days=1)
#: the synthetic catalogue with a one-year window for the UHC index (AAA reports 2000 and 2002, CCC 2001)
WINDOWED = "uhc_service_coverage"
CATALOGUE = SYNTHETIC_CATALOGUE.replace('code = "SH.UHC.SRVS.CV.XD"\n', 'code = "SH.UHC.SRVS.CV.XD"\nwindow = 1\n')


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The synthetic project, its store built as of STORE_AS_OF."""
    assert CATALOGUE != SYNTHETIC_CATALOGUE
    project = make_synthetic_project(tmp_path_factory.mktemp("api") / "project", catalogue=CATALOGUE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(paths.ROOT_ENV, str(project.root))
        report = build_store(progress=False, as_of=STORE_AS_OF)
    assert not report.skipped
    return project


@pytest.fixture
def sdir(built, monkeypatch) -> Path:
    """The built store's directory, with the synthetic project as the current project root."""
    monkeypatch.setenv(paths.ROOT_ENV, str(built.root))
    return built.processed_dir


def copy_of(sdir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(sdir, target)
    return target


# ---------------------------------------------------------------- load, panel, latest, aggregate


def test_load_group_names_and_projections(sdir):
    got = api.load("pop_total_wpp", countries="FOCUS", processed_dir=sdir)
    assert set(got["iso3"]) == {"AAA", "CCC"} and set(got["iso3"]) <= set(api.members("FOCUS", processed_dir=sdir))
    assert list(got.columns[:3]) == ["iso3", "name", "year"]
    assert {"indicator_id", "value", "unit", "source_id", "vintage", "projection"} <= set(got.columns)
    names = store.read_table("countries", sdir).set_index("iso3")["name"]
    assert (got["name"] == got["iso3"].map(names)).all()
    assert got["projection"].any() and not got["projection"].all()
    est = api.load("pop_total_wpp", countries="FOCUS", include_projections=False, processed_dir=sdir)
    assert not est["projection"].any() and len(est) == (~got["projection"]).sum()


def test_load_mixed_codes_and_groups_and_years(sdir):
    got = api.load(["pop_total"], countries=["DDD", "PLUS_THREE"], years=(2000, 2001), names=False,
                   processed_dir=sdir)
    assert set(got["iso3"]) == {"DDD", "CCC"}
    assert set(got["year"]) == {2000, 2001} and "name" not in got.columns


def test_load_world_bank_group(sdir):
    got = api.load("pop_total", countries="region:Sub-Saharan Africa", years=2000, processed_dir=sdir)
    assert got["iso3"].tolist() == ["DDD"]


def test_unknown_indicator_or_country_is_an_error_not_a_gap(sdir):
    with pytest.raises(ValueError, match="not in the store: nope"):
        api.load("nope", processed_dir=sdir)
    with pytest.raises(ValueError, match="unknown country code"):
        api.load("pop_total", countries=["AAA", "XXX"], processed_dir=sdir)


def test_panel_shows_gaps(sdir):
    wide = api.panel(["pop_total", WINDOWED], countries="FOCUS", years=(2000, 2002), processed_dir=sdir)
    focus = api.members("FOCUS", processed_dir=sdir)
    assert list(wide.columns) == ["pop_total", WINDOWED]
    assert wide.index.names == ["iso3", "year"] and len(wide) == len(focus) * 3
    # EEE (a member without any data) and BBB (no UHC index) stay in the panel as NaN cells.
    assert wide.loc["EEE"].isna().all().all()
    assert wide.loc["BBB", WINDOWED].isna().all() and wide.loc["BBB", "pop_total"].notna().all()
    data = store.read_indicators(WINDOWED, processed_dir=sdir)
    for iso in focus:
        assert wide.loc[iso, WINDOWED].notna().sum() == (data["iso3"] == iso).sum()


def test_latest_api_matches_the_stored_table(sdir):
    stored = store.read_table("latest", sdir)
    # The stored table covers the economies with data; the API keeps every country asked for.
    reporting = [i for i in api.members("FOCUS", processed_dir=sdir) if i in set(stored["iso3"])]
    got = api.latest(countries=reporting, processed_dir=sdir)
    expected = stored.loc[stored["iso3"].isin(reporting)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got.drop(columns="name").reset_index(drop=True), expected)
    assert got["value"].isna().any()  # the synthetic gaps are shown


def test_latest_keeps_countries_without_any_data(sdir):
    got = api.latest(["pop_total", WINDOWED], countries="FOCUS", processed_dir=sdir)
    assert set(got["iso3"]) == set(api.members("FOCUS", processed_dir=sdir))
    silent = got.loc[got["iso3"] == "EEE"]
    assert len(silent) == 2 and silent["value"].isna().all() and silent["year"].isna().all()


def test_latest_is_the_same_frame_and_made_once_whatever_order_the_countries_are_named_in(sdir, monkeypatch):
    ids = ["pop_total", WINDOWED]
    made = api._latest_frame(ids, ["AAA", "CCC", "EEE"], {i: api.window_of(i) for i in ids}, None, False, sdir)
    computed = []
    real = api._latest_frame
    monkeypatch.setattr(api, "_latest_frame", lambda *a: computed.append(a[1]) or real(*a))
    api._latest_cached.cache_clear()
    for order in (["EEE", "AAA", "CCC"], ["CCC", "EEE", "AAA"], ["AAA", "CCC", "EEE"]):
        pd.testing.assert_frame_equal(api.latest(ids, countries=order, processed_dir=sdir), made)
    assert computed == [["AAA", "CCC", "EEE"]]


def test_latest_default_window_is_the_catalogue_window(sdir):
    assert api.window_of(WINDOWED) == 1 and api.window_of("pop_total") == settings.DEFAULT_WINDOW
    by_catalogue = api.latest(WINDOWED, countries=["AAA", "CCC"], processed_dir=sdir).set_index("iso3")
    assert by_catalogue.loc["AAA", "year"] == 2002 and pd.isna(by_catalogue.loc["CCC", "year"])
    wider = api.latest(WINDOWED, countries=["AAA", "CCC"], window=2, processed_dir=sdir).set_index("iso3")
    assert wider.loc["CCC", "year"] == 2001


def test_aggregate_api_matches_the_stored_table(sdir):
    ids = sorted(api.indicator_ids(sdir))
    stored = aggregates_long(store.read_table("aggregates", sdir), "both")
    for group in settings.AGGREGATE_GROUPS:
        got = api.aggregate(ids, group=group, stat="both", processed_dir=sdir)
        expected = stored.loc[stored["group"] == group]
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))


def test_aggregate_weighted_mean_by_hand(sdir):
    got = api.aggregate("pop_65plus_share", group="ASEAN10", years=2000, stat="weighted_mean", min_coverage=0.2,
                        processed_dir=sdir)
    group = api.members("ASEAN10", processed_dir=sdir)
    data = store.read_indicators(["pop_65plus_share", settings.WEIGHT_INDICATOR], group, 2000, processed_dir=sdir)
    wide = data.pivot(index="iso3", columns="indicator_id", values="value").dropna()
    weights = wide[settings.WEIGHT_INDICATOR]
    assert len(wide) == got["n"].iloc[0] == 2  # AAA and BBB report; the other members have no data
    assert got["value"].iloc[0] == pytest.approx((wide["pop_65plus_share"] * weights).sum() / weights.sum())
    below = api.aggregate("pop_65plus_share", group="ASEAN10", years=2000, stat="weighted_mean", processed_dir=sdir)
    assert below["value"].isna().all() and not below["coverage_ok"].any()  # 2 of 10 < settings.MIN_COVERAGE


def test_countries_and_names(sdir):
    table = api.countries(processed_dir=sdir)
    assert table["iso3"].is_unique
    joined = api.countries("ASEAN", on=BBB_JOINS, processed_dir=sdir)
    assert sorted(joined["iso3"]) == api.members("ASEAN", on=BBB_JOINS, processed_dir=sdir)
    assert "BBB" in set(joined["iso3"])
    assert api.country_names(["DDD", "NOPE"], processed_dir=sdir) == {"DDD": "Otherland", "NOPE": "NOPE"}


def test_age_structure_filters_countries_and_years(sdir):
    got = api.age_structure("PLUS_THREE", years=2050, processed_dir=sdir)
    assert set(got["iso3"]) == {"CCC"} and set(got["year"]) == {2050} and got["projection"].all()
    assert set(got["indicator_id"]) == {f"pop_age_{age}" for age in WPP_AGES}


# ---------------------------------------------------------------- the membership date


def test_members_default_to_the_store_as_of_not_today(sdir):
    assert api.as_of(sdir) == STORE_AS_OF
    table = store.read_table("countries", sdir)
    default = api.members("ASEAN", processed_dir=sdir)
    assert default == membership.members("ASEAN", on=STORE_AS_OF, countries=table) and "BBB" not in default
    assert "BBB" in membership.members("ASEAN", on=date.today(), countries=table)
    assert api.members("ASEAN", on=BBB_JOINS, processed_dir=sdir) == sorted(default + ["BBB"])


def test_members_without_a_recorded_as_of_use_the_pinned_setting(sdir, tmp_path, monkeypatch):
    directory = copy_of(sdir, tmp_path)
    manifest = json.loads((directory / store.MANIFEST).read_text(encoding="utf-8"))
    manifest.pop("as_of")
    (directory / store.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr(settings, "AS_OF", STORE_AS_OF)
    assert "BBB" not in api.members("ASEAN", processed_dir=directory)
    monkeypatch.setattr(settings, "AS_OF", BBB_JOINS)
    assert api.as_of(directory) == BBB_JOINS and "BBB" in api.members("ASEAN", processed_dir=directory)


def test_aggregate_composition_defaults_to_the_store_as_of(sdir):
    got = api.aggregate("pop_65plus_share", group="ASEAN", processed_dir=sdir)
    assert set(got["composition"]) == {",".join(api.members("ASEAN", processed_dir=sdir))}
    later = api.aggregate("pop_65plus_share", group="ASEAN", on=BBB_JOINS, processed_dir=sdir)
    assert set(later["N"]) == {got["N"].iloc[0] + 1} and "BBB" in later["composition"].iloc[0].split(",")


def test_store_fingerprint_follows_the_manifest(sdir, tmp_path):
    directory = copy_of(sdir, tmp_path)
    first = api.store_fingerprint(directory)
    assert first == api.store_fingerprint(sdir)
    manifest = json.loads((directory / store.MANIFEST).read_text(encoding="utf-8"))
    (directory / store.MANIFEST).write_text(json.dumps(manifest | {"as_of": BBB_JOINS.isoformat()}), encoding="utf-8")
    assert api.store_fingerprint(directory) != first
    with pytest.raises(StoreError, match="not been built"):
        api.store_fingerprint(tmp_path / "empty")


# ---------------------------------------------------------------- the catalogue, read independently


def toml_catalogue() -> dict:
    return tomllib.loads(paths.catalogue_file().read_text(encoding="utf-8"))


def test_catalogue_matches_the_toml_file():
    entries = toml_catalogue()["indicator"]
    frame = api.catalogue()
    assert frame["indicator_id"].tolist() == [e["id"] for e in entries]
    for column in ("title", "unit", "group", "domain", "better"):
        assert frame[column].tolist() == [e[column] for e in entries], column


def test_catalogue_facts_fall_back_to_the_settings():
    for entry in toml_catalogue()["indicator"]:
        i = entry["id"]
        assert api.window_of(i) == entry.get("window", settings.DEFAULT_WINDOW), i
        assert api.tolerance_of(i) == entry.get("tolerance", settings.DEFAULT_TOLERANCE), i
        assert api.direction_of(i) == entry["better"], i
        assert api.min_difference_of(i) == entry.get("min_difference", 0.0), i


def test_headline_and_profile_lists_follow_the_toml():
    entries = toml_catalogue()["indicator"]
    assert api.headline_indicators() == [e["id"] for e in entries if e.get("headline")]
    assert api.profile_indicators() == [e["id"] for e in entries if e.get("profile")]


def test_catalogue_gaps_lists_every_recorded_gap():
    expected = toml_catalogue().get("gap", [])
    gaps = api.catalogue_gaps()
    assert len(gaps) == len(expected) > 0
    assert list(gaps.columns) == ["group", "domain", "reason"]
    assert set(zip(gaps["group"], gaps["domain"])) == {(g["group"], g["domain"]) for g in expected}


def test_sources_lists_the_registry_datasets():
    doc = tomllib.loads(paths.sources_file().read_text(encoding="utf-8"))
    got = api.sources()
    assert list(got["id"]) == [d["id"] for d in doc["dataset"]]
    per_dataset = pd.Series([f["dataset"] for f in doc["file"]]).value_counts()
    assert got["files"].tolist() == [int(per_dataset.get(i, 0)) for i in got["id"]]


# ---------------------------------------------------------------- the package


def test_project_root_environment_is_honoured(sdir, built):
    got = api.load("pop_total", countries="DDD", years=2000)  # no processed_dir: the project root decides
    with open(built.raw_path("wdi/sp.pop.totl"), encoding="utf-8", newline="") as fh:
        raw = next(r for r in csv.DictReader(fh) if r["Country Code"] == "DDD" and r["Year"] == "2000")
    assert got["value"].tolist() == [float(raw["Value"])]
    assert api.as_of() == STORE_AS_OF


def test_package_reexports_the_public_api(sdir):
    assert analysis.load is api.load and analysis.latest is api.latest and analysis.aggregate is api.aggregate
    assert analysis.members is api.members and analysis.as_of is api.as_of
    assert analysis.members("PLUS_THREE", processed_dir=sdir) == ["CCC"]
    public = {"load", "panel", "latest", "aggregate", "catalogue", "sources", "countries", "members", "as_of"}
    assert public <= set(dir(analysis))
    with pytest.raises(AttributeError):
        analysis.not_a_function  # noqa: B018


def test_package_level_catalogue_stays_the_api_function_after_importing_the_catalogue_module():
    # The API function analysis.catalogue must not be shadowed by a submodule of the same name.
    import importlib

    importlib.import_module("analysis.config.catalogue")
    assert analysis.catalogue is api.catalogue
    assert len(analysis.catalogue()) == len(toml_catalogue()["indicator"])


def test_aggregate_results_follow_the_store_and_a_caller_cannot_change_them(sdir, tmp_path):
    directory = copy_of(sdir, tmp_path)
    first = api.aggregate("pop_65plus_share", group="ASEAN10", stat="both", min_coverage=0.2, processed_dir=directory)
    expected = first.copy()
    first.loc[:, "value"] = -1.0  # the caller's copy only
    pd.testing.assert_frame_equal(api.aggregate("pop_65plus_share", group="ASEAN10", stat="both", min_coverage=0.2,
                                                processed_dir=directory), expected)
    # A list of two years is those years; a tuple is the range between them.
    listed = api.aggregate("pop_65plus_share", group="ASEAN10", years=[2000, 2002], processed_dir=directory)
    ranged = api.aggregate("pop_65plus_share", group="ASEAN10", years=(2000, 2002), processed_dir=directory)
    assert set(listed["year"]) == {2000, 2002} and set(ranged["year"]) == {2000, 2001, 2002}
    # A rebuilt indicators file (another version) is read again.
    path = store.table_path(store.INDICATORS, directory)
    table = pq.read_table(path)
    doubled = pc.if_else(pc.equal(table["indicator_id"], "pop_65plus_share"), pc.multiply(table["value"], 2.0),
                         table["value"])
    pq.write_table(table.set_column(table.schema.get_field_index("value"), "value", doubled), path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = api.aggregate("pop_65plus_share", group="ASEAN10", stat="both", min_coverage=0.2, processed_dir=directory)
    assert (again["value"].dropna() == 2 * expected["value"].dropna()).all() and expected["value"].notna().any()


# ---------------------------------------------------------------- stored latest values and aggregates


@pytest.fixture
def computed(monkeypatch):
    """A function to call an API function with the stored rule tables ignored: the results computed from the
    indicators table, as without a build's tables."""

    def call(function, *args, **kwargs):
        with monkeypatch.context() as mp:
            mp.setattr(store, "rule_table_version", lambda *a, **k: None)
            api._latest_cached.cache_clear()
            api._aggregate_cached.cache_clear()
            return function(*args, **kwargs)

    yield call
    api._latest_cached.cache_clear()
    api._aggregate_cached.cache_clear()


def stored_only(monkeypatch):
    """Make computing latest values and aggregates an error: what follows must read the stored tables."""
    api._latest_cached.cache_clear()
    api._aggregate_cached.cache_clear()

    def refuse(*args, **kwargs):
        raise AssertionError("computed although the stored table answers")

    monkeypatch.setattr(api, "compute_latest", refuse)
    monkeypatch.setattr(api.agg_rules, "compute_aggregates", refuse)


def counted(mp: pytest.MonkeyPatch, owner, name: str) -> list[int]:
    """The calls of ``owner.name`` (still called) from here on, one item each."""
    calls, real = [], getattr(owner, name)

    def wrapper(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    mp.setattr(owner, name, wrapper)
    return calls


LATEST_COUNTRIES = ["FOCUS", "ASEAN", "ASEAN+3", "PLUS_THREE", None, ["ccc", "AAA"], ["DDD"]]


@pytest.mark.parametrize("countries", LATEST_COUNTRIES)
def test_stored_latest_values_are_the_computed_ones(sdir, computed, monkeypatch, countries):
    current = sorted(store.current_indicator_ids(sdir))
    # EEE (a member without any data) is not in the stored table; a group with it is computed.
    reporting = set(store.read_table("latest", sdir)["iso3"])
    asked = api.resolve_countries(countries, processed_dir=sdir)
    expected = {ids: computed(api.latest, list(ids), countries, processed_dir=sdir)
                for ids in [(i,) for i in current] + [tuple(current)]}
    expected[None] = computed(api.latest, None, countries, processed_dir=sdir)
    if asked is None or set(asked) <= reporting:
        stored_only(monkeypatch)
    for ids, frame in expected.items():
        got = api.latest(None if ids is None else list(ids), countries, processed_dir=sdir)
        pd.testing.assert_frame_equal(got, frame, check_dtype=True)


def test_stored_latest_answers_only_the_build_question(sdir, computed, monkeypatch):
    ids = ["pop_total", WINDOWED]
    for kwargs in ({"window": 3}, {"ref_year": 2001}, {"include_projections": True}):
        expected = computed(api.latest, ids, "FOCUS", **kwargs, processed_dir=sdir)
        api._latest_cached.cache_clear()
        with monkeypatch.context() as mp:
            calls = counted(mp, api, "compute_latest")
            pd.testing.assert_frame_equal(api.latest(ids, "FOCUS", **kwargs, processed_dir=sdir), expected)
        assert calls == [1]


def test_a_series_that_is_not_current_is_computed_not_read_from_the_stored_tables(sdir, computed, monkeypatch):
    # The build reads current rows only; a named series that is not current (an older vintage) reads all its rows.
    older = "pop_65plus_share"
    monkeypatch.setattr(store, "current_indicator_ids", lambda *a, **k: store.indicator_ids(sdir) - {older})
    expected = (computed(api.latest, older, "FOCUS", processed_dir=sdir),
                computed(api.aggregate, older, "ASEAN+3", processed_dir=sdir))
    stored_only(monkeypatch)
    with pytest.raises(AssertionError, match="computed although"):
        api.latest(older, "FOCUS", processed_dir=sdir)
    with pytest.raises(AssertionError, match="computed although"):
        api.aggregate(older, "ASEAN+3", processed_dir=sdir)
    assert all(len(frame) for frame in expected)


@pytest.mark.parametrize("stat", ["median", "weighted_mean", "both"])
def test_stored_aggregates_are_the_computed_ones(sdir, computed, monkeypatch, stat):
    current = sorted(store.current_indicator_ids(sdir))
    cases = [(ids, group, years) for group in settings.AGGREGATE_GROUPS
             for ids, years in [*[([i], None) for i in current], *[(current, y) for y in (None, (2000, 2001), [2002])]]]
    expected = [computed(api.aggregate, ids, group=group, years=years, stat=stat, processed_dir=sdir)
                for ids, group, years in cases]
    stored_only(monkeypatch)
    for (ids, group, years), frame in zip(cases, expected):
        pd.testing.assert_frame_equal(api.aggregate(ids, group=group, years=years, stat=stat, processed_dir=sdir),
                                      frame, check_dtype=True)


def test_aggregates_the_build_did_not_store_are_computed(sdir, computed, monkeypatch):
    ids = ["pop_65plus_share"]
    for kwargs in ({"group": "FOCUS"}, {"min_coverage": 0.2}, {"on": BBB_JOINS}):
        expected = computed(api.aggregate, ids, stat="both", processed_dir=sdir, **kwargs)
        api._aggregate_cached.cache_clear()
        with monkeypatch.context() as mp:
            calls = counted(mp, api.agg_rules, "compute_aggregates")
            pd.testing.assert_frame_equal(api.aggregate(ids, stat="both", processed_dir=sdir, **kwargs), expected)
        assert calls == [1] and len(expected)
    # Joining the day after the build's as_of, BBB is in ASEAN's composition on that day only.
    assert "BBB" in computed(api.aggregate, ids, stat="both", on=BBB_JOINS, processed_dir=sdir)["composition"][0]
    assert "BBB" not in api.aggregate(ids, stat="both", processed_dir=sdir)["composition"][0]


def rewrite_rule_table(directory: Path, name: str, change, *, record: bool) -> None:
    """Write ``name`` changed by ``change`` (a frame -> frame function), as a rebuild would when ``record``
    (the manifest then records its new sha256), else behind the manifest's back."""
    from analysis.core.fingerprint import file_sha256
    from analysis.pipeline.build import write_table

    path = store.table_path(name, directory)
    before = path.stat().st_mtime_ns
    write_table(name, change(store.read_table(name, directory)), path)
    os.utime(path, ns=(before + 10**9, before + 10**9))
    if record:
        manifest_path = directory / store.MANIFEST
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["outputs"][name]["sha256"] = file_sha256(path)
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


def test_a_rebuilt_latest_table_is_read_and_one_written_after_the_build_is_not(sdir, tmp_path, computed):
    directory = copy_of(sdir, tmp_path)
    ids = ["pop_total", WINDOWED]
    first = api.latest(ids, ["AAA", "CCC"], processed_dir=directory)
    assert first["value"].notna().any()

    def doubled(frame):
        return frame.assign(value=frame["value"] * 2)

    rewrite_rule_table(directory, "latest", doubled, record=True)
    api._latest_cached.cache_clear()  # the indicators file did not change: the cached result would stay
    again = api.latest(ids, ["AAA", "CCC"], processed_dir=directory)
    pd.testing.assert_series_equal(again["value"], first["value"] * 2)
    rewrite_rule_table(directory, "latest", doubled, record=False)
    api._latest_cached.cache_clear()
    pd.testing.assert_frame_equal(api.latest(ids, ["AAA", "CCC"], processed_dir=directory), first)


def test_a_rebuilt_aggregates_table_is_read_and_one_written_after_the_build_is_not(sdir, tmp_path):
    directory = copy_of(sdir, tmp_path)
    first = api.aggregate("pop_total", group="ASEAN+3", stat="median", processed_dir=directory)
    assert len(first)

    def one_more(frame):  # no synthetic group reaches the coverage for a value: the counts show the change
        return frame.assign(n=frame["n"] + 1)

    rewrite_rule_table(directory, "aggregates", one_more, record=True)
    api._aggregate_cached.cache_clear()
    again = api.aggregate("pop_total", group="ASEAN+3", stat="median", processed_dir=directory)
    pd.testing.assert_series_equal(again["n"], first["n"] + 1)
    rewrite_rule_table(directory, "aggregates", one_more, record=False)
    api._aggregate_cached.cache_clear()
    pd.testing.assert_frame_equal(api.aggregate("pop_total", group="ASEAN+3", stat="median",
                                                processed_dir=directory), first)
