"""Population by 5-year age group (WPP 2019), built into the store for the pyramids and the ageing
analysis: presentation never reads raw files.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analysis.config.catalogue import Catalogue
from analysis.config.registry import Registry
from analysis.core.errors import InputError

#: the WPP 2019 files of population by 5-year age group (both sexes), one per country
AGE_FILES = "wpp2019/population--by--country-"


AGE_DIM = "age5yearinterval"


#: the catalogue indicator whose ``projection_from`` dates the WPP projections
WPP_REFERENCE_INDICATOR = "pop_65plus_wpp"


def age_group_id(label: str) -> str:
    """Indicator-style id of a WPP age group label (``15_19`` -> ``pop_age_15_19``), as charts.pyramid reads."""
    return f"pop_age_{label}"


def age_structure_from_raw(raw: pd.DataFrame, m49_to_iso3: dict[str, str], projection_from: int,
                           vintage: str, years: Iterable[int] | None = None,
                           source_id: str = "wpp2019") -> pd.DataFrame:
    """Tidy age structure (iso3, year, indicator_id = ``pop_age_<group>``, value in thousands, ...).

    ``raw`` is the parser's raw long frame of a WPP population-by-age file (``geo`` = M49 code).
    Rows of economies not in ``m49_to_iso3`` are dropped (only the focus files are read anyway).
    """
    if AGE_DIM not in raw.columns:
        raise InputError("WPP age structure", f"missing column {AGE_DIM!r}")
    frame = raw.loc[raw["geo"].astype(str).isin(list(m49_to_iso3))]
    if years is not None:
        frame = frame.loc[frame["year"].isin(list(years))]
    return pd.DataFrame({
        "iso3": frame["geo"].astype(str).map(m49_to_iso3).astype("string"),
        "year": frame["year"].astype("int64"),
        "indicator_id": frame[AGE_DIM].astype(str).map(age_group_id).astype("string"),
        "value": frame["value"].astype("float64"),
        "unit": "thousand persons",
        "source_id": source_id,
        "vintage": vintage,
        "projection": frame["year"] >= projection_from,
    }).reset_index(drop=True)


def from_frames(frames: dict[str, pd.DataFrame], registry: Registry, catalogue: Catalogue,
                countries: pd.DataFrame) -> pd.DataFrame:
    """The stored ``age_structure`` table: population by 5-year age group for the focus countries.

    Built from the WPP age-group files the catalogue already reads (parsed once by the build).
    Projection rows (from the catalogue's ``projection_from``, 2021 for WPP 2019) are flagged.
    """
    focus = countries.loc[countries["focus"].astype(bool) & countries["m49"].notna()]
    m49_to_iso3 = {str(int(m)): str(i) for m, i in zip(focus["m49"], focus["iso3"])}
    projection_from = (catalogue[WPP_REFERENCE_INDICATOR].projection_from
                       if WPP_REFERENCE_INDICATOR in catalogue else None) or 10_000
    parts = []
    for file_id, raw in sorted(frames.items()):
        if not file_id.startswith(AGE_FILES) or AGE_DIM not in file_id:
            continue
        m49 = file_id.removeprefix(AGE_FILES).split("--")[0]
        if m49 in m49_to_iso3:
            parts.append(age_structure_from_raw(raw, m49_to_iso3, projection_from,
                                                registry.vintage_of(registry.file(file_id))))
    if not parts:
        return empty()
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["iso3", "year", "indicator_id"], kind="stable").reset_index(drop=True)


def empty() -> pd.DataFrame:
    return pd.DataFrame({"iso3": pd.Series(dtype="string"), "year": pd.Series(dtype="int64"),
                         "indicator_id": pd.Series(dtype="string"), "value": pd.Series(dtype="float64"),
                         "unit": pd.Series(dtype="string"), "source_id": pd.Series(dtype="string"),
                         "vintage": pd.Series(dtype="string"), "projection": pd.Series(dtype="bool")})
