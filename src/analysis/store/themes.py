"""The meeting themes beside the indicators: which indicators speak to a focus group, and how they
moved since a meeting year (co-movement, not effect; see :mod:`analysis.rules.change`).
"""

from __future__ import annotations

import pandas as pd

from analysis.config.references import FOCUS_GROUPS, load_meetings, meetings_by_focus_group
from analysis.core import settings
from analysis.core.settings import DEFAULT_TOLERANCE
from analysis.rules.change import change_since_meeting, change_since_meeting_aggregate, direction_counts
from analysis.store import api, reader

__all__ = ["DEFAULT_TOLERANCE", "FOCUS_GROUPS", "change_for_focus_group", "direction_counts", "focus_group_overview",
           "indicators_for_focus_group", "load_meetings", "meeting_years"]

#: Focus groups of the meetings that are not catalogue groups, and the catalogue rows that stand for
#: them: (catalogue group, domains). ``working_age`` has no indicator set of its own in the catalogue.
_FOCUS_GROUP_RULES: dict[str, tuple[str, tuple[str, ...]] | None] = {
    "poor_and_vulnerable": ("whole_population", ("social_protection", "poverty_and_context")),
    "whole_population": ("whole_population", ("health",)),
    "working_age": None,
}


def _is_other_source(indicator_id: str, concept: str, all_ids: set[str]) -> bool:
    """True for an indicator that measures another catalogue indicator's concept (an older vintage
    or another source of the same thing): the catalogue's ``concept`` names the preferred id."""
    return concept != indicator_id and concept in all_ids


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
    all_ids = set(cat["_id"].dropna().astype(str))
    concept = dict(zip(cat["_id"].astype(str), cat["concept"].astype(str), strict=True))
    return [i for i in ids if not _is_other_source(i, concept[i], all_ids)]


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
