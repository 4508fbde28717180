"""The ASEAN-Japan High Level Officials Meetings on Caring Societies, and indicators beside them.

``load_meetings`` and ``load_instruments`` read the compiled reference tables in
``data/raw/references/`` (one citation per row). Meetings whose theme was not found stay in the table
as gaps (``theme_found`` is False): they are shown as gaps, never guessed.

``change_since_meeting`` lines up each indicator's value around a meeting year with its latest value.
This is **co-movement, not effect**: the meetings are exchanges of experience among officials, many
other things changed over the same years, and nothing here identifies what a meeting caused. The
numbers say how an indicator moved after a meeting on a related theme, nothing more.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from . import paths
from .errors import InputError

FOCUS_GROUPS: tuple[str, ...] = (
    "older_persons", "children", "mothers", "persons_with_disabilities",
    "poor_and_vulnerable", "working_age", "whole_population",
)

MEETING_COLUMNS = ("meeting_no", "year", "year_basis", "dates", "city", "theme", "theme_language",
                   "focus_groups", "topics", "source_url", "confidence")
INSTRUMENT_COLUMNS = ("date", "instrument", "focus_groups", "source_url")
YEAR_BASIS = ("stated", "inferred")

#: how far (in years) a baseline may sit from the meeting year before it is reported as missing
DEFAULT_TOLERANCE = 2


def _read_reference(path: Path, columns: Iterable[str]) -> pd.DataFrame:
    name = paths.relative_to_root(path)
    try:
        frame = pd.read_csv(path, dtype="string", keep_default_na=False)
    except FileNotFoundError:
        raise InputError(name, "file not found") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(name, f"missing column(s) {missing}", row=1)
    return frame


def _split_groups(value: str, file: str, row: int) -> tuple[str, ...]:
    groups = tuple(g.strip() for g in str(value).split(";") if g.strip())
    unknown = [g for g in groups if g not in FOCUS_GROUPS]
    if unknown:
        raise InputError(file, f"unknown focus group(s) {unknown}; allowed: {list(FOCUS_GROUPS)}",
                         row=row, rule="focus_groups vocabulary")
    return groups


def _blank_to_na(series: pd.Series) -> pd.Series:
    return series.str.strip().replace("", pd.NA)


def load_meetings(path: Path | None = None) -> pd.DataFrame:
    """The meetings, one row each, from ``meeting_themes.csv``.

    Keeps ``year_basis`` (stated / inferred) and ``confidence`` as given. Adds ``theme_found`` (False
    for the meetings whose theme could not be found: the gaps) and ``focus_groups`` as a tuple.
    Errors name the file and the row (header = row 1).
    """
    path = Path(path or paths.references_dir() / "meeting_themes.csv")
    name = paths.relative_to_root(path)
    frame = _read_reference(path, MEETING_COLUMNS)
    numbers, years, groups = [], [], []
    for i, rec in enumerate(frame.itertuples(index=False), start=2):
        try:
            numbers.append(int(rec.meeting_no))
            years.append(int(rec.year))
        except ValueError:
            raise InputError(name, f"meeting_no and year must be integers, got "
                                   f"{rec.meeting_no!r}, {rec.year!r}", row=i) from None
        if rec.year_basis not in YEAR_BASIS:
            raise InputError(name, f"year_basis must be one of {list(YEAR_BASIS)}, got {rec.year_basis!r}",
                             row=i)
        groups.append(_split_groups(rec.focus_groups, name, i))
    out = frame.assign(
        meeting_no=pd.array(numbers, dtype="int64"),
        year=pd.array(years, dtype="int64"),
        focus_groups=pd.Series(groups, index=frame.index, dtype="object"),
        theme=_blank_to_na(frame["theme"]),
        theme_language=_blank_to_na(frame["theme_language"]),
        dates=_blank_to_na(frame["dates"]),
        city=_blank_to_na(frame["city"]),
        topics=_blank_to_na(frame["topics"]),
        source_url=_blank_to_na(frame["source_url"]),
    )
    out = out.assign(theme_found=out["theme"].notna())
    if out["meeting_no"].duplicated().any():
        dup = int(out.loc[out["meeting_no"].duplicated(), "meeting_no"].iloc[0])
        raise InputError(name, f"meeting_no {dup} appears twice", rule="unique meeting_no")
    return out.sort_values("meeting_no", kind="stable").reset_index(drop=True)


def meetings_by_focus_group(meetings: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per meeting x focus group (meetings with no focus group recorded are left out)."""
    meetings = load_meetings() if meetings is None else meetings
    long = meetings.loc[:, ["meeting_no", "year", "year_basis", "confidence", "focus_groups"]]
    long = long.explode("focus_groups").rename(columns={"focus_groups": "focus_group"})
    long = long.loc[long["focus_group"].notna()]
    return long.assign(focus_group=long["focus_group"].astype("string")).reset_index(drop=True)


def _parse_partial_date(value: str, file: str, row: int) -> int:
    text = value.strip()
    try:
        year = int(text[:4])
    except ValueError:
        raise InputError(file, f"date must start with a 4-digit year, got {value!r}", row=row) from None
    if len(text) > 4 and text[4] != "-":
        raise InputError(file, f"date must be YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}", row=row)
    return year


def load_instruments(path: Path | None = None) -> pd.DataFrame:
    """Related ASEAN instruments from ``asean_instruments.csv``.

    ``date`` is kept as given (YYYY, YYYY-MM or YYYY-MM-DD: the sources are not all day-precise);
    ``year`` is added; ``focus_groups`` is a tuple (empty for instruments not about a group).
    """
    path = Path(path or paths.references_dir() / "asean_instruments.csv")
    name = paths.relative_to_root(path)
    frame = _read_reference(path, INSTRUMENT_COLUMNS)
    years, groups = [], []
    for i, rec in enumerate(frame.itertuples(index=False), start=2):
        years.append(_parse_partial_date(rec.date, name, i))
        groups.append(_split_groups(rec.focus_groups, name, i))
    out = frame.assign(year=pd.array(years, dtype="int64"),
                       focus_groups=pd.Series(groups, index=frame.index, dtype="object"))
    return out.sort_values(["year", "date"], kind="stable").reset_index(drop=True)


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
        from . import api

        catalogue = api.catalogue()
    id_col = "indicator_id" if "indicator_id" in catalogue.columns else "id"
    for col in ("group", "domain", "better"):
        if col not in catalogue.columns:
            raise InputError("data/indicators.toml", f"catalogue has no `{col}` field")
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


def _nearest_row(frame: pd.DataFrame, year: int, tolerance: int) -> pd.Series | None:
    """Row at ``year`` or the nearest within ``tolerance``; ties go to the earlier (pre-meeting) year."""
    cand = frame.loc[(frame["year"] - year).abs() <= tolerance]
    if cand.empty:
        return None
    order = cand.assign(_d=(cand["year"] - year).abs()).sort_values(["_d", "year"], kind="stable")
    return order.iloc[0]


def _direction(change: float, better: str | None) -> str:
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return "no comparison"
    if better not in ("higher", "lower"):
        return "no judgement"
    if change == 0:
        return "unchanged"
    improved = change > 0 if better == "higher" else change < 0
    return "better" if improved else "worse"


def change_since_meeting(df: pd.DataFrame, meeting_year: int,
                         latest_window: tuple[int, int] | None = None,
                         tolerance: int = DEFAULT_TOLERANCE,
                         better: dict[str, str] | None = None,
                         by: str = "iso3") -> pd.DataFrame:
    """Value around a meeting year and latest value, per ``by`` (country or group) x indicator.

    ``df`` is a long frame with ``by``, ``indicator_id``, ``year``, ``value`` (projection rows, if a
    ``projection`` column is present, are dropped: a projection is not an observed change).
    The baseline is the value in ``meeting_year`` or, failing that, the nearest year within
    ``tolerance`` (ties: the earlier year); ``baseline_flag`` says ``exact``, ``nearest (+/-n)`` or
    ``none within +/-tolerance``. The latest value is the newest year after the baseline year and, when
    ``latest_window = (first, last)`` is given, inside that window. ``better`` maps indicator id to
    ``higher`` / ``lower``; ``direction`` is then ``better`` / ``worse`` / ``unchanged``
    (``no judgement`` when the catalogue gives no direction, ``no comparison`` when a value is missing).

    Co-movement, not effect: the table shows how indicators moved after a meeting on a related
    theme. It does not say the meeting caused the movement.
    """
    for col in (by, "indicator_id", "year", "value"):
        if col not in df.columns:
            raise InputError("change_since_meeting input", f"missing column {col!r}")
    better = better or {}
    data = df.loc[df["value"].notna()]
    if "projection" in data.columns:
        data = data.loc[~data["projection"].fillna(False).astype(bool)]
    rows = []
    for (key, ind), frame in data.groupby([by, "indicator_id"], sort=True):
        base = _nearest_row(frame, meeting_year, tolerance)
        row = {by: key, "indicator_id": ind, "meeting_year": meeting_year,
               "baseline_year": math.nan, "baseline_value": math.nan,
               "baseline_flag": f"none within +/-{tolerance}",
               "latest_year": math.nan, "latest_value": math.nan}
        if base is not None:
            offset = int(base["year"]) - meeting_year
            row.update(baseline_year=int(base["year"]), baseline_value=float(base["value"]),
                       baseline_flag="exact" if offset == 0 else f"nearest ({offset:+d})")
            later = frame.loc[frame["year"] > base["year"]]
            if latest_window is not None:
                lo, hi = latest_window
                later = later.loc[(later["year"] >= lo) & (later["year"] <= hi)]
            if not later.empty:
                last = later.sort_values("year").iloc[-1]
                row.update(latest_year=int(last["year"]), latest_value=float(last["value"]))
        rows.append(row)
    cols = [by, "indicator_id", "meeting_year", "baseline_year", "baseline_value", "baseline_flag",
            "latest_year", "latest_value", "change", "annualised_change", "better", "direction"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    span = out["latest_year"] - out["baseline_year"]
    change = out["latest_value"] - out["baseline_value"]
    out = out.assign(
        baseline_year=out["baseline_year"].astype("Int64"),
        latest_year=out["latest_year"].astype("Int64"),
        change=change,
        annualised_change=change / span,
        better=out["indicator_id"].map(lambda i: better.get(i)).astype("string"),
    )
    out = out.assign(direction=[_direction(c, better.get(i)) for c, i in zip(out["change"], out["indicator_id"])])
    return out.loc[:, cols]


def change_since_meeting_aggregate(aggregates: pd.DataFrame, meeting_year: int, group: str = "ASEAN",
                                   statistic: str = "median",
                                   latest_window: tuple[int, int] | None = None,
                                   tolerance: int = DEFAULT_TOLERANCE,
                                   better: dict[str, str] | None = None) -> pd.DataFrame:
    """``change_since_meeting`` for a group aggregate (``aggregates.parquet`` layout).

    Uses the ``statistic`` column (``median`` or ``weighted_mean``) of the rows of ``group``; rows with
    ``coverage_ok`` False are dropped (too few countries reported that year to call it the group's
    value), so the baseline or the latest year may move to a year with enough coverage.
    Co-movement, not effect (see ``change_since_meeting``).
    """
    for col in ("group", "indicator_id", "year", statistic):
        if col not in aggregates.columns:
            raise InputError("aggregates", f"missing column {col!r}")
    rows = aggregates.loc[aggregates["group"] == group]
    if "coverage_ok" in rows.columns:
        rows = rows.loc[rows["coverage_ok"].fillna(False).astype(bool)]
    rows = rows.assign(value=rows[statistic])
    return change_since_meeting(rows, meeting_year, latest_window=latest_window, tolerance=tolerance,
                                better=better, by="group")


# ------------------------------------------------------------------ per focus group, from the store

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
                           tolerance: int = DEFAULT_TOLERANCE, aggregate_group: str = "ASEAN",
                           statistic: str = "median",
                           directional_only: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Change since ``meeting_year`` of the group's related indicators: (by country, group aggregate).

    Countries are the focus 14; the aggregate is the stored ``aggregate_group`` statistic (see
    ``change_since_meeting_aggregate``). Indicator titles and units are added from the catalogue.
    ``directional_only`` keeps indicators whose catalogue ``better`` is higher or lower (drops context
    series such as population counts). Co-movement, not effect: the indicators moved alongside the meetings; nothing here says why.
    """
    from . import api, store

    catalogue = api.catalogue()
    ids = [i for i in indicators_for_focus_group(group, catalogue) if i in store.indicator_ids()]
    better = {str(i): str(b) for i, b in zip(catalogue["indicator_id"], catalogue["better"])}
    if directional_only:
        ids = [i for i in ids if better.get(i) in ("higher", "lower")]
    meta = catalogue.loc[:, ["indicator_id", "title", "unit"]]
    if not ids:
        empty = change_since_meeting(pd.DataFrame(columns=["iso3", "indicator_id", "year", "value"]), meeting_year)
        return empty, empty.rename(columns={"iso3": "group"})
    data = api.load(ids, countries="FOCUS", include_projections=False, names=False)
    by_country = change_since_meeting(data, meeting_year, latest_window, tolerance, better)
    names = api.countries().loc[:, ["iso3", "name"]]
    by_country = by_country.merge(names, on="iso3", how="left").merge(meta, on="indicator_id", how="left")
    aggregates = store.read_table("aggregates")
    aggregates = aggregates.loc[aggregates["indicator_id"].isin(ids)]
    agg = change_since_meeting_aggregate(aggregates, meeting_year, aggregate_group, statistic, latest_window,
                                         tolerance, better)
    agg = agg.merge(meta, on="indicator_id", how="left")
    order = {i: k for k, i in enumerate(ids)}
    by_country = by_country.assign(_o=by_country["indicator_id"].map(order)).sort_values(["_o", "iso3"])
    agg = agg.assign(_o=agg["indicator_id"].map(order)).sort_values("_o")
    return by_country.drop(columns="_o").reset_index(drop=True), agg.drop(columns="_o").reset_index(drop=True)


def direction_counts(by_country: pd.DataFrame) -> pd.DataFrame:
    """Per indicator: how many countries moved in the better / worse direction, or cannot be compared."""
    if by_country.empty:
        return pd.DataFrame(columns=["indicator_id", "better", "worse", "unchanged", "no judgement",
                                     "no comparison"])
    counts = pd.crosstab(by_country["indicator_id"], by_country["direction"])
    for col in ("better", "worse", "unchanged", "no judgement", "no comparison"):
        if col not in counts.columns:
            counts[col] = 0
    order = list(dict.fromkeys(by_country["indicator_id"]))
    counts = counts.reindex(order).loc[:, ["better", "worse", "unchanged", "no judgement", "no comparison"]]
    counts.columns.name = None
    return counts.reset_index()
