"""Key messages: sentences generated from the store, one template per kind of finding.

Every number, year, unit, country name and "n of N" in a message is read through :mod:`analysis.store.api`
(and the pure selection rules of :mod:`analysis.rules.messages`); nothing from the data is typed here, so
a data refresh that changes a finding changes the sentence. Per population group (catalogue ``group``):

- ``ageing``: fastest and slowest passage from 7 % to 14 % aged 65+ among the ASEAN members (older persons);
- ``gap``: the member furthest from the ASEAN median on the group's headline indicators;
- ``change``: how the headline indicators moved *since* the latest meeting on the group that has data after
  it — co-movement, never effect: no sentence says "because of";
- ``missing``: the headline indicator with the most members lacking a value in its catalogue window;
- ``sex_gap`` / ``disability_gap``: women against men, persons with against without a disability, from
  one source, vintage and year.

Neutral indicators (catalogue ``better = "neutral"``) are only "highest"/"lowest", never better or worse,
and never a country's strength or concern (:func:`country_messages`).

:func:`messages_by_group` and :func:`messages_by_country` give the same messages for several groups or
countries, reading the store once for all of them (a report's pages, every focus country's profile).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from analysis.core import settings
from analysis.rules import crossings
from analysis.rules import messages as rules
from analysis.rules.change import change_since_meeting
from analysis.store import api, themes

__all__ = ["GROUPS", "Message", "country_messages", "group_messages", "messages_by_country", "messages_by_group"]

#: the population groups of the catalogue that get a page of messages, in the chart pack's order
GROUPS = ("older_persons", "children", "mothers", "persons_with_disabilities", "whole_population")
#: the group every value is set against, and how a sentence names its members
COMPARE = "ASEAN"
WHO = "ASEAN members"
#: the groups whose last meeting a country message reports change since (issue 11)
CHANGE_GROUPS = ("older_persons", "children", "persons_with_disabilities")
MAX_GAPS, MAX_CHANGES, MAX_PAIRS = 2, 1, 1  # three to six messages per group
SEXES = ("_female", "_male")
DISABILITY = ("_disability", "_no_disability")

Dir = Path | str | None
Changes = dict[str, pd.DataFrame]  # indicator id -> change since a meeting by country (rules.change)


@dataclass(frozen=True)
class Message:
    """One generated sentence and what it is about (for tests, tables and links)."""

    group: str  # catalogue population group ("country:<ISO3>" for a country's messages)
    kind: str  # ageing, gap, change, missing, sex_gap, disability_gap, strength, concern
    text: str
    indicator_ids: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # ISO3 codes named in the sentence
    years: tuple[int, ...] = ()  # the years of the values behind the numbers
    n: int | None = None  # countries with data
    N: int | None = None  # countries asked


# ------------------------------------------------------------------------------------ what is read


@dataclass
class _Held:
    """Rows read once for a whole call: a later ask within these indicators and countries is a subset."""

    ids: frozenset[str]
    countries: frozenset[str]
    frame: pd.DataFrame

    def covers(self, ids: Sequence[str], countries: Sequence[str]) -> bool:
        return self.ids.issuperset(ids) and self.countries.issuperset(countries)

    def subset(self, ids: Sequence[str], countries: Sequence[str]) -> pd.DataFrame:
        """The rows the API returns for ``ids`` and ``countries``: its frames are sorted by indicator and
        country (latest) or in store order (load), so filtering keeps their order; the index is renumbered."""
        keep = self.frame["indicator_id"].isin(list(ids)).to_numpy(dtype=bool) & \
            self.frame["iso3"].isin(list(countries)).to_numpy(dtype=bool)
        return self.frame.loc[keep].reset_index(drop=True)


@dataclass
class _Reading:
    """The store as the templates see it: members, names and catalogue, read once per call; what the
    catalogue says of an indicator, the meetings and the rows :meth:`hold` was given, once per call too
    (a call may cover every group or every focus country)."""

    processed_dir: Dir
    members: list[str]
    names: dict[str, str]
    catalogue: pd.DataFrame  # indexed by indicator_id
    store_ids: frozenset[str]
    _memo: dict = field(default_factory=dict, repr=False)
    _latest: _Held | None = field(default=None, repr=False)
    _series: _Held | None = field(default=None, repr=False)

    def once(self, key: tuple, make):
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def title(self, ind: str) -> str:
        return str(self.catalogue.at[ind, "title"])

    def unit(self, ind: str) -> str:
        return str(self.catalogue.at[ind, "unit"])

    def better(self, ind: str) -> str:
        return self.once(("better", ind), lambda: api.direction_of(ind))

    def tolerance(self, ind: str) -> int:
        return self.once(("tolerance", ind), lambda: api.tolerance_of(ind))

    def headline(self, group: str) -> list[str]:
        """The group's headline indicators that the store holds, in catalogue order."""
        return list(self.once(("headline", group), lambda: self._headline(group)))

    def _headline(self, group: str) -> list[str]:
        cat = self.catalogue
        ids = cat.index[(cat["group"] == group).to_numpy(dtype=bool) & cat["headline"].to_numpy(dtype=bool)]
        return [str(i) for i in ids if i in self.store_ids]

    def meetings(self) -> pd.DataFrame:
        return self.once(("meetings",), api.meetings)

    def hold(self, latest_ids: Sequence[str], series_ids: Sequence[str], countries: Sequence[str]) -> None:
        """Read the latest values and the observed series of these indicators and countries in one API
        call each; :meth:`latest` and :meth:`load` then answer asks within them without reading again."""
        countries = list(dict.fromkeys(countries))
        if latest_ids:
            frame = api.latest(list(latest_ids), countries, processed_dir=self.processed_dir)
            self._latest = _Held(frozenset(latest_ids), frozenset(countries), frame)
        if series_ids:
            frame = api.load(list(series_ids), countries, include_projections=False, names=False,
                             processed_dir=self.processed_dir)
            self._series = _Held(frozenset(series_ids), frozenset(countries), frame)

    def latest(self, ids: Sequence[str], countries: Sequence[str] | None = None) -> pd.DataFrame:
        countries = list(countries or self.members)
        if self._latest is not None and self._latest.covers(ids, countries):
            return self._latest.subset(ids, countries)
        return api.latest(list(ids), countries, processed_dir=self.processed_dir)

    def load(self, ids: Sequence[str], countries: Sequence[str] | None = None) -> pd.DataFrame:
        countries = list(countries or self.members)
        if self._series is not None and self._series.covers(ids, countries):
            return self._series.subset(ids, countries)
        return api.load(list(ids), countries, include_projections=False, names=False,
                        processed_dir=self.processed_dir)

    def name_list(self, iso3: Sequence[str]) -> str:
        return ", ".join(self.names.get(i, i) for i in iso3)


def _reading(processed_dir: Dir) -> _Reading:
    members = api.members(COMPARE, processed_dir=processed_dir)
    return _Reading(processed_dir=processed_dir, members=members,
                    names=api.country_names(processed_dir=processed_dir),
                    catalogue=api.catalogue().set_index("indicator_id"),
                    store_ids=api.indicator_ids(processed_dir))


def _of(latest: pd.DataFrame, ind: str) -> pd.DataFrame:
    return latest.loc[(latest["indicator_id"] == ind).to_numpy(dtype=bool)]


# ------------------------------------------------------------------------------------ meetings


def _themed_meetings(reading: _Reading, group: str) -> pd.DataFrame:
    """Meetings with a known theme on ``group``, newest first; of two in one year the stated one."""
    return reading.once(("themed", group), lambda: _newest_themed(reading.meetings(), group))


def _newest_themed(m: pd.DataFrame, group: str) -> pd.DataFrame:
    hit = m.loc[m["theme"].notna().to_numpy(dtype=bool)
                & m["focus_groups"].map(lambda groups: group in groups).to_numpy(dtype=bool)]
    hit = hit.assign(_stated=(hit["year_basis"] == "stated").to_numpy(dtype=bool))
    hit = hit.sort_values(["year", "_stated", "meeting_no"], ascending=[False, False, False], kind="stable")
    return hit.drop_duplicates("year").loc[:, ["meeting_no", "year"]].reset_index(drop=True)


def _group_words(group: str) -> str:
    """A catalogue group as a sentence names it ("older persons", "the whole population")."""
    words = group.replace("_", " ")
    return f"the {words}" if group == "whole_population" else words


def _meeting_label(year: int, number: int, group: str) -> str:
    return f"the {year} meeting on {_group_words(group)} (the {_ordinal(int(number))})"


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _changes(reading: _Reading, data: pd.DataFrame, ids: Sequence[str], year: int) -> dict[str, pd.DataFrame]:
    """Per indicator, the change since ``year`` by country (rules.change; the catalogue's tolerance)."""
    out = {}
    for ind in ids:
        part = data.loc[(data["indicator_id"] == ind).to_numpy(dtype=bool)]
        out[ind] = change_since_meeting(part, year, tolerance=reading.tolerance(ind), better={ind: reading.better(ind)})
    return out


def _change_table(reading: _Reading, data: pd.DataFrame, ids: Sequence[str], year: int) -> pd.DataFrame:
    """The change since ``year`` of every indicator (``ids``, at least one) and country of ``data`` in one
    frame (rules.change, one call per tolerance of the catalogue): the rows of :func:`_changes`, in one go."""
    by_tolerance: dict[int, list[str]] = {}
    for ind in ids:
        by_tolerance.setdefault(reading.tolerance(ind), []).append(ind)
    parts = [change_since_meeting(data.loc[data["indicator_id"].isin(inds).to_numpy(dtype=bool)], year,
                                  tolerance=tolerance, better={i: reading.better(i) for i in inds})
             for tolerance, inds in by_tolerance.items()]
    return pd.concat(parts, ignore_index=True)


def _possible_changes(reading: _Reading, data: pd.DataFrame, ids: Sequence[str], year: int) -> dict[str, int]:
    """Per indicator, an upper bound of the countries :func:`_changes` can compare: those with a value
    within the indicator's tolerance of ``year`` and a later one (cheap, so the rule runs only where
    it can succeed)."""
    keep = data["value"].notna().to_numpy(dtype=bool) & data["indicator_id"].isin(list(ids)).to_numpy(dtype=bool)
    part = data.loc[keep]
    tolerance = part["indicator_id"].map({i: reading.tolerance(i) for i in ids}).astype("int64")
    near = part.loc[((part["year"] - year).abs() <= tolerance).to_numpy(dtype=bool)]
    first_near = near.groupby(["indicator_id", "iso3"], observed=True)["year"].min()
    last = part.groupby(["indicator_id", "iso3"], observed=True)["year"].max()
    counts = (last.reindex(first_near.index) > first_near).groupby(level="indicator_id", observed=True).sum()
    return {ind: int(counts.get(ind, 0)) for ind in ids}


def _since_last_meeting(reading: _Reading, group: str, ids: Sequence[str], data: pd.DataFrame,
                        min_countries: int, limit: int | None = None) -> tuple[pd.Series, Changes] | None:
    """The newest themed meeting on ``group`` after which at least ``min_countries`` countries have a
    change on some indicator, and the changes of (at most ``limit``) indicators that may have them, most
    countries first; None when no meeting has."""
    for meeting in _themed_meetings(reading, group).itertuples(index=False):
        possible = _possible_changes(reading, data, ids, int(meeting.year))
        candidates = sorted((i for i in ids if possible[i] >= min_countries), key=lambda i: -possible[i])
        changes = _changes(reading, data, candidates[:limit], int(meeting.year))
        if any(int(c["change"].notna().sum()) >= min_countries for c in changes.values()):
            return pd.Series({"year": int(meeting.year), "meeting_no": int(meeting.meeting_no)}), changes
    return None


# ------------------------------------------------------------------------------------ group templates


def _ageing_messages(reading: _Reading) -> list[Message]:
    reference = crossings.REFERENCE_COUNTRY
    countries = list(dict.fromkeys([*reading.members, reference]))
    cols = ["iso3", "year", "value", "projection", "source_id"]
    est = reading.load([crossings.SHARE_65_ESTIMATE], countries).loc[:, cols]
    proj = api.load(crossings.SHARE_65_PROJECTION, countries, names=False, processed_dir=reading.processed_dir)
    table = crossings.speed_table_from_series(crossings.combine_estimates_and_projections(est, proj.loc[:, cols]))
    first, second = crossings.THRESHOLDS[0], crossings.THRESHOLDS[1]
    column = f"years_{first:g}_{second:g}"
    if table.empty or column not in table.columns:
        return []
    own = table.loc[table["iso3"].isin(reading.members).to_numpy(dtype=bool)]
    pair = rules.extremes(own, column)
    if pair is None:
        return []
    n, N = int(own[column].notna().sum()), len(reading.members)
    parts = [_passage(reading, row, first, second, word) for row, word in zip(pair, ("fastest", "slowest"))]
    others = "" if n == N else f" (the other {N - n} do not pass both thresholds within the series)"
    text = (f"{reading.title(crossings.SHARE_65_ESTIMATE)}, from {first:g} % to {second:g} %: {parts[0]}; {parts[1]}. "
            f"Computed for {n} of {N} {WHO}{others}; 'projected': UN WPP medium variant.")
    ref = table.loc[(table["iso3"] == reference).to_numpy(dtype=bool)]
    if reference not in reading.members and len(ref) and pd.notna(ref[column].iloc[0]):
        text += f" For comparison, {_passage(reading, ref.iloc[0], first, second, '')}."
    years = tuple(int(round(float(r[f"year_{t:g}"]))) for r in pair for t in (first, second))
    return [Message("older_persons", "ageing", text, (crossings.SHARE_65_ESTIMATE, crossings.SHARE_65_PROJECTION),
                    tuple(str(r["iso3"]) for r in pair), years, n, N)]


def _passage(reading: _Reading, row: pd.Series, first: float, second: float, word: str) -> str:
    start, end = float(row[f"year_{first:g}"]), float(row[f"year_{second:g}"])
    projected = crossings.PROJECTION in (row[f"status_{first:g}"], row[f"status_{second:g}"])
    who = f"{word} {reading.names.get(str(row['iso3']), row['iso3'])}".strip()
    return f"{who}, {end - start:.0f} years ({start:.0f}–{end:.0f}{', projected' if projected else ''})"


def _gap_messages(reading: _Reading, group: str, latest: pd.DataFrame) -> list[Message]:
    found = []
    for ind in reading.headline(group):
        gap = rules.gap_to_median(_of(latest, ind), reading.members)
        if gap is not None:
            found.append((gap["score"], ind, gap))
    found.sort(key=lambda item: -item[0])  # stable: catalogue order among equal scores
    chosen, named = [], set()
    for _, ind, gap in found:
        if gap["iso3"] not in named and len(chosen) < MAX_GAPS:  # one finding per country: more countries named
            chosen.append(_gap_message(reading, group, ind, gap))
            named.add(gap["iso3"])
    return chosen


def _gap_message(reading: _Reading, group: str, ind: str, gap: dict) -> Message:
    words = rules.extreme_words(reading.better(ind), gap["gap"] > 0)
    text = (f"{reading.title(ind)}: {reading.names.get(gap['iso3'], gap['iso3'])} has the {words} value among "
            f"{WHO}, {rules.with_unit(gap['value'], reading.unit(ind))} in {gap['year']}, against an ASEAN "
            f"median of {rules.format_number(gap['median'])} "
            f"({rules.coverage_phrase(gap['years'], gap['N'], WHO)}).")
    return Message(group, "gap", text, (ind,), (gap["iso3"],), tuple(sorted(set(gap["years"]))), gap["n"], gap["N"])


def _change_messages(reading: _Reading, group: str, data: pd.DataFrame) -> list[Message]:
    ids = reading.headline(group)
    if not ids:
        return []
    need = max(1, math.ceil(settings.MIN_COVERAGE * len(reading.members)))
    found = _since_last_meeting(reading, group, ids, data, need, limit=MAX_CHANGES + 1)
    if found is None:
        return []
    meeting, changes = found
    # indicators with a direction first (what a reader can judge), then the most countries
    ranked = sorted(changes, key=lambda i: (reading.better(i) not in rules.DIRECTED,
                                            -int(changes[i]["change"].notna().sum())))
    out = []
    for ind in ranked[:MAX_CHANGES]:
        if int(changes[ind]["change"].notna().sum()) >= need:
            out.append(_change_message(reading, group, ind, changes[ind], meeting))
    return out


def _change_message(reading: _Reading, group: str, ind: str, change: pd.DataFrame, meeting: pd.Series) -> Message:
    rows = change.loc[change["change"].notna().to_numpy(dtype=bool)]
    moves = [rules.movement_word(b, a) for b, a in zip(rows["baseline_value"], rows["latest_value"], strict=True)]
    counts = ", ".join(f"{w} in {moves.count(w)}" for w in ("rose", "fell", "did not change") if moves.count(w))
    top = rules.largest_change(rows, reading.better(ind))
    biggest = "the largest improvement" if reading.better(ind) in rules.DIRECTED else "the largest change"
    base_years = [int(y) for y in rows["baseline_year"]]
    last_years = [int(y) for y in rows["latest_year"]]
    text = (f"Since {_meeting_label(int(meeting['year']), int(meeting['meeting_no']), group)}, "
            f"{rules.mid_sentence(reading.title(ind))} {counts} ({len(rows)} of {len(reading.members)} {WHO} "
            f"with values around the meeting and later; from {rules.year_phrase(base_years)} to "
            f"{rules.year_phrase(last_years)}); "
            f"{biggest}: {reading.names.get(str(top['iso3']), top['iso3'])}, from "
            f"{rules.format_number(top['baseline_value'])} in {int(top['baseline_year'])} to "
            f"{rules.with_unit(top['latest_value'], reading.unit(ind))} in {int(top['latest_year'])}. "
            "Change since the meeting, not caused by it.")
    return Message(group, "change", text, (ind,), (str(top["iso3"]),), tuple(sorted(set(base_years + last_years))),
                   len(rows), len(reading.members))


def _missing_message(reading: _Reading, group: str, latest: pd.DataFrame, data: pd.DataFrame) -> list[Message]:
    worst = None
    for ind in reading.headline(group):
        part = _of(latest, ind)
        refs = part["ref_year"].dropna()
        if refs.empty:
            continue
        first_year = int(refs.max()) - int(part["window"].max()) + 1
        newest = _newest_years(_of(data, ind))
        gaps = rules.stale_or_missing(newest, reading.members, first_year)
        if worst is None or len(gaps) > len(worst[2]):
            worst = (ind, first_year, gaps)
    if worst is None:
        return []
    ind, first_year, gaps = worst
    N = len(reading.members)
    if gaps.empty:
        text = (f"Every headline indicator on {_group_words(group)} has a value within its window "
                f"(since {first_year} or later) for all {N} {WHO}.")
        return [Message(group, "missing", text, tuple(reading.headline(group)), (), (), N, N)]
    listed = ", ".join(f"{reading.names.get(str(i), i)} ({'none' if pd.isna(y) else int(y)})"
                       for i, y in zip(gaps["iso3"], gaps["year"]))
    text = (f"{reading.title(ind)}: no value since {first_year} for {len(gaps)} of {N} {WHO} "
            f"(newest year in brackets): {listed}.")
    years = tuple(sorted({int(y) for y in gaps["year"].dropna()}))
    return [Message(group, "missing", text, (ind,), tuple(str(i) for i in gaps["iso3"]), years,
                    N - len(gaps), N)]


def _newest_years(data: pd.DataFrame) -> pd.DataFrame:
    """Each member's newest observed year of one indicator, whatever its age."""
    if data.empty:
        return pd.DataFrame({"iso3": pd.Series(dtype="string"), "year": pd.Series(dtype="Int64")})
    return data.groupby("iso3", as_index=False, observed=True)["year"].max()


def _pairs(reading: _Reading, group: str, suffixes: tuple[str, str]) -> list[tuple[str, str]]:
    """Indicator pairs the catalogue names by suffix (``x_female``/``x_male``, ``x_disability``/
    ``x_no_disability``) among the group's indicators in the store, current series only."""
    return reading.once(("pairs", group, suffixes), lambda: _find_pairs(reading, group, suffixes))


def _find_pairs(reading: _Reading, group: str, suffixes: tuple[str, str]) -> list[tuple[str, str]]:
    # Current series only: the themes' rule leaves out other sources and older vintages of a concept.
    catalogue = reading.once(("catalogue",), lambda: reading.catalogue.reset_index())
    current = [i for i in themes.indicators_for_focus_group(group, catalogue) if i in reading.store_ids]
    out = []
    for ind in current:
        if suffixes == SEXES and ind in reading.headline(group):
            pair = (ind + SEXES[0], ind + SEXES[1])
        elif (suffixes == DISABILITY and ind.endswith(DISABILITY[0]) and not ind.endswith(DISABILITY[1])
              and reading.better(ind) in rules.DIRECTED):  # rates, not population counts
            pair = (ind, ind.removesuffix(DISABILITY[0]) + DISABILITY[1])
        else:
            continue
        # a headline indicator has its gap message already; pairs bring in the series beside it
        if all(p in reading.store_ids for p in pair) and pair[0] not in reading.headline(group):
            out.append(pair)
    return out


def _pair_messages(reading: _Reading, group: str, suffixes: tuple[str, str], kind: str) -> list[Message]:
    found = []
    for a, b in _pairs(reading, group, suffixes):
        data = reading.load([a, b])
        gaps = rules.paired_gap(_of(data, a), _of(data, b), reading.members)
        if len(gaps):
            found.append((len(gaps), float(gaps["gap"].abs().median()), a, b, gaps))
    found.sort(key=lambda item: (-item[0], -item[1]))  # most countries, then the widest typical gap
    return [_pair_message(reading, group, kind, a, b, gaps) for _, _, a, b, gaps in found[:MAX_PAIRS]]


def _pair_message(reading: _Reading, group: str, kind: str, a: str, b: str, gaps: pd.DataFrame) -> Message:
    counts = {"higher": int((gaps["gap"] > 0).sum()), "lower": int((gaps["gap"] < 0).sum()),
              "equal": int((gaps["gap"] == 0).sum())}
    spread = ", ".join(f"{word} in {k}" for word, k in counts.items() if k)
    widest = gaps.iloc[int(gaps["gap"].abs().to_numpy().argmax())]
    name = reading.names.get(str(widest["iso3"]), widest["iso3"])
    coverage = rules.coverage_phrase(gaps["year"].tolist(), len(reading.members), WHO)
    text = (f"{reading.title(a)}, against {rules.mid_sentence(reading.title(b))}: {spread} of the {len(gaps)} {WHO} "
            f"with both figures from one source and year ({coverage}); "
            f"the widest gap: {name}, {rules.with_unit(widest['a'], reading.unit(a))} against "
            f"{rules.with_unit(widest['b'], reading.unit(b))} in {int(widest['year'])}.")
    return Message(group, kind, text, (a, b), (str(widest["iso3"]),), tuple(sorted(set(gaps["year"].astype(int)))),
                   len(gaps), len(reading.members))


def group_messages(group: str, *, processed_dir: Dir = None) -> list[Message]:
    """The key messages of one population group (three to six), in a fixed order of kinds."""
    return messages_by_group([group], processed_dir=processed_dir)[group]


def messages_by_group(groups: Sequence[str] = GROUPS, *, processed_dir: Dir = None) -> dict[str, list[Message]]:
    """:func:`group_messages` of several groups, reading the store once for all of them."""
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise ValueError(f"unknown population group {unknown[0]!r}; the groups are {', '.join(GROUPS)}")
    reading = _reading(processed_dir)
    headline = list(dict.fromkeys(i for g in groups for i in reading.headline(g)))
    paired = [i for g in groups for kind in (SEXES, DISABILITY) for pair in _pairs(reading, g, kind) for i in pair]
    reading.hold(headline, list(dict.fromkeys([*headline, *paired])), reading.members)
    return {g: _group_messages(reading, g) for g in dict.fromkeys(groups)}


def _group_messages(reading: _Reading, group: str) -> list[Message]:
    latest = reading.latest(reading.headline(group))
    data = reading.load(reading.headline(group))
    out: list[Message] = []
    if group == "older_persons":
        out += _ageing_messages(reading)
    out += _gap_messages(reading, group, latest)
    out += _pair_messages(reading, group, SEXES, "sex_gap")
    out += _pair_messages(reading, group, DISABILITY, "disability_gap")
    out += _change_messages(reading, group, data)
    out += _missing_message(reading, group, latest, data)
    return out


# ------------------------------------------------------------------------------------ country templates


def _standings(reading: _Reading, codes: Sequence[str]) -> dict[str, list[tuple[float, Message]]]:
    """Per country, (signed distance, message) of each profile indicator where it is outside the ASEAN band."""
    ids = [i for i in api.profile_indicators() if i in reading.store_ids and reading.better(i) in rules.DIRECTED]
    out: dict[str, list[tuple[float, Message]]] = {code: [] for code in codes}
    if not ids:
        return out
    latest = reading.latest(ids, list(dict.fromkeys([*codes, *reading.members])))
    for ind in ids:
        part = _of(latest, ind).set_index("iso3")
        ref = part["value"].reindex(reading.members).astype("float64")
        # the band's median and spread are the members' alone: one band for every country asked
        band = api.band(part["value"].reindex(codes).astype("float64"), reference=ref,
                        min_difference=api.min_difference_of(ind))
        median, spread = float(band["center"].iloc[0]), float(band["spread"].iloc[0])
        years = [int(y) for y in part["year"].reindex(reading.members).dropna()]
        for code in codes:
            own = part["value"].get(code)
            if own is None or pd.isna(own):
                continue
            score = rules.judged_distance(float(own), median, spread, 0.0, reading.better(ind))
            if pd.isna(score) or score == 0:
                continue
            out[code].append((score, _standing_message(reading, code, ind, float(own), int(part["year"].get(code)),
                                                       median, years, score)))
    return out


def _standing_message(reading: _Reading, iso3: str, ind: str, value: float, year: int, median: float,
                      years: list[int], score: float) -> Message:
    kind, word = ("strength", "better") if score > 0 else ("concern", "worse")
    text = (f"{reading.title(ind)}: {rules.with_unit(value, reading.unit(ind))} in {year}, {word} than the ASEAN "
            f"range around the median of {rules.format_number(median)} "
            f"({rules.coverage_phrase(years, len(reading.members), WHO)}).")
    return Message(f"country:{iso3}", kind, text, (ind,), (iso3,), tuple(sorted({year, *years})), len(years),
                   len(reading.members))


def _country_changes(reading: _Reading, codes: Sequence[str], group: str) -> dict[str, Message]:
    """Per country with one, the change since the newest themed meeting on ``group`` after which the
    country has a change on some headline indicator: that of the first such indicator in catalogue order."""
    ids = reading.headline(group)
    if not ids:
        return {}
    data = reading.load(ids, codes)
    catalogue_order = {ind: k for k, ind in enumerate(ids)}
    found: dict[str, Message] = {}
    for meeting in _themed_meetings(reading, group).itertuples(index=False):
        pending = [c for c in codes if c not in found]
        part = data.loc[data["iso3"].isin(pending).to_numpy(dtype=bool)]
        if part.empty:
            break
        table = _change_table(reading, part, ids, int(meeting.year))
        changed = table.loc[table["change"].notna().to_numpy(dtype=bool)]
        changed = changed.assign(_order=changed["indicator_id"].map(catalogue_order)).sort_values("_order",
                                                                                                  kind="stable")
        for code, row in changed.drop_duplicates("iso3").set_index("iso3").iterrows():
            found[str(code)] = _country_change(reading, str(code), group, str(row["indicator_id"]), row, meeting)
    return found


def _country_change(reading: _Reading, iso3: str, group: str, ind: str, row: pd.Series, meeting) -> Message:
    better = reading.better(ind)
    moved = rules.movement_word(float(row["baseline_value"]), float(row["latest_value"]))
    judged = f", in the {row['direction']} direction" if better in rules.DIRECTED and row["direction"] in (
        "better", "worse") and moved != "did not change" else ""
    text = (f"Since {_meeting_label(int(meeting.year), int(meeting.meeting_no), group)}: "
            f"{reading.title(ind)} {moved} from "
            f"{rules.format_number(row['baseline_value'])} in {int(row['baseline_year'])} to "
            f"{rules.with_unit(row['latest_value'], reading.unit(ind))} in {int(row['latest_year'])}{judged}. "
            "Change since the meeting, not caused by it.")
    return Message(f"country:{iso3}", "change", text, (ind,), (iso3,),
                   (int(row["baseline_year"]), int(row["latest_year"])), 1, 1)


def country_messages(iso3: str, *, processed_dir: Dir = None, limit: int = 5) -> list[Message]:
    """Three to five messages on one country: its clearest strength and concern against the ASEAN range
    (directed profile indicators only), the change since the last meeting on older persons, children and
    persons with disabilities, then a second strength and concern, up to ``limit``. Kept per store version:
    a notebook shows a country's messages, then its profile note asks for them again."""
    version = api.store_version(processed_dir)
    if version is None:
        return _made_country_messages(iso3, processed_dir, limit)
    code = str(iso3).strip().upper()
    if code in api.members(FOCUS, processed_dir=processed_dir):
        return list(_kept_focus_messages(version, processed_dir, limit)[code])
    return list(_kept_country_messages(version, iso3, processed_dir, limit))


#: the countries whose messages are made together (the profiles the notebook runner executes)
FOCUS = "FOCUS"


@lru_cache(maxsize=4)
def _kept_focus_messages(version: tuple, processed_dir: Dir, limit: int) -> dict[str, tuple[Message, ...]]:
    """Every focus country's messages, made at once per store version: a kernel runs one profile after
    another, and :func:`messages_by_country` reads and ranks the store once for all of them (about the cost
    of one country). The same messages as one country's alone (tested)."""
    focus = api.members(FOCUS, processed_dir=processed_dir)
    return {code: tuple(found) for code, found in messages_by_country(focus, processed_dir=processed_dir,
                                                                       limit=limit).items()}


@lru_cache(maxsize=64)
def _kept_country_messages(version: tuple, iso3: str, processed_dir: Dir, limit: int) -> tuple[Message, ...]:
    # A tuple of frozen messages: no caller can change what the next one is given.
    return tuple(_made_country_messages(iso3, processed_dir, limit))


def _made_country_messages(iso3: str, processed_dir: Dir, limit: int) -> list[Message]:
    return messages_by_country([iso3], processed_dir=processed_dir, limit=limit)[str(iso3).strip().upper()]


def messages_by_country(countries: Sequence[str], *, processed_dir: Dir = None,
                        limit: int = 5) -> dict[str, list[Message]]:
    """:func:`country_messages` of several countries (keyed by ISO3), reading the store once for all."""
    reading = _reading(processed_dir)
    codes = list(dict.fromkeys(str(c).strip().upper() for c in countries))
    unknown = [c for c in countries if str(c).strip().upper() not in reading.names]
    if unknown:
        raise ValueError(f"unknown country code {unknown[0]!r}")
    changed = list(dict.fromkeys(i for g in CHANGE_GROUPS for i in reading.headline(g)))
    reading.hold([], changed, codes)
    standing = _standings(reading, codes)
    changes = {g: _country_changes(reading, codes, g) for g in CHANGE_GROUPS}
    out = {}
    for code in codes:
        strengths = [m for s, m in sorted(standing[code], key=lambda x: -x[0]) if s > 0]
        concerns = [m for s, m in sorted(standing[code], key=lambda x: x[0]) if s < 0]
        moved = [changes[g][code] for g in CHANGE_GROUPS if code in changes[g]]
        ordered = strengths[:1] + concerns[:1] + moved + strengths[1:2] + concerns[1:2]
        out[code] = ordered[:limit]
    return out
