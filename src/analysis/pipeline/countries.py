"""The economies table and the mapping of source geo codes to ISO3.

World Bank regions and income groups come from a World Bank ``Metadata_Country`` file, country
codes from the WPP entities file, ASEAN and Plus Three membership from the references table. No
ISO3 list is written in code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GEO_SCHEMES = ("iso3", "m49", "ilo")

# Column spellings of a World Bank Metadata_Country file, and those of
# analysis.pipeline.parsers.parse_worldbank_api_metadata_country (iso3, name, region, income_group).
_WB_COLUMNS = {
    "Country Code": "iso3", "country_code": "iso3",
    "Region": "wb_region", "region": "wb_region",
    "IncomeGroup": "wb_income_group", "income_group": "wb_income_group",
    "TableName": "wb_name", "table_name": "wb_name", "name": "wb_name",
}


def wb_economies(wb_country_metadata: pd.DataFrame) -> pd.DataFrame:
    """Economies of a World Bank Metadata_Country frame: iso3, wb_region, wb_income_group, wb_name.

    Rows with an empty Region are World Bank aggregates (regions, income groups, World) and are
    dropped. A ``vintage`` column, if present, is kept.
    """
    frame = wb_country_metadata.rename(columns=_WB_COLUMNS)
    missing = [c for c in ("iso3", "wb_region", "wb_income_group", "wb_name") if c not in frame.columns]
    if missing:
        raise ValueError(f"World Bank country metadata lacks column(s) {missing}; "
                         f"got {list(wb_country_metadata.columns)}")
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


def to_iso3(frame: pd.DataFrame, countries: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map ``geo`` codes (per ``geo_scheme``) to the ISO3 of an economy in ``countries``.

    ``iso3`` codes are matched as upper case, ``ilo`` codes (lower-case ISO3, ``x..`` aggregates)
    are upper-cased, ``m49`` codes are matched numerically (so ``"004"`` and ``"4"`` agree).
    Returns ``(mapped, unmapped)``: the rows that map to an economy with an ``iso3`` column
    added (order kept), and a table geo, geo_scheme, rows of the codes that did not map
    (source aggregates such as ``EAS`` or ``x84``, or codes unknown to the countries table).
    """
    iso3, unmapped = iso3_of_rows(frame, countries)
    ok = iso3.notna().to_numpy(dtype=bool)
    return frame.loc[ok].assign(iso3=iso3[ok]), unmapped


def iso3_of_rows(frame: pd.DataFrame, countries: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """The ISO3 of each row of ``frame`` (``<NA>`` where its code is not an economy), and the unmapped
    table of :func:`to_iso3`.

    Each distinct (geo_scheme, geo) pair is mapped once and the result spread to the rows by position:
    a few thousand codes stand for millions of rows, so no per-row string is built on the way.
    """
    unknown = sorted(set(frame["geo_scheme"].dropna().unique()) - set(GEO_SCHEMES))
    if unknown or frame["geo_scheme"].isna().any():
        raise ValueError(f"geo_scheme must be one of {GEO_SCHEMES}; found {unknown or ['<NA>']}")
    codes, pairs = _distinct_pairs(frame["geo_scheme"], frame["geo"])
    iso3 = _iso3_of_codes(pairs["geo"].astype("string").str.strip(), pairs["geo_scheme"].astype("string"), countries)
    rows = pd.Series(iso3.to_numpy()[codes], index=frame.index, dtype="string")
    missing = iso3.isna().to_numpy(dtype=bool)
    counts = np.bincount(codes, minlength=len(pairs))
    unmapped = (pd.DataFrame({"geo": pairs["geo"].astype("string").str.strip()[missing],
                              "geo_scheme": pairs["geo_scheme"].astype("string")[missing],
                              "rows": counts[missing].astype("int64")})
                .groupby(["geo_scheme", "geo"], dropna=False)["rows"].sum().reset_index()
                .loc[:, ["geo", "geo_scheme", "rows"]])
    return rows, unmapped.astype({"rows": "int64"}).reset_index(drop=True)


def _distinct_pairs(scheme: pd.Series, geo: pd.Series) -> tuple[np.ndarray, pd.DataFrame]:
    """Per row the position of its (geo_scheme, geo) pair in the table of distinct pairs (first seen first)."""
    scheme_codes, schemes = pd.factorize(scheme)
    geo_codes, geos = pd.factorize(geo, use_na_sentinel=False)
    # One integer per pair: factorizing integers is far cheaper than factorizing pairs of strings.
    codes, combined = pd.factorize(scheme_codes.astype(np.int64) * max(len(geos), 1) + geo_codes)
    pairs = pd.DataFrame({"geo_scheme": pd.Series(schemes, dtype="string").to_numpy()[combined // max(len(geos), 1)],
                          "geo": pd.Series(geos, dtype="string").to_numpy()[combined % max(len(geos), 1)]})
    return codes, pairs.astype("string")


def _iso3_of_codes(geo: pd.Series, scheme: pd.Series, countries: pd.DataFrame) -> pd.Series:
    """ISO3 of each (stripped) code, ``<NA>`` where it names no economy of ``countries``."""
    economies = countries["iso3"].astype("string")
    by_m49 = (countries.loc[countries["m49"].notna(), ["m49", "iso3"]]
              .drop_duplicates("m49").set_index("m49")["iso3"].astype("string"))
    as_code = geo.str.upper()
    as_m49 = pd.to_numeric(geo.where(scheme == "m49").where(geo.str.fullmatch(r"\d+")), errors="coerce")
    from_m49 = as_m49.astype("Int64").map(by_m49)
    iso3 = as_code.where(scheme != "m49", from_m49.astype("string"))
    return iso3.where(iso3.isin(economies.to_numpy())).astype("string")
