"""The meeting themes beside the indicators: which indicators speak to a focus group, and how they
moved since a meeting year (co-movement, not effect; see :mod:`analysis.rules.change`).
"""

from __future__ import annotations

import re

import pandas as pd

from analysis.config.references import FOCUS_GROUPS, load_meetings, meetings_by_focus_group
from analysis.core import settings
from analysis.core.settings import DEFAULT_TOLERANCE
from analysis.rules.change import change_since_meeting, change_since_meeting_aggregate, direction_counts
from analysis.store import api, reader

__all__ = ["AREA_LABELS", "DEFAULT_TOLERANCE", "FOCUS_GROUPS", "change_for_focus_group", "direction_counts",
           "focus_group_overview", "indicators_for_focus_group", "load_meetings", "meeting_years", "theme_coverage",
           "themes_without_data", "topic_areas"]

#: Focus groups of the meetings that are not catalogue groups, and the catalogue rows that stand for
#: them: (catalogue group, domains). ``working_age`` has no indicator set of its own in the catalogue.
_FOCUS_GROUP_RULES: dict[str, tuple[str, tuple[str, ...]] | None] = {
    "poor_and_vulnerable": ("whole_population", ("social_protection", "poverty_and_context")),
    "whole_population": ("whole_population", ("health",)),
    "working_age": None,
}


def _not_current(catalogue: pd.DataFrame, id_col: str = "indicator_id") -> set[str]:
    """Ids that are not their concept's current series (another source or an older vintage). The API's
    catalogue carries the catalogue's rule as a ``current`` column; a hand-made frame without it falls back
    on the naming convention that a concept is named after its preferred id."""
    ids = catalogue[id_col].astype(str)
    if "current" in catalogue.columns:
        return set(ids[~catalogue["current"].fillna(True).astype(bool).to_numpy()])
    all_ids = set(ids)
    concept = catalogue["concept"].astype(str)
    return {i for i, c in zip(ids, concept, strict=True) if c != i and c in all_ids}


def indicators_for_focus_group(group: str, catalogue: pd.DataFrame | None = None,
                               include_older_vintages: bool = False) -> list[str]:
    """Indicator ids related to a meeting focus group, in catalogue order.

    Rule: a focus group that is also a catalogue ``group`` (older_persons, children, mothers,
    persons_with_disabilities) takes every indicator of that group. ``poor_and_vulnerable`` takes the
    whole-population indicators of the social-protection and poverty domains that have a direction
    (``better`` is not neutral, so context series such as population are left out);
    ``whole_population`` (the mental-health and UHC meetings) takes the whole-population health
    indicators; ``working_age`` has no indicator set in the catalogue and returns an empty list.
    Other sources of the same concept (older vintages such as ``_sdg2020``, whose catalogue
    ``concept`` names the preferred id) are left out unless asked for.
    """
    if group not in FOCUS_GROUPS:
        raise ValueError(f"unknown focus group {group!r}; allowed: {list(FOCUS_GROUPS)}")
    if catalogue is None:
        catalogue = api.catalogue()
    id_col = "indicator_id" if "indicator_id" in catalogue.columns else "id"
    for col in ("group", "domain", "better", "concept"):
        if col not in catalogue.columns:
            raise ValueError(f"catalogue frame has no `{col}` column")
    cat = catalogue.assign(_id=catalogue[id_col].astype("string"))
    if group in _FOCUS_GROUP_RULES:
        rule = _FOCUS_GROUP_RULES[group]
        if rule is None:
            return []
        cat_group, domains = rule
        hit = (cat["group"] == cat_group) & cat["domain"].isin(domains)
        if group == "poor_and_vulnerable":
            hit = hit & (cat["better"] != "neutral")
    else:
        hit = cat["group"] == group
    ids = [str(i) for i in cat.loc[hit.fillna(False).astype(bool), "_id"]]
    if include_older_vintages:
        return ids
    other = _not_current(cat, "_id")
    return [i for i in ids if i not in other]


#: one indicator per focus group for a single headline chart (ids in data/indicators.toml)
HEADLINE_INDICATOR: dict[str, str] = {
    "older_persons": "sp_cov_pension",
    "children": "under5_mortality",
    "mothers": "maternal_mortality",
    "persons_with_disabilities": "sp_cov_disability",
    "poor_and_vulnerable": "poverty_intl_line",
    "whole_population": "uhc_service_coverage",
}


def meeting_years(group: str, meetings: pd.DataFrame | None = None) -> list[int]:
    """Years of the meetings that name ``group`` among their focus groups (theme title found or not)."""
    long = meetings_by_focus_group(meetings)
    return sorted(int(y) for y in long.loc[long["focus_group"] == group, "year"].unique())


def focus_group_overview(meetings: pd.DataFrame | None = None,
                         catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per focus group: the meetings on it (number and year), the first year, and related indicators."""
    meetings = load_meetings() if meetings is None else meetings
    long = meetings_by_focus_group(meetings)
    rows = []
    for group in FOCUS_GROUPS:
        hit = long.loc[long["focus_group"] == group].sort_values("meeting_no")
        ids = indicators_for_focus_group(group, catalogue)
        rows.append({
            "focus_group": group,
            "meetings": ", ".join(f"{n} ({y})" for n, y in zip(hit["meeting_no"], hit["year"])) or "none",
            "first_year": int(hit["year"].min()) if len(hit) else pd.NA,
            "indicators": len(ids),
        })
    return pd.DataFrame(rows).astype({"first_year": "Int64"})


def _by_tolerance(ids: list[str], tolerance: int | None) -> dict[int, list[str]]:
    """The ids grouped by the nearest-year tolerance that applies to each: ``tolerance`` when given,
    else the indicator's own (catalogue ``tolerance``, else the project default), as the charts use."""
    groups: dict[int, list[str]] = {}
    for i in ids:
        groups.setdefault(tolerance if tolerance is not None else api.tolerance_of(i), []).append(i)
    return groups


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    kept = [p for p in parts if len(p)]
    return pd.concat(kept, ignore_index=True) if kept else parts[0]


def change_for_focus_group(group: str, meeting_year: int,
                           latest_window: tuple[int, int] | None = None,
                           tolerance: int | None = None, aggregate_group: str = "ASEAN",
                           statistic: str = "median",
                           directional_only: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Change since ``meeting_year`` of the group's related indicators: (by country, group aggregate).

    Countries are the focus 14; the aggregate is the stored ``aggregate_group`` statistic (see
    ``change_since_meeting_aggregate``). Indicator titles and units are added from the catalogue.
    ``tolerance`` (years a baseline may sit from the meeting year) defaults to each indicator's
    catalogue tolerance (:func:`analysis.store.api.tolerance_of`), the one its charts use.
    ``directional_only`` keeps indicators whose catalogue ``better`` is higher or lower (drops context
    series such as population counts). Co-movement, not effect: the indicators moved alongside the
    meetings; nothing here says why.
    """
    catalogue = api.catalogue()
    in_store = reader.indicator_ids()
    ids = [i for i in indicators_for_focus_group(group, catalogue) if i in in_store]
    better = {str(i): str(b) for i, b in zip(catalogue["indicator_id"], catalogue["better"])}
    if directional_only:
        ids = [i for i in ids if better.get(i) in ("higher", "lower")]
    meta = catalogue.loc[:, ["indicator_id", "title", "unit"]]
    if not ids:
        empty = change_since_meeting(pd.DataFrame(columns=["iso3", "indicator_id", "year", "value"]), meeting_year,
                                     tolerance=settings.DEFAULT_TOLERANCE if tolerance is None else tolerance)
        return empty, empty.rename(columns={"iso3": "group"})
    data = api.load(ids, countries="FOCUS", include_projections=False, names=False)
    aggregates = reader.read_table("aggregates")
    by_country, agg = [], []
    for tol, part in _by_tolerance(ids, tolerance).items():
        by_country.append(change_since_meeting(data.loc[data["indicator_id"].isin(part).to_numpy(dtype=bool)],
                                               meeting_year, latest_window, tolerance=tol, better=better))
        agg.append(change_since_meeting_aggregate(
            aggregates.loc[aggregates["indicator_id"].isin(part).to_numpy(dtype=bool)], meeting_year,
            aggregate_group, statistic, latest_window, tolerance=tol, better=better))
    names = api.countries().loc[:, ["iso3", "name"]]
    by_country = _concat(by_country).merge(names, on="iso3", how="left").merge(meta, on="indicator_id", how="left")
    agg = _concat(agg).merge(meta, on="indicator_id", how="left")
    order = {i: k for k, i in enumerate(ids)}
    by_country = by_country.assign(_o=by_country["indicator_id"].map(order)).sort_values(["_o", "iso3"])
    agg = agg.assign(_o=agg["indicator_id"].map(order)).sort_values("_o")
    return by_country.drop(columns="_o").reset_index(drop=True), agg.drop(columns="_o").reset_index(drop=True)


# ----------------------------------------------------------------------------- each meeting's topics and the data
#: What a meeting topic (``topics`` of meeting_themes.csv, ';'-separated) is about, as indicator areas:
#: the first rule whose pattern finds the topic's text gives its areas. Areas are the events' words
#: (:data:`analysis.config.references.AFFECTS`, which ``api.areas_of`` gives for each indicator) plus a
#: few that only meetings name. A topic no rule finds is named as one the data cannot speak to.
TOPIC_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"\bmental", ("mental_health",)),
    (r"long-term care|integrated care|rehabilitat", ("long_term_care",)),
    (r"disaster|reconstruction", ("disaster",)),
    (r"disabilit", ("disability",)),
    (r"maternal and child|childbirth|pregnan", ("maternal_health", "child_mortality")),
    (r"universal health coverage|medical and welfare services", ("uhc",)),
    (r"longevity|active ageing|health maintenance|healthy society", ("life_expectancy",)),
    (r"ageing societ", ("population",)),
    (r"income security|social security|social protection|safety net", ("social_protection", "pensions")),
    (r"poverty", ("poverty",)),
    (r"employ|work", ("employment",)),
    (r"human resources|service providers", ("health_workforce",)),
    (r"participation", ("social_participation",)),
    (r"collaboration|government roles|partnership|cross-sector|community", ("service_organisation",)),
)

#: Areas only meetings name, and the indicators that speak to them, found in the catalogue ``concept``
#: (events never affect these, so :data:`analysis.config.references.AREA_RULES` has no words for them).
CONCEPT_AREAS: tuple[tuple[str, str], ...] = (
    (r"poverty|gini", "poverty"),
    (r"lfpr|emp_ratio|unemployment|labour", "employment"),
    (r"physicians|nurses|doctors", "health_workforce"),
)

#: how an area is named in sentences
AREA_LABELS: dict[str, str] = {
    "mental_health": "mental health", "long_term_care": "long-term care", "disaster": "disasters and recovery",
    "disability": "disability", "maternal_health": "maternal health", "child_mortality": "child health",
    "uhc": "universal health coverage", "life_expectancy": "healthy longevity", "population": "population ageing",
    "social_protection": "social protection", "pensions": "pensions", "poverty": "poverty",
    "employment": "employment", "health_workforce": "the health and care workforce",
    "social_participation": "social participation", "service_organisation": "how services are organised",
    "health_financing": "health financing",
}


def topic_areas(topic: str) -> tuple[str, ...]:
    """The indicator areas a meeting topic is about (:data:`TOPIC_RULES`); () when no rule finds it."""
    text = topic.lower()
    return next((areas for pattern, areas in TOPIC_RULES if re.search(pattern, text)), ())


def indicator_areas(indicator_id: str, concept: str) -> frozenset[str]:
    """The areas an indicator speaks to: the events' areas (``api.areas_of``) and the meetings' own."""
    extra = {area for pattern, area in CONCEPT_AREAS if re.search(pattern, concept)}
    return frozenset(api.areas_of(indicator_id)) | extra


def _candidates(focus_groups: tuple[str, ...], catalogue: pd.DataFrame, store_ids: frozenset[str]) -> list[str]:
    """Indicators of the meeting's focus groups and of the whole population, in the store, preferred series."""
    ids: list[str] = []
    for group in (*focus_groups, "whole_population"):
        ids += [i for i in indicators_for_focus_group(group, catalogue) if i not in ids]
    whole = catalogue.loc[catalogue["group"] == "whole_population", "indicator_id"].astype(str)
    other = _not_current(catalogue)
    ids += [i for i in whole if i not in ids and i not in other]
    return [i for i in ids if i in store_ids]


def theme_coverage(meetings: pd.DataFrame | None = None, catalogue: pd.DataFrame | None = None,
                   store_ids: frozenset[str] | None = None) -> pd.DataFrame:
    """One row per meeting and topic: the topic's areas and the indicators that speak to it.

    An indicator speaks to a topic when it belongs to one of the meeting's focus groups (or to the whole
    population) and one of its areas is one of the topic's. ``indicator_ids`` is empty where the data
    cannot speak to the topic: no rule finds it, or no indicator of those groups covers its areas.
    Meetings whose theme was not found have one row with an empty ``topic``.
    """
    meetings = api.meetings() if meetings is None else meetings
    catalogue = api.catalogue() if catalogue is None else catalogue
    store_ids = api.indicator_ids() if store_ids is None else store_ids
    concept = dict(zip(catalogue["indicator_id"].astype(str), catalogue["concept"].astype(str)))
    rows = []
    for m in meetings.sort_values(["year", "meeting_no"]).itertuples():
        topics = [t.strip() for t in str(m.topics).split(";") if t.strip()] if pd.notna(m.topics) else []
        candidates = _candidates(tuple(m.focus_groups), catalogue, store_ids)
        areas_of = {i: indicator_areas(i, concept[i]) for i in candidates}
        for topic in topics or [""]:
            areas = topic_areas(topic)
            ids = tuple(i for i in candidates if areas_of[i] & set(areas))
            rows.append({"meeting_no": int(m.meeting_no), "year": int(m.year),
                         "theme_en": m.theme_en if pd.notna(m.theme_en) else pd.NA,
                         "unofficial": bool(m.theme_en_unofficial), "focus_groups": tuple(m.focus_groups),
                         "topic": topic, "areas": areas, "indicator_ids": ids, "n_indicators": len(ids)})
    return pd.DataFrame(rows)


def themes_without_data(coverage: pd.DataFrame) -> pd.DataFrame:
    """The topics the data cannot speak to, by area (topics no rule finds under their own text), with the
    meetings (years) that named them, in order of first mention."""
    gaps = coverage.loc[(coverage["n_indicators"] == 0) & (coverage["topic"] != "")]
    found: dict[str, dict] = {}
    for rec in gaps.itertuples():
        key = "/".join(rec.areas) or rec.topic
        label = " and ".join(AREA_LABELS.get(a, a.replace("_", " ")) for a in rec.areas) or rec.topic
        entry = found.setdefault(key, {"area": key, "label": label, "topics": [], "years": []})
        entry["topics"] += [rec.topic] if rec.topic not in entry["topics"] else []
        entry["years"] += [rec.year] if rec.year not in entry["years"] else []
    return pd.DataFrame([{**e, "topics": tuple(e["topics"]), "years": tuple(sorted(e["years"]))}
                         for e in found.values()], columns=["area", "label", "topics", "years"])
