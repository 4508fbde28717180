"""The meeting themes beside the indicators: which indicators speak to a focus group, and how they
moved since a meeting year (co-movement, not effect; see :mod:`analysis.rules.change`).
"""

from __future__ import annotations

import pandas as pd

from analysis.config.references import FOCUS_GROUPS, load_meetings, meetings_by_focus_group
from analysis.core import settings
from analysis.rules.change import change_since_meeting, change_since_meeting_aggregate
from analysis.store import api, reader

#: Focus groups of the meetings that are not catalogue groups, and the catalogue rows that stand for
#: them: (catalogue group, domains). ``working_age`` has no indicator set of its own in the catalogue.
_FOCUS_GROUP_RULES: dict[str, tuple[str, tuple[str, ...]] | None] = {
    "poor_and_vulnerable": ("whole_population", ("social_protection", "poverty_and_context")),
    "whole_population": ("whole_population", ("health",)),
    "working_age": None,
}


OLDER_VINTAGE_SUFFIXES = ("_sdg2020", "_wpp", "_wb")


def _is_older_vintage(indicator_id: str, all_ids: set[str]) -> bool:
    """True for an id with an older-vintage suffix whose newer namesake is also in the catalogue."""
    return any(indicator_id.endswith(s) and indicator_id.removesuffix(s) in all_ids
               for s in OLDER_VINTAGE_SUFFIXES)


def indicators_for_focus_group(group: str, catalogue: pd.DataFrame | None = None,
                               include_older_vintages: bool = False) -> list[str]:
    """Indicator ids related to a meeting focus group, in catalogue order.

    Rule: a focus group that is also a catalogue ``group`` (older_persons, children, mothers,
    persons_with_disabilities) takes every indicator of that group. ``poor_and_vulnerable`` takes the
    whole-population indicators of the social-protection and poverty domains that have a direction
    (``better`` is not neutral, so context series such as population are left out);
    ``whole_population`` (the mental-health and UHC meetings) takes the whole-population health
    indicators; ``working_age`` has no indicator set in the catalogue and returns an empty list.
    Older-vintage duplicates (``_sdg2020`` etc. when the newer id exists) are left out unless asked for.
    """
    if group not in FOCUS_GROUPS:
        raise ValueError(f"unknown focus group {group!r}; allowed: {list(FOCUS_GROUPS)}")
    if catalogue is None:
        catalogue = api.catalogue()
    id_col = "indicator_id" if "indicator_id" in catalogue.columns else "id"
    for col in ("group", "domain", "better"):
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
    return [i for i in ids if not _is_older_vintage(i, all_ids)]


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


def change_for_focus_group(group: str, meeting_year: int,
                           latest_window: tuple[int, int] | None = None,
                           tolerance: int = settings.DEFAULT_TOLERANCE, aggregate_group: str = "ASEAN",
                           statistic: str = "median",
                           directional_only: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Change since ``meeting_year`` of the group's related indicators: (by country, group aggregate).

    Countries are the focus 14; the aggregate is the stored ``aggregate_group`` statistic (see
    ``change_since_meeting_aggregate``). Indicator titles and units are added from the catalogue.
    ``directional_only`` keeps indicators whose catalogue ``better`` is higher or lower (drops context
    series such as population counts). Co-movement, not effect: the indicators moved alongside the meetings; nothing here says why.
    """
    catalogue = api.catalogue()
    ids = [i for i in indicators_for_focus_group(group, catalogue) if i in reader.indicator_ids()]
    better = {str(i): str(b) for i, b in zip(catalogue["indicator_id"], catalogue["better"])}
    if directional_only:
        ids = [i for i in ids if better.get(i) in ("higher", "lower")]
    meta = catalogue.loc[:, ["indicator_id", "title", "unit"]]
    if not ids:
        empty = change_since_meeting(pd.DataFrame(columns=["iso3", "indicator_id", "year", "value"]), meeting_year,
                                     tolerance=tolerance)
        return empty, empty.rename(columns={"iso3": "group"})
    data = api.load(ids, countries="FOCUS", include_projections=False, names=False)
    by_country = change_since_meeting(data, meeting_year, latest_window, tolerance=tolerance, better=better)
    names = api.countries().loc[:, ["iso3", "name"]]
    by_country = by_country.merge(names, on="iso3", how="left").merge(meta, on="indicator_id", how="left")
    aggregates = reader.read_table("aggregates")
    aggregates = aggregates.loc[aggregates["indicator_id"].isin(ids)]
    agg = change_since_meeting_aggregate(aggregates, meeting_year, aggregate_group, statistic, latest_window,
                                         tolerance=tolerance, better=better)
    agg = agg.merge(meta, on="indicator_id", how="left")
    order = {i: k for k, i in enumerate(ids)}
    by_country = by_country.assign(_o=by_country["indicator_id"].map(order)).sort_values(["_o", "iso3"])
    agg = agg.assign(_o=agg["indicator_id"].map(order)).sort_values("_o")
    return by_country.drop(columns="_o").reset_index(drop=True), agg.drop(columns="_o").reset_index(drop=True)
