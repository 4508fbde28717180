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
                   "focus_groups", "topics", "source_url", "confidence")


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
