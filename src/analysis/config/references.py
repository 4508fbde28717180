"""The reference tables in ``data/raw/references/``: one validated loader each.

``asean_members.csv`` (ASEAN and Plus Three with accession dates), ``meeting_themes.csv`` (the
ASEAN-Japan High Level Officials Meetings on Caring Societies) and ``asean_instruments.csv``. Each row
carries its citation; a bad row raises :class:`InputError` naming the file and its line (header = 1).
Country order and names for the analysis come from the members table (through the store's
countries table), never from lists in code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core import paths
from analysis.core.errors import InputError

MEMBERS_FILE = "asean_members.csv"


MEMBER_COLUMNS = ("iso3", "m49", "name", "grouping", "joined", "source_url")


GROUPINGS = ("ASEAN", "Plus Three")


_ISO3 = re.compile(r"^[A-Z]{3}$")


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def members_path() -> Path:
    return paths.references_dir() / MEMBERS_FILE


def load_members(path: Path | str | None = None) -> pd.DataFrame:
    """Read and validate the ASEAN / Plus Three references table.

    Returns columns iso3, m49 (Int64), name, grouping, joined (string ISO date, <NA> for Plus
    Three), source_url, all strings as ``string`` dtype. A bad row raises :class:`InputError`
    naming the file and its line number (the header is line 1).
    """
    path = Path(path) if path is not None else members_path()
    shown = paths.relative_to_root(path)
    try:
        raw = pd.read_csv(path, dtype="string", keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(shown, "references file not found (it is part of the repository)") from None
    missing = [c for c in MEMBER_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(shown, f"missing column(s) {', '.join(missing)}", row=1, rule="members_columns")
    frame = raw.loc[:, list(MEMBER_COLUMNS)].apply(lambda s: s.str.strip())
    lines = pd.RangeIndex(2, len(frame) + 2)
    _validate_members(frame, lines, shown)
    return frame.assign(
        m49=pd.to_numeric(frame["m49"]).astype("Int64"),
        joined=frame["joined"].mask(frame["joined"] == "", pd.NA),
    ).reset_index(drop=True)


def _validate_members(frame: pd.DataFrame, lines: pd.RangeIndex, shown: str) -> None:
    """Raise InputError on the first bad row; the checks are vectorised, the message is not."""

    def fail(mask: np.ndarray, rule: str, problem) -> None:
        if mask.any():
            pos = int(np.flatnonzero(mask)[0])
            raise InputError(shown, problem(frame.iloc[pos]), row=int(lines[pos]), rule=rule)

    iso3 = frame["iso3"]
    fail(~iso3.str.fullmatch(_ISO3.pattern).to_numpy(dtype=bool), "iso3_format",
         lambda r: f"iso3 {r['iso3']!r} is not three upper-case letters")
    fail(iso3.duplicated().to_numpy(), "iso3_unique", lambda r: f"iso3 {r['iso3']} listed twice")
    fail(~frame["m49"].str.fullmatch(r"\d{1,3}").to_numpy(dtype=bool), "m49_format",
         lambda r: f"m49 {r['m49']!r} is not a UN M49 number")
    fail(~frame["grouping"].isin(GROUPINGS).to_numpy(dtype=bool), "grouping_known",
         lambda r: f"grouping {r['grouping']!r} is not one of {', '.join(GROUPINGS)}")
    joined = frame["joined"]
    parsed = pd.to_datetime(joined.where(joined.str.fullmatch(_ISO_DATE.pattern)), format="%Y-%m-%d",
                            errors="coerce")
    bad_date = (joined != "") & parsed.isna()
    fail(bad_date.to_numpy(dtype=bool), "joined_date",
         lambda r: f"joined {r['joined']!r} is not an ISO date (YYYY-MM-DD) for {r['iso3']}")
    no_date = (frame["grouping"] == "ASEAN") & (joined == "")
    fail(no_date.to_numpy(dtype=bool), "joined_required",
         lambda r: f"ASEAN member {r['iso3']} has no accession date")
    fail((frame["source_url"] == "").to_numpy(dtype=bool), "source_cited",
         lambda r: f"{r['iso3']} has no source_url")


FOCUS_GROUPS: tuple[str, ...] = (
    "older_persons", "children", "mothers", "persons_with_disabilities",
    "poor_and_vulnerable", "working_age", "whole_population",
)


MEETING_COLUMNS = ("meeting_no", "year", "year_basis", "dates", "city", "theme", "theme_language",
                   "focus_groups", "topics", "source_url", "confidence", "theme_en", "theme_en_basis")

#: How an English title was obtained: the official title (the basis may go on to say where it is
#: quoted) or a translation made for this project.
THEME_EN_BASES = ("official", "unofficial translation")


INSTRUMENT_COLUMNS = ("date", "instrument", "focus_groups", "source_url")


YEAR_BASIS = ("stated", "inferred")


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

    Keeps ``year_basis`` (stated / inferred) and ``confidence`` as given. ``theme_en`` is the English
    title of every found theme; ``theme_en_basis`` starts with "official" or reads "unofficial
    translation"; ``theme_en_unofficial`` is True for the latter. Adds ``theme_found`` (False
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
        _check_theme_en(rec, name, i)
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
        theme_en=_blank_to_na(frame["theme_en"]),
        theme_en_basis=_blank_to_na(frame["theme_en_basis"]),
    )
    out = out.assign(theme_found=out["theme"].notna(),
                     theme_en_unofficial=out["theme_en_basis"].map(theme_en_is_translation).astype(bool))
    if out["meeting_no"].duplicated().any():
        dup = int(out.loc[out["meeting_no"].duplicated(), "meeting_no"].iloc[0])
        raise InputError(name, f"meeting_no {dup} appears twice", rule="unique meeting_no")
    return out.sort_values("meeting_no", kind="stable").reset_index(drop=True)


def _check_theme_en(rec, file: str, row: int) -> None:
    theme, theme_en, basis = (str(v).strip() for v in (rec.theme, rec.theme_en, rec.theme_en_basis))
    if theme and not theme_en:
        raise InputError(file, "theme is given but theme_en (its English title) is empty", row=row,
                         rule="theme_en required")
    if bool(theme_en) != bool(basis):
        raise InputError(file, "theme_en and theme_en_basis must be given together", row=row,
                         rule="theme_en_basis required")
    if basis and not basis.startswith(THEME_EN_BASES):
        raise InputError(file, f"theme_en_basis {basis!r} must start with one of {list(THEME_EN_BASES)}",
                         row=row, rule="theme_en_basis vocabulary")


def theme_en_is_translation(basis: object) -> bool:
    """True when the English title is the project's translation, not an official title."""
    return isinstance(basis, str) and basis.strip().startswith("unofficial translation")


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


# ----------------------------------------------------------------------------- events

EVENTS_FILE = "events.csv"

EVENT_COLUMNS = ("date", "iso3", "kind", "title", "description", "affects", "source_url", "quote", "confidence")

EVENT_KINDS = ("crisis", "reform", "milestone")

#: The indicator areas an event may affect (the ``affects`` column); :data:`AREA_RULES` maps the
#: catalogue's indicators onto the same words.
AFFECTS: tuple[str, ...] = (
    "life_expectancy", "child_mortality", "maternal_health", "population", "pensions", "disability",
    "social_protection", "uhc", "health_financing", "long_term_care",
)

CONFIDENCE_LEVELS = ("high", "medium", "low")

#: ``iso3`` value of an event that concerns every country.
ALL_COUNTRIES = "WLD"

_EVENT_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

#: Which ``affects`` areas an indicator speaks to, the one place the catalogue meets that vocabulary.
#: Rules are tried in order; the first whose catalogue ``group`` and ``domain`` match ("*": any) and
#: whose pattern finds a word of the indicator's ``concept`` (None: any concept) gives the areas.
#: Group and domain decide almost everywhere; only the whole-population health indicators need the
#: concept, because that one cell holds life expectancy, UHC coverage and health spending alike.
AREA_RULES: tuple[tuple[str, str, str | None, tuple[str, ...]], ...] = (
    ("whole_population", "health", r"life_expectancy|hale|^le_", ("life_expectancy",)),
    ("whole_population", "health", r"uhc|physicians|beds", ("uhc",)),
    ("whole_population", "health", r"che|oop|health_exp|catastrophic|surgical", ("health_financing", "uhc")),
    ("older_persons", "health", None, ("life_expectancy",)),
    ("children", "health", None, ("child_mortality",)),
    ("mothers", "health", None, ("maternal_health",)),
    ("mothers", "care", None, ("maternal_health",)),
    ("whole_population", "care", None, ("uhc",)),
    ("older_persons", "care", None, ("long_term_care",)),
    ("older_persons", "social_protection", None, ("pensions", "social_protection")),
    ("persons_with_disabilities", "social_protection", None, ("disability", "social_protection")),
    ("*", "social_protection", None, ("social_protection",)),
    ("persons_with_disabilities", "*", None, ("disability",)),
    ("*", "poverty_and_context", r"^pop_|dependency|fertility", ("population",)),
)


def areas_for(group: str, domain: str, concept: str) -> tuple[str, ...]:
    """The ``affects`` areas of an indicator with this catalogue group, domain and concept (may be ())."""
    for rule_group, rule_domain, pattern, areas in AREA_RULES:
        if rule_group not in ("*", group) or rule_domain not in ("*", domain):
            continue
        if pattern is None or re.search(pattern, concept):
            return areas
    return ()


def events_path() -> Path:
    return paths.references_dir() / EVENTS_FILE


def _event_date(value: str, file: str, row: int) -> tuple[str, int, float]:
    """(precision, year, decimal year of the first day the date covers) of YYYY, YYYY-MM or YYYY-MM-DD."""
    match = _EVENT_DATE.match(value)
    if not match:
        raise InputError(file, f"date {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD", row=row, rule="event_date")
    year, month, day = match.groups()
    precision = "day" if day else "month" if month else "year"
    try:
        stamp = pd.Timestamp(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise InputError(file, f"date {value!r} is not a calendar date", row=row, rule="event_date") from None
    days = 366 if stamp.is_leap_year else 365
    return precision, stamp.year, stamp.year + (stamp.day_of_year - 1) / days


def _event_countries(value: str, file: str, row: int, known: frozenset[str] | None) -> tuple[str, ...]:
    codes = tuple(c.strip() for c in value.split(";") if c.strip())
    if not codes:
        raise InputError(file, "iso3 is empty (use WLD for an event concerning every country)", row=row,
                         rule="event_iso3")
    if ALL_COUNTRIES in codes and len(codes) > 1:
        raise InputError(file, f"iso3 {value!r}: {ALL_COUNTRIES} (every country) cannot be listed with other codes",
                         row=row, rule="event_iso3")
    bad = [c for c in codes if not _ISO3.match(c)]
    if bad:
        raise InputError(file, f"iso3 code(s) {bad} are not three upper-case letters", row=row, rule="event_iso3")
    unknown = [c for c in codes if known is not None and c != ALL_COUNTRIES and c not in known]
    if unknown:
        raise InputError(file, f"iso3 code(s) {unknown} are not economies of the store", row=row, rule="event_iso3")
    if len(set(codes)) != len(codes):
        raise InputError(file, f"iso3 {value!r} lists a code twice", row=row, rule="event_iso3")
    return codes


def _event_affects(value: str, file: str, row: int) -> tuple[str, ...]:
    areas = tuple(a.strip() for a in value.split(";") if a.strip())
    unknown = [a for a in areas if a not in AFFECTS]
    if not areas or unknown:
        raise InputError(file, f"affects {value!r}: give one or more of {list(AFFECTS)} separated by ';'"
                               + (f" (unknown: {unknown})" if unknown else ""), row=row, rule="affects vocabulary")
    return areas


def _event_confidence(value: str, file: str, row: int) -> tuple[str, str]:
    """(level, note) of "high" or "medium; secondary source"."""
    level, _, note = value.partition(";")
    level = level.strip()
    if level not in CONFIDENCE_LEVELS:
        raise InputError(file, f"confidence {value!r} must start with one of {list(CONFIDENCE_LEVELS)}", row=row,
                         rule="confidence vocabulary")
    return level, note.strip()


def _check_event_text(rec, file: str, row: int) -> None:
    if rec.kind not in EVENT_KINDS:
        raise InputError(file, f"kind {rec.kind!r} must be one of {list(EVENT_KINDS)}", row=row, rule="event_kind")
    for column in ("title", "source_url", "quote"):
        if not getattr(rec, column):
            raise InputError(file, f"{column} is empty: every event is named and cited", row=row,
                             rule="event_cited")
    if not rec.source_url.startswith(("http://", "https://")):
        raise InputError(file, f"source_url {rec.source_url!r} is not a web address", row=row, rule="event_cited")


def _event_row(rec, file: str, row: int, known: frozenset[str] | None) -> dict:
    _check_event_text(rec, file, row)
    precision, year, decimal = _event_date(rec.date, file, row)
    level, note = _event_confidence(rec.confidence, file, row)
    return {"date": rec.date, "precision": precision, "year": year, "decimal_year": decimal,
            "iso3": _event_countries(rec.iso3, file, row, known), "kind": rec.kind, "title": rec.title,
            "description": rec.description, "affects": _event_affects(rec.affects, file, row),
            "source_url": rec.source_url, "quote": rec.quote, "confidence": level, "confidence_note": note,
            "line": row}


def load_events(path: Path | str | None = None, *, known_iso3: Iterable[str] | None = None) -> pd.DataFrame:
    """Dated, cited crises, reforms and milestones from ``events.csv``, one row each, in date order.

    ``date`` is kept as given (YYYY, YYYY-MM or YYYY-MM-DD) with its ``precision`` ("year", "month",
    "day"), ``year`` and ``decimal_year`` (the first day the date covers, as a fraction of its year:
    where a chart draws the event). ``iso3`` and ``affects`` become tuples (``("WLD",)``: every
    country); ``confidence`` is split into the level (high / medium / low) and ``confidence_note``.
    ``known_iso3``: when given, every code must be one of them. ``line`` is the row in the file
    (header = 1), which every error names with the rule broken.
    """
    path = Path(path) if path is not None else events_path()
    name = paths.relative_to_root(path)
    frame = _read_reference(path, EVENT_COLUMNS).loc[:, list(EVENT_COLUMNS)].apply(lambda s: s.str.strip())
    known = frozenset(known_iso3) if known_iso3 is not None else None
    rows = [_event_row(rec, name, i, known) for i, rec in enumerate(frame.itertuples(index=False), start=2)]
    out = pd.DataFrame(rows, columns=[*EVENT_COLUMNS[:1], "precision", "year", "decimal_year", *EVENT_COLUMNS[1:],
                                      "confidence_note", "line"])
    dup = out.duplicated(subset=["date", "title"])
    if dup.any():
        first = out.loc[dup].iloc[0]
        raise InputError(name, f"event {first['title']!r} on {first['date']} is listed twice", row=int(first["line"]),
                         rule="event unique")
    text = ["date", "precision", "kind", "title", "description", "source_url", "quote", "confidence",
            "confidence_note"]
    out = out.astype({c: "string" for c in text} | {"year": "int64", "decimal_year": "float64", "line": "int64"})
    return out.sort_values(["decimal_year", "line"], kind="stable").reset_index(drop=True)
