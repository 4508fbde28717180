"""Key messages: the selection rules (analysis.rules.messages) on small SYNTHETIC frames, and the
templates (analysis.store.messages) on a SYNTHETIC store served through the API's functions.

The synthetic store is made up here (fictitious codes AAA..DDD for four "ASEAN" members and JJJ for a
comparator, invented numbers); the API functions the templates call are replaced by ones reading it, so
the tests check the templates' wording and that every number in a sentence follows the data.
"""

from __future__ import annotations

import itertools
import re

import pandas as pd
import pytest

from analysis.core.errors import StoreError
from analysis.rules import messages as rules
from analysis.rules.bands import band
from analysis.rules.latest import compute_latest
from analysis.store import api
from analysis.store import messages as msgs

# ------------------------------------------------------------------------------------ rules


def test_year_phrase_one_year_and_mixed_years():
    assert rules.year_phrase([2023, 2023]) == "2023"
    assert rules.year_phrase([2023, 2023, 2019, 2021]) == "2023 for 2, 2019–2021 for 2"
    assert rules.year_phrase([2020, 2018]) == "2020 for 1, 2018 for 1"
    assert rules.coverage_phrase([2023, 2022], 11, "members") == "2 of 11 members, 2023 for 1, 2022 for 1"


def test_numbers_and_units():
    assert rules.format_number(1234.56) == "1,235"
    assert rules.format_number(12.345) == "12.3"
    assert rules.with_unit(40.0, "per 1,000 live births") == "40.0 per 1,000 live births"
    assert rules.with_unit(61.0, "index (0-100)") == "61.0 on an index of 0-100"


def test_neutral_extremes_carry_no_judgement():
    assert rules.extreme_words("neutral", True) == "highest"
    assert rules.extreme_words(None, False) == "lowest"
    assert rules.extreme_words("lower", True) == "highest (the worst)"
    assert rules.extreme_words("higher", True) == "highest (the best)"


def _latest(values: dict[str, float], years: dict[str, int] | None = None) -> pd.DataFrame:
    years = years or {}
    return pd.DataFrame({"iso3": list(values), "value": list(values.values()),
                         "year": pd.array([years.get(k, 2020) for k in values], dtype="Int64")})


def test_gap_to_median_picks_the_furthest_member_and_follows_the_data():
    members = ["AAA", "BBB", "CCC", "DDD"]
    gap = rules.gap_to_median(_latest({"AAA": 10, "BBB": 12, "CCC": 14, "DDD": 40, "JJJ": 99}), members)
    assert (gap["iso3"], gap["median"], gap["n"], gap["N"]) == ("DDD", 13.0, 4, 4)
    moved = rules.gap_to_median(_latest({"AAA": -30, "BBB": 12, "CCC": 14, "DDD": 15}), members)
    assert moved["iso3"] == "AAA" and moved["gap"] < 0
    assert rules.gap_to_median(_latest({"AAA": 1.0}), members) is None


def test_stale_or_missing_counts_old_and_absent_members():
    newest = _latest({"AAA": 1, "BBB": 2}, {"AAA": 2012, "BBB": 2021})
    out = rules.stale_or_missing(newest, ["AAA", "BBB", "CCC"], first_year=2014)
    assert out["iso3"].tolist() == ["AAA", "CCC"]
    assert out["year"].iloc[0] == 2012 and pd.isna(out["year"].iloc[1])


def test_paired_gap_never_crosses_years_or_sources():
    a = pd.DataFrame({"iso3": ["AAA", "AAA", "BBB"], "year": [2019, 2021, 2020], "value": [50.0, 60.0, 30.0],
                      "source_id": ["s", "s", "s"], "vintage": ["v", "v", "v"]})
    b = pd.DataFrame({"iso3": ["AAA", "AAA", "BBB"], "year": [2019, 2020, 2020], "value": [70.0, 75.0, 31.0],
                      "source_id": ["s", "s", "other"], "vintage": ["v", "v", "v"]})
    out = rules.paired_gap(a, b, ["AAA", "BBB"])
    assert out["iso3"].tolist() == ["AAA"]  # BBB's pair comes from two sources
    assert (int(out["year"].iloc[0]), float(out["gap"].iloc[0])) == (2019, -20.0)  # 2021 has no partner


def test_largest_change_follows_the_direction():
    changes = pd.DataFrame({"iso3": ["AAA", "BBB", "CCC"], "change": [-5.0, 3.0, float("nan")]})
    assert rules.largest_change(changes, "higher")["iso3"] == "BBB"
    assert rules.largest_change(changes, "lower")["iso3"] == "AAA"
    assert rules.largest_change(changes, "neutral")["iso3"] == "AAA"


def test_judged_distance_is_nan_for_neutral_and_signed_by_direction():
    assert pd.isna(rules.judged_distance(30.0, 10.0, 2.0, 0.0, "neutral"))
    assert rules.judged_distance(30.0, 10.0, 2.0, 0.0, "higher") > 0
    assert rules.judged_distance(30.0, 10.0, 2.0, 0.0, "lower") < 0
    assert rules.judged_distance(11.0, 10.0, 2.0, 0.0, "higher") == 0.0
    assert rules.judged_distance(13.0, 10.0, 2.0, 5.0, "higher") == 0.0  # inside the smallest difference


# ------------------------------------------------------------------------------------ a synthetic store

MEMBERS = ["AAA", "BBB", "CCC", "DDD"]
NAMES = {"AAA": "Synthetia", "BBB": "Fakeland", "CCC": "Mockistan", "DDD": "Pretendia", "JJJ": "Comparia"}
CATALOGUE = pd.DataFrame([
    # id, title, unit, group, domain, better, headline, profile
    ("pop_65plus_share", "Synthetic share 65+", "% of population", "older_persons", "poverty_and_context",
     "neutral", True, True),
    ("pop_65plus_share_wpp", "Synthetic share 65+ (projection)", "% of population", "older_persons",
     "poverty_and_context", "neutral", False, False),
    ("sp_cov_pension", "Synthetic pension coverage", "% of older persons", "older_persons", "social_protection",
     "higher", True, True),
    ("sp_cov_pension_female", "Synthetic pension coverage, women", "% of older women", "older_persons",
     "social_protection", "higher", False, False),
    ("sp_cov_pension_male", "Synthetic pension coverage, men", "% of older men", "older_persons",
     "social_protection", "higher", False, False),
    ("under5_mortality", "Synthetic child mortality", "per 1,000 live births", "children", "health", "lower",
     True, True),
    ("sp_cov_disability", "Synthetic disability benefit coverage", "% of persons with severe disabilities",
     "persons_with_disabilities", "social_protection", "higher", True, False),
    ("emp_ratio_disability", "Synthetic employment, with a disability", "% with a disability",
     "persons_with_disabilities", "poverty_and_context", "higher", False, True),
    ("emp_ratio_no_disability", "Synthetic employment, without a disability", "% without a disability",
     "persons_with_disabilities", "poverty_and_context", "higher", False, False),
], columns=["indicator_id", "title", "unit", "group", "domain", "better", "headline", "profile"])
CATALOGUE = CATALOGUE.assign(concept=CATALOGUE["indicator_id"], window=10, tolerance=2, min_difference=0.0)
MEETINGS = pd.DataFrame({"meeting_no": [1, 2, 3], "year": [2010, 2015, 2015],
                         "year_basis": ["stated", "stated", "inferred"],
                         "theme": ["Synthetic theme A", "Synthetic theme B", "Synthetic theme C"],
                         "focus_groups": [("older_persons", "children"), ("older_persons", "children"), ("children",)]})


def _rows(ind: str, values: dict[str, dict[int, float]], projection: bool = False) -> list[dict]:
    return [{"iso3": iso, "year": y, "indicator_id": ind, "value": v, "unit": "u", "source_id": "syn",
             "vintage": "v1", "projection": projection} for iso, by_year in values.items() for y, v in by_year.items()]


def synthetic_store() -> pd.DataFrame:
    """Made-up values: four members age at different speeds, pensions, child mortality, disability."""
    rows = []
    speeds = {"AAA": 0.7, "BBB": 0.35, "CCC": 0.2, "DDD": 0.5, "JJJ": 0.4}
    share = {iso: {y: 5.0 + s * (y - 2000) for y in range(2000, 2021)} for iso, s in speeds.items()}
    rows += _rows("pop_65plus_share", share)
    proj = {iso: {y: 5.0 + s * (y - 2000) for y in range(2021, 2101)} for iso, s in speeds.items()}
    rows += _rows("pop_65plus_share_wpp", proj, projection=True)
    rows += _rows("sp_cov_pension", {"AAA": {2010: 20.0, 2020: 30.0}, "BBB": {2010: 50.0, 2021: 70.0},
                                     "CCC": {2011: 40.0, 2019: 42.0}, "DDD": {2005: 10.0}, "JJJ": {2020: 95.0}})
    rows += _rows("sp_cov_pension_female", {"AAA": {2020: 25.0}, "BBB": {2021: 60.0}})
    rows += _rows("sp_cov_pension_male", {"AAA": {2020: 35.0}, "BBB": {2021: 80.0}})
    rows += _rows("under5_mortality", {"AAA": {2010: 60.0, 2020: 30.0}, "BBB": {2010: 20.0, 2020: 15.0},
                                       "CCC": {2010: 40.0, 2020: 38.0}, "DDD": {2010: 25.0, 2020: 20.0}})
    rows += _rows("sp_cov_disability", {"AAA": {2020: 5.0}, "BBB": {2020: 15.0}, "CCC": {2020: 25.0}})
    rows += _rows("emp_ratio_disability", {"AAA": {2019: 30.0}, "BBB": {2020: 40.0}, "CCC": {2020: 45.0}})
    rows += _rows("emp_ratio_no_disability", {"AAA": {2019: 70.0}, "BBB": {2020: 60.0}, "CCC": {2020: 44.0}})
    return pd.DataFrame(rows).astype({"year": "int16", "value": "float64"})


#: each synthetic store installed is a new store version, as a rebuild gives
VERSIONS = itertools.count()


class SyntheticAPI:
    """The API functions the templates call, answered from a synthetic long frame."""

    def __init__(self, data: pd.DataFrame):
        self.data = data
        self.cat = CATALOGUE.set_index("indicator_id")
        self.version = f"synthetic store {next(VERSIONS)}"

    def _countries(self, countries) -> list[str]:
        if countries in ("ASEAN", None):
            return MEMBERS
        return [countries] if isinstance(countries, str) else list(countries)

    def load(self, ids, countries=None, years=None, *, include_projections=True, names=True, processed_dir=None):
        ids = [ids] if isinstance(ids, str) else list(ids)
        d = self.data.loc[self.data["indicator_id"].isin(ids) & self.data["iso3"].isin(self._countries(countries))]
        if not include_projections:
            d = d.loc[~d["projection"]]
        return d.reset_index(drop=True)

    def latest(self, ids, countries="FOCUS", *, processed_dir=None, **_):
        d = self.data.loc[self.data["indicator_id"].isin(list(ids))]
        return compute_latest(d, window={i: 10 for i in ids}, iso3=self._countries(countries))

    def install(self, monkeypatch) -> None:
        fake = {
            "members": lambda group, **_: list(MEMBERS),
            "country_names": lambda iso3=None, **_: dict(NAMES),
            "catalogue": lambda: CATALOGUE.copy(),
            "indicator_ids": lambda processed_dir=None: frozenset(self.data["indicator_id"]),
            "direction_of": lambda i: str(self.cat.at[i, "better"]),
            "tolerance_of": lambda i: 2,
            "min_difference_of": lambda i: 0.0,
            "profile_indicators": lambda: [str(i) for i in self.cat.index[self.cat["profile"]]],
            "meetings": lambda: MEETINGS.copy(),
            "band": band,
            "load": self.load,
            "latest": self.latest,
            "store_fingerprint": lambda processed_dir=None: self.version,
        }
        for name, func in fake.items():
            monkeypatch.setattr(api, name, func)


@pytest.fixture
def store(monkeypatch):
    """Install the synthetic store; returns a function that swaps in changed data."""
    def use(data: pd.DataFrame) -> None:
        SyntheticAPI(data).install(monkeypatch)
    use(synthetic_store())
    return use


def _by_kind(messages, kind):
    return [m for m in messages if m.kind == kind]


JUDGEMENT = re.compile(r"\b(better|worse|best|worst|improvement|deterioration)\b", re.IGNORECASE)


def test_ageing_message_names_fastest_and_slowest_members(store):
    [ageing] = _by_kind(msgs.group_messages("older_persons"), "ageing")
    # AAA gains 0.7 point a year: 7 % -> 14 % in 10 years; CCC 0.2 a year: 35 years; JJJ is no member
    assert "fastest Synthetia, 10 years" in ageing.text and "slowest Mockistan, 35 years" in ageing.text
    assert "Comparia" not in ageing.text and "Computed for 4 of 4 ASEAN members;" in ageing.text
    assert ageing.countries == ("AAA", "CCC") and (ageing.n, ageing.N) == (4, 4)


def test_gap_message_follows_the_data(store):
    before = _by_kind(msgs.group_messages("children"), "gap")[0]
    # members 30, 15, 38 and 20: the median is 25 and Mockistan (38) the furthest from it
    assert "Mockistan has the highest (the worst) value" in before.text and "38.0 per 1,000 live births" in before.text
    assert "against an ASEAN median of 25.0" in before.text
    assert "4 of 4 ASEAN members, 2020" in before.text
    data = synthetic_store()
    data.loc[(data["iso3"] == "AAA") & (data["indicator_id"] == "under5_mortality") & (data["year"] == 2020),
             "value"] = 90.0
    store(data)
    after = _by_kind(msgs.group_messages("children"), "gap")[0]
    assert after.text != before.text and "Synthetia" in after.text and "90.0 per 1,000 live births" in after.text
    assert "against an ASEAN median of 29.0" in after.text


def test_neutral_indicators_get_no_better_or_worse_words(store):
    for message in msgs.group_messages("older_persons"):
        if message.indicator_ids and all(CATALOGUE.set_index("indicator_id").at[i, "better"] == "neutral"
                                         for i in message.indicator_ids):
            assert not JUDGEMENT.search(message.text), message.text
    for message in msgs.country_messages("AAA"):
        if message.kind in ("strength", "concern"):
            assert message.indicator_ids != ("pop_65plus_share",)


def test_change_messages_say_since_never_because(store):
    [change] = _by_kind(msgs.group_messages("children"), "change")
    # the newest themed meeting on children (2015) has no value within 2 years: the 2010 one is used
    assert change.text.startswith("Since the 2010 meeting on children (the 1st), synthetic child mortality fell in 4 ")
    assert "because" not in change.text.lower()
    assert "(4 of 4 ASEAN members with values around the meeting and later; from 2010 to 2020)" in change.text
    assert "the largest improvement: Synthetia, from 60.0 in 2010 to 30.0 per 1,000 live births in 2020" in change.text


def test_change_since_the_newest_meeting_with_data_prefers_the_stated_one(store):
    data = synthetic_store()
    extra = pd.DataFrame(_rows("under5_mortality", {iso: {2015: 50.0} for iso in MEMBERS})).astype(
        {"year": "int16", "value": "float64"})
    store(pd.concat([data, extra], ignore_index=True))
    [change] = _by_kind(msgs.group_messages("children"), "change")
    # two meetings on children in 2015: the one whose year is stated (the 2nd) wins over the inferred one
    assert change.text.startswith("Since the 2015 meeting on children (the 2nd)")
    assert "fell in 4 " in change.text and "from 2015 to 2020" in change.text


def test_missing_message_counts_members_without_recent_values(store):
    [missing] = _by_kind(msgs.group_messages("persons_with_disabilities"), "missing")
    assert "no value since 2011 for 1 of 4 ASEAN members" in missing.text and "Pretendia (none)" in missing.text
    [older] = _by_kind(msgs.group_messages("older_persons"), "missing")
    assert "Pretendia (2005)" in older.text


def test_sex_and_disability_gaps_stay_within_one_year(store):
    [sex] = _by_kind(msgs.group_messages("older_persons"), "sex_gap")
    assert "lower in 2 of the 2 ASEAN members" in sex.text and "Fakeland, 60.0 % of older women" in sex.text
    [dis] = _by_kind(msgs.group_messages("persons_with_disabilities"), "disability_gap")
    # CCC: 45 with against 44 without; AAA and BBB lower
    assert "with a disability, against synthetic employment, without a disability: higher in 1, lower in 2 of the 3" \
        in dis.text
    assert "2020 for 2, 2019 for 1" in dis.text and "Synthetia, 30.0" in dis.text


def test_country_messages_strengths_concerns_and_change(store):
    out = msgs.country_messages("AAA")
    assert 3 <= len(out) <= 5
    kinds = [m.kind for m in out]
    assert "concern" in kinds and "change" in kinds
    concern = _by_kind(out, "concern")[0]
    # employment with a disability: 30 against members 30, 40, 45 (median 40, MAD 5): below the range
    assert concern.indicator_ids == ("emp_ratio_disability",) and "worse than the ASEAN range" in concern.text
    assert "median of 40.0 (3 of 4 ASEAN members, 2020 for 2, 2019 for 1)" in concern.text
    assert all("because" not in m.text.lower() for m in out)
    with pytest.raises(ValueError, match="unknown country code"):
        msgs.country_messages("ZZZ")


def test_unknown_group_is_refused(store):
    with pytest.raises(ValueError, match="unknown population group"):
        msgs.group_messages("pets")


def _counting(monkeypatch, *names: str) -> dict[str, int]:
    """Count the calls of these API functions (as installed by the synthetic store)."""
    calls = dict.fromkeys(names, 0)

    def counting(name, func):
        def counted(*args, **kwargs):
            calls[name] += 1
            return func(*args, **kwargs)
        return counted

    for name in names:
        monkeypatch.setattr(api, name, counting(name, getattr(api, name)))
    return calls


def test_messages_of_every_group_at_once_are_those_of_each_group(store, monkeypatch):
    one_by_one = {g: msgs.group_messages(g) for g in msgs.GROUPS}
    calls = _counting(monkeypatch, "latest", "meetings")
    assert msgs.messages_by_group() == one_by_one
    # the latest values of every group's headline indicators in one read, the meetings once
    assert calls == {"latest": 1, "meetings": 1}


def test_messages_of_several_countries_at_once_are_those_of_each_country(store, monkeypatch):
    codes = ["AAA", "BBB", "CCC", "DDD", "JJJ"]
    one_by_one = {c: msgs.country_messages(c) for c in codes}
    calls = _counting(monkeypatch, "latest", "load", "meetings")
    assert msgs.messages_by_country([c.lower() for c in codes]) == one_by_one
    assert calls == {"latest": 1, "load": 1, "meetings": 1}
    with pytest.raises(ValueError, match="unknown country code 'ZZZ'"):
        msgs.messages_by_country(["AAA", "ZZZ"])


def test_focus_countries_messages_are_made_together_and_equal_each_country_alone(store, monkeypatch):
    alone = {c: msgs.messages_by_country([c])[c] for c in MEMBERS}  # the synthetic focus countries
    calls = _counting(monkeypatch, "latest", "load")
    assert {c: msgs.country_messages(c) for c in reversed(MEMBERS)} == alone
    assert calls == {"latest": 1, "load": 1}  # every focus country's messages from one reading
    assert msgs.country_messages("JJJ") == msgs.messages_by_country(["JJJ"])["JJJ"]  # not a focus country


def test_country_messages_are_kept_per_store_version_and_callers_cannot_change_them(store, monkeypatch):
    first = msgs.country_messages("AAA")
    made = list(first)
    first.clear()  # a caller changing its list must not change what the next caller gets
    calls = _counting(monkeypatch, "latest", "load")
    assert msgs.country_messages("AAA") == made
    assert calls == {"latest": 0, "load": 0}  # the same store version: not made again
    data = synthetic_store()
    data.loc[(data["iso3"] == "AAA") & (data["indicator_id"] == "under5_mortality") & (data["year"] == 2020),
             "value"] = 90.0
    store(data)  # a rebuilt store: a new version
    rebuilt = msgs.country_messages("AAA")
    assert rebuilt != made and rebuilt == msgs.messages_by_country(["AAA"])["AAA"]
    assert any("90.0 per 1,000 live births" in m.text for m in rebuilt)


def test_country_messages_of_a_store_without_a_manifest_are_made_at_each_call(store, monkeypatch):
    def no_manifest(processed_dir=None):
        raise StoreError("synthetic: no manifest")

    monkeypatch.setattr(api, "store_fingerprint", no_manifest)
    first = msgs.country_messages("BBB")
    calls = _counting(monkeypatch, "latest")
    assert msgs.country_messages("BBB") == first and calls == {"latest": 1}


def test_store_version_follows_a_rebuilt_store_and_an_edited_catalogue(synthetic_project):
    from analysis.pipeline.build import build_store

    assert api.store_version() is None  # no store yet (no manifest): nothing is kept
    build_store(progress=False)
    built = api.store_version()
    assert built is not None and api.store_version() == built
    catalogue = synthetic_project.root / "data" / "indicators.toml"
    catalogue.write_text(catalogue.read_text().replace('title = "HALE"', 'title = "HALE (edited)"'))
    edited = api.store_version()
    assert edited != built  # an edited title is seen before the next build
    assert not build_store(progress=False).skipped
    assert api.store_version() not in (built, edited)


def test_a_country_change_comes_from_the_newest_meeting_it_has_data_after(store):
    data = synthetic_store()
    # only BBB has values around the 2015 meeting on children: BBB's change is since 2015, the others' since 2010
    extra = pd.DataFrame(_rows("under5_mortality", {"BBB": {2015: 18.0}})).astype({"year": "int16", "value": "float64"})
    store(pd.concat([data, extra], ignore_index=True))
    found = msgs.messages_by_country(["AAA", "BBB"])
    [since_2015] = [m for m in _by_kind(found["BBB"], "change") if "on children" in m.text]
    [since_2010] = [m for m in _by_kind(found["AAA"], "change") if "on children" in m.text]
    assert since_2015.text.startswith("Since the 2015 meeting on children (the 2nd): Synthetic child mortality fell")
    assert since_2015.years == (2015, 2020)
    assert since_2010.text.startswith("Since the 2010 meeting on children (the 1st)")
    assert since_2010.years == (2010, 2020)


# ------------------------------------------------------------------------------------ pages and notebooks


def _page_text(fig) -> str:
    return "\n".join(t.get_text() for t in fig.texts)


def test_key_message_pages_one_per_group_with_the_messages(store):
    from analysis.presentation.report.front import key_message_pages

    pages = key_message_pages(None)
    assert [title for title, _ in pages] == [f"Key messages: {t}" for t in
                                             ("Older persons", "Children", "Mothers and newborns",
                                              "Persons with disabilities",
                                              "Whole population: health, health financing and social protection")]
    older = _page_text(pages[0][1])
    assert "fastest Synthetia, 10 years" in older.replace("\n", " ")
    assert tuple(pages[0][1].get_size_inches()) == pytest.approx((11.69, 8.27))
    assert "No message could be computed" in _page_text(pages[2][1])  # no synthetic indicator on mothers


def test_show_messages_prints_the_same_sentences_as_text_and_html(store, monkeypatch):
    from analysis.presentation import display

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    display.show_messages("children", kinds=["gap"])
    [out] = shown
    [gap] = _by_kind(msgs.group_messages("children"), "gap")
    assert out["text/plain"] == f"Key messages: Children\n- {gap.text}"
    assert f"<li>{gap.text}</li>" in out["text/html"]


def test_movement_is_judged_at_the_precision_shown():
    # synthetic values: a change that rounds away must not read as a rise
    assert rules.movement_word(0.91, 0.94) == "did not change"
    assert rules.movement_word(0.91, 0.96) == "rose"
    assert rules.movement_word(12.0, 11.0) == "fell"


def test_a_title_inside_a_sentence_keeps_acronyms():
    assert rules.mid_sentence("Life expectancy at birth") == "life expectancy at birth"
    assert rules.mid_sentence("UHC service coverage index") == "UHC service coverage index"
