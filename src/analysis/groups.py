"""Countries and country groups: the economies table, ASEAN by accession date, Plus Three, WB groups.

Every group is data: ASEAN membership and accession dates come from
``data/raw/references/asean_members.csv`` (one citation per row), World Bank regions and income
groups from a World Bank ``Metadata_Country`` file. No ISO3 list is written in code.

Groups understood by :func:`members`:

``ASEAN``       members whose accession date is on or before ``on`` (default: today), so
                Timor-Leste (joined 2025-10-26) counts from that day and Cambodia from 1999-04-30.
``ASEAN10``     the first ten members in order of accession (the composition from the tenth
                accession until the next one); fixed, ``on`` is ignored.
``PLUS_THREE``  rows of the references file with ``grouping == "Plus Three"``.
``ASEAN+3``     ``ASEAN`` as of ``on`` plus ``PLUS_THREE``.
``FOCUS``       every row of the references file (the 14 countries of the analysis), whatever ``on``.
``region:<World Bank region>`` and ``income:<World Bank income group>``, from the countries table.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .errors import InputError

MEMBERS_FILE = "asean_members.csv"
MEMBER_COLUMNS = ("iso3", "m49", "name", "grouping", "joined", "source_url")
GROUPINGS = ("ASEAN", "Plus Three")
GROUP_NAMES = ("ASEAN", "ASEAN10", "PLUS_THREE", "ASEAN+3", "FOCUS")
GEO_SCHEMES = ("iso3", "m49", "ilo")

_ISO3 = re.compile(r"^[A-Z]{3}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Size of the "ASEAN-10" composition: a definition of the group name, not a list of countries.
_ASEAN10_SIZE = 10

# Column spellings of a World Bank Metadata_Country file, and those of
# analysis.parsers.parse_worldbank_api_metadata_country (iso3, name, region, income_group).
_WB_COLUMNS = {
    "Country Code": "iso3", "country_code": "iso3",
    "Region": "wb_region", "region": "wb_region",
    "IncomeGroup": "wb_income_group", "income_group": "wb_income_group",
    "TableName": "wb_name", "table_name": "wb_name", "name": "wb_name",
}


# --------------------------------------------------------------------------------------------
# The references file


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


# --------------------------------------------------------------------------------------------
# The countries table


def wb_economies(wb_country_metadata: pd.DataFrame) -> pd.DataFrame:
    """Economies of a World Bank Metadata_Country frame: iso3, wb_region, wb_income_group, wb_name.

    Rows with an empty Region are World Bank aggregates (regions, income groups, World) and are
    dropped. A ``vintage`` column, if present, is kept.
    """
    frame = wb_country_metadata.rename(columns=_WB_COLUMNS)
    missing = [c for c in ("iso3", "wb_region", "wb_income_group", "wb_name") if c not in frame.columns]
    if missing:
        raise ValueError(f"World Bank country metadata lacks column(s) {missing}; got {list(wb_country_metadata.columns)}")
    keep = ["iso3", "wb_region", "wb_income_group", "wb_name"] + (["vintage"] if "vintage" in frame.columns else [])
    frame = frame.loc[:, keep].astype("string").apply(lambda s: s.str.strip())
    frame = frame.mask(frame == "", pd.NA)
    return frame.loc[frame["wb_region"].notna()].reset_index(drop=True)


def metadata_differences(wb_country_metadata: pd.DataFrame) -> pd.DataFrame:
    """Where World Bank metadata vintages disagree: iso3, field, vintage, value (one row per value).

    Takes the concatenation of several Metadata_Country files with a ``vintage`` column (the
    World Bank revises regions every few years and income groups every July; names change too).
    """
    econ = wb_economies(wb_country_metadata)
    if "vintage" not in econ.columns:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in ("iso3", "field", "vintage", "value")})
    long = econ.melt(id_vars=["iso3", "vintage"], value_vars=["wb_region", "wb_income_group", "wb_name"],
                     var_name="field", value_name="value").drop_duplicates()
    n_values = long.assign(v=long["value"].fillna("")).groupby(["iso3", "field"])["v"].transform("nunique")
    out = long.loc[n_values > 1, ["iso3", "field", "vintage", "value"]]
    return out.sort_values(["iso3", "field", "vintage"]).reset_index(drop=True).astype("string")


def _latest_vintage(econ: pd.DataFrame) -> pd.DataFrame:
    """One row per economy: the newest vintage's classification (vintages are ISO dates, so sortable).

    Between files of the same vintage the one given last wins (stable sort), so the result is
    deterministic for a fixed input order.
    """
    if "vintage" not in econ.columns:
        return econ.drop_duplicates("iso3", keep="last")
    return econ.sort_values(["iso3", "vintage"], kind="stable").drop_duplicates("iso3", keep="last")


def build_countries(wpp_country_entities: pd.DataFrame, wb_country_metadata: pd.DataFrame,
                    members: pd.DataFrame) -> pd.DataFrame:
    """The economies table: the union of World Bank economies and WPP countries.

    Columns: iso3, name, m49 (Int64), wb_region, wb_income_group, asean_joined (ISO date string
    or <NA>), plus_three (bool), focus (bool), in_wb (bool), in_wpp (bool), wb_metadata_note.

    ``name`` is the references file's name for the 14 focus countries, else the World Bank
    ``TableName``, else the WPP name. When ``wb_country_metadata`` holds several vintages (a
    ``vintage`` column), the newest gives region and income group and ``wb_metadata_note`` says
    what older vintages said differently (e.g. the 2024 region split of the Middle East).
    """
    wpp = (wpp_country_entities.loc[:, ["country", "name", "iso3"]].astype("string")
           .apply(lambda s: s.str.strip())
           .rename(columns={"country": "m49", "name": "wpp_name"}))
    wpp = wpp.loc[wpp["iso3"].fillna("") != ""]
    wpp = wpp.assign(m49=pd.to_numeric(wpp["m49"], errors="coerce").astype("Int64"))
    econ = wb_economies(wb_country_metadata)
    notes = _difference_notes(metadata_differences(wb_country_metadata))
    wb = _latest_vintage(econ).drop(columns="vintage", errors="ignore")

    table = wb.merge(wpp, on="iso3", how="outer", indicator=True)
    table = table.assign(in_wb=table["_merge"] != "right_only", in_wpp=table["_merge"] != "left_only")
    table = table.drop(columns="_merge").merge(notes, on="iso3", how="left")
    ref = members.loc[:, ["iso3", "m49", "name", "grouping", "joined"]].rename(
        columns={"m49": "ref_m49", "name": "ref_name"})
    table = table.merge(ref, on="iso3", how="outer")
    # A focus country missing from both metadata files still belongs in the table.
    table = table.assign(
        name=table["ref_name"].fillna(table["wb_name"]).fillna(table["wpp_name"]).astype("string"),
        m49=table["m49"].fillna(table["ref_m49"]).astype("Int64"),
        asean_joined=table["joined"].where(table["grouping"] == "ASEAN").astype("string"),
        plus_three=(table["grouping"] == "Plus Three").fillna(False).astype(bool),
        focus=table["grouping"].notna().astype(bool),
        in_wb=table["in_wb"].fillna(False).astype(bool),
        in_wpp=table["in_wpp"].fillna(False).astype(bool),
    )
    columns = ["iso3", "name", "m49", "wb_region", "wb_income_group", "asean_joined", "plus_three",
               "focus", "in_wb", "in_wpp", "wb_name", "wpp_name", "wb_metadata_note"]
    table = table.loc[:, columns].astype({c: "string" for c in
                                          ("iso3", "name", "wb_region", "wb_income_group", "wb_name",
                                           "wpp_name", "wb_metadata_note")})
    return table.sort_values("iso3").reset_index(drop=True)


def _difference_notes(diffs: pd.DataFrame) -> pd.DataFrame:
    """iso3 -> "wb_region: A (2023-03-01) / B (2025-07-01); ..." for the countries table."""
    if diffs.empty:
        return pd.DataFrame({"iso3": pd.Series(dtype="string"), "wb_metadata_note": pd.Series(dtype="string")})
    item = diffs["value"].fillna("(none)") + " (" + diffs["vintage"] + ")"
    per_field = (diffs.assign(item=item).groupby(["iso3", "field"], sort=True)["item"]
                 .agg(" / ".join).reset_index())
    per_field = per_field.assign(text=per_field["field"] + ": " + per_field["item"])
    return (per_field.groupby("iso3", sort=True)["text"].agg("; ".join)
            .rename("wb_metadata_note").reset_index())


# --------------------------------------------------------------------------------------------
# Mapping source geo codes


def to_iso3(frame: pd.DataFrame, countries: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map ``geo`` codes (per ``geo_scheme``) to the ISO3 of an economy in ``countries``.

    ``iso3`` codes are matched as upper case, ``ilo`` codes (lower-case ISO3, ``x..`` aggregates)
    are upper-cased, ``m49`` codes are matched numerically (so ``"004"`` and ``"4"`` agree).
    Returns ``(mapped, unmapped)``: the rows that map to an economy with an ``iso3`` column
    added (order kept), and a table geo, geo_scheme, rows of the codes that did not map
    (source aggregates such as ``EAS`` or ``x84``, or codes unknown to the countries table).
    """
    unknown = sorted(set(frame["geo_scheme"].dropna().unique()) - set(GEO_SCHEMES))
    if unknown or frame["geo_scheme"].isna().any():
        raise ValueError(f"geo_scheme must be one of {GEO_SCHEMES}; found {unknown or ['<NA>']}")
    geo = frame["geo"].astype("string").str.strip()
    scheme = frame["geo_scheme"].astype("string")
    economies = countries["iso3"].astype("string")
    by_m49 = (countries.loc[countries["m49"].notna(), ["m49", "iso3"]]
              .drop_duplicates("m49").set_index("m49")["iso3"].astype("string"))

    as_code = geo.str.upper()
    as_m49 = pd.to_numeric(geo.where(scheme == "m49").where(geo.str.fullmatch(r"\d+")), errors="coerce")
    from_m49 = as_m49.astype("Int64").map(by_m49)
    iso3 = as_code.where(scheme != "m49", from_m49.astype("string"))
    iso3 = iso3.where(iso3.isin(economies.to_numpy()))

    ok = iso3.notna().to_numpy(dtype=bool)
    mapped = frame.loc[ok].assign(iso3=iso3[ok].astype("string"))
    unmapped = (pd.DataFrame({"geo": geo[~ok], "geo_scheme": scheme[~ok]})
                .groupby(["geo_scheme", "geo"], dropna=False).size().rename("rows").reset_index()
                .loc[:, ["geo", "geo_scheme", "rows"]])
    return mapped, unmapped.astype({"rows": "int64"}).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Groups


def _as_date(on: str | date | datetime | pd.Timestamp | None) -> pd.Timestamp:
    if on is None:
        return pd.Timestamp(date.today())
    try:
        return pd.Timestamp(on).normalize()
    except (ValueError, TypeError):
        raise ValueError(f"`on` must be an ISO date (YYYY-MM-DD) or a date; got {on!r}") from None


def _members_frame(countries: pd.DataFrame | None) -> pd.DataFrame:
    """ASEAN / Plus Three rows as (iso3, grouping, joined): from the countries table or the file."""
    if countries is not None and {"asean_joined", "plus_three", "focus"} <= set(countries.columns):
        focus = countries.loc[countries["focus"].astype(bool)]
        grouping = np.where(focus["plus_three"].astype(bool), "Plus Three",
                            np.where(focus["asean_joined"].notna(), "ASEAN", ""))
        return pd.DataFrame({"iso3": focus["iso3"].to_numpy(), "grouping": grouping,
                             "joined": focus["asean_joined"].to_numpy()})
    return load_members().loc[:, ["iso3", "grouping", "joined"]]


def _countries_table(countries: pd.DataFrame | None) -> pd.DataFrame:
    if countries is not None:
        return countries
    from .store import read_table  # late import: the store needs groups only for info

    return read_table("countries")


def members(group: str, *, on: str | date | None = None, countries: pd.DataFrame | None = None) -> list[str]:
    """Sorted ISO3 codes of ``group`` (see the module docstring for the names understood).

    ``on`` dates the ASEAN composition (default today). ``countries`` is the countries table;
    it is needed for ``region:`` / ``income:`` groups (read from the store when omitted) and is
    otherwise optional (the references file is read instead).
    """
    key = group.strip()
    if ":" in key:
        return _wb_group(key, _countries_table(countries))
    canonical = _canonical_group(key)
    if canonical is None:
        raise ValueError(f"unknown group {group!r}; use one of {', '.join(GROUP_NAMES)}, "
                         "region:<World Bank region> or income:<World Bank income group>")
    ref = _members_frame(countries)
    asean = ref.loc[ref["grouping"] == "ASEAN"]
    joined = pd.to_datetime(asean["joined"], format="%Y-%m-%d")
    plus_three = ref.loc[ref["grouping"] == "Plus Three"]
    if canonical == "ASEAN":
        chosen = asean.loc[(joined <= _as_date(on)).to_numpy()]
    elif canonical == "ASEAN10":
        if len(joined) < _ASEAN10_SIZE:
            raise ValueError(f"ASEAN10 needs at least {_ASEAN10_SIZE} ASEAN members in the references; "
                             f"found {len(joined)}")
        cutoff = joined.sort_values().iloc[_ASEAN10_SIZE - 1]
        chosen = asean.loc[(joined <= cutoff).to_numpy()]
    elif canonical == "PLUS_THREE":
        chosen = plus_three
    elif canonical == "ASEAN+3":
        chosen = pd.concat([asean.loc[(joined <= _as_date(on)).to_numpy()], plus_three])
    else:
        chosen = ref
    return sorted(chosen["iso3"].astype(str).tolist())


_GROUP_ALIASES = {
    "ASEAN": "ASEAN", "ASEAN10": "ASEAN10", "PLUSTHREE": "PLUS_THREE", "+3": "PLUS_THREE",
    "ASEAN+3": "ASEAN+3", "ASEANPLUSTHREE": "ASEAN+3", "APT": "ASEAN+3", "FOCUS": "FOCUS",
}


def _canonical_group(name: str) -> str | None:
    """The canonical group name for spellings such as "ASEAN-10", "Plus Three", "asean+3"."""
    return _GROUP_ALIASES.get(re.sub(r"[\s_\-]", "", name.upper()))


def _wb_group(key: str, table: pd.DataFrame) -> list[str]:
    kind, _, value = key.partition(":")
    value = value.strip()
    column = {"region": "wb_region", "income": "wb_income_group"}.get(kind.strip().lower())
    if column is None:
        raise ValueError(f"unknown group kind {kind!r}: use region:<World Bank region> or income:<income group>")
    values = set(table[column].dropna().astype(str))
    if value not in values:
        raise ValueError(f"no {column} {value!r}; known: {', '.join(sorted(values))}")
    return sorted(table.loc[(table[column] == value).fillna(False).to_numpy(dtype=bool), "iso3"].astype(str))


def is_group(name: str) -> bool:
    """True when ``name`` is a group name (or ``region:`` / ``income:`` group) rather than a country code."""
    return ":" in name or _canonical_group(name) is not None


def display_order(countries: pd.DataFrame | None = None) -> list[str]:
    """The fixed chart order of the 14: ASEAN members by name, then Plus Three by name."""
    ref = _members_frame(countries)
    names = country_names(countries)
    ref = ref.assign(name=ref["iso3"].map(names), plus=(ref["grouping"] == "Plus Three"))
    return ref.sort_values(["plus", "name"])["iso3"].astype(str).tolist()


def country_names(countries: pd.DataFrame | None = None, iso3: list[str] | None = None) -> dict[str, str]:
    """ISO3 -> display name: from the countries table if given, else the references file (the 14)."""
    if countries is not None:
        table = countries.loc[:, ["iso3", "name"]]
    else:
        table = load_members().loc[:, ["iso3", "name"]]
    names = dict(zip(table["iso3"].astype(str), table["name"].astype(str)))
    if iso3 is None:
        return names
    return {code: names.get(code, code) for code in iso3}
