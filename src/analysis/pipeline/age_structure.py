"""Population by 5-year age group (WPP 2019), built into the store for the pyramids and the ageing
analysis: presentation never reads raw files.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analysis.config import tables
from analysis.config.catalogue import Catalogue
from analysis.config.registry import Registry
from analysis.core.errors import InputError

TABLE = "age_structure"

#: the WPP 2019 files of population by 5-year age group (both sexes), one per country
AGE_FILES = "wpp2019/population--by--country-"


AGE_DIM = "age5yearinterval"


#: the catalogue indicator whose files are the age-group files and whose ``projection_from`` dates
#: the WPP projections
WPP_REFERENCE_INDICATOR = "pop_65plus_wpp"


def age_group_id(label: str) -> str:
    """Indicator-style id of a WPP age group label (``15_19`` -> ``pop_age_15_19``), as charts.pyramid reads."""
    return f"pop_age_{label}"


def age_structure_from_raw(raw: pd.DataFrame, m49_to_iso3: dict[str, str], projection_from: int,
                           vintage: str, years: Iterable[int] | None = None,
                           source_id: str = "wpp2019") -> pd.DataFrame:
    """Tidy age structure in the declared ``age_structure`` layout (indicator_id = ``pop_age_<group>``,
    value in thousands of persons).

    ``raw`` is the parser's raw long frame of a WPP population-by-age file (``geo`` = M49 code).
    Rows of economies not in ``m49_to_iso3`` are dropped (only the focus files are read anyway).
    """
    if AGE_DIM not in raw.columns:
        raise InputError("WPP age structure", f"missing column {AGE_DIM!r}")
    frame = raw.loc[raw["geo"].astype(str).isin(list(m49_to_iso3))]
    if years is not None:
        frame = frame.loc[frame["year"].isin(list(years))]
    return tables.conform(TABLE, pd.DataFrame({
        "iso3": frame["geo"].astype(str).map(m49_to_iso3),
        "year": frame["year"],
        "indicator_id": frame[AGE_DIM].astype(str).map(age_group_id),
        "value": frame["value"],
        "unit": "thousand persons",
        "source_id": source_id,
        "vintage": vintage,
        "projection": frame["year"] >= projection_from,
    }))


def from_frames(frames: dict[str, pd.DataFrame], registry: Registry, catalogue: Catalogue,
                countries: pd.DataFrame) -> pd.DataFrame:
    """The stored ``age_structure`` table: population by 5-year age group for the focus countries.

    Built from the WPP age-group files the catalogue already reads (parsed once by the build).
    Projection rows (from the catalogue's ``projection_from``, 2021 for WPP 2019) are flagged.
    """
    if WPP_REFERENCE_INDICATOR not in catalogue:
        return tables.empty_frame(TABLE)
    focus = countries.loc[countries["focus"].astype(bool) & countries["m49"].notna()]
    m49_to_iso3 = {str(int(m)): str(i) for m, i in zip(focus["m49"], focus["iso3"], strict=True)}
    reference = catalogue[WPP_REFERENCE_INDICATOR]
    projection_from = reference.projection_from or 10_000
    parts = []
    # Only the files the reference indicator reads: copies registered under other ids (benchmark
    # growth inputs, a second vintage) must not add the same country twice.
    for file_id in sorted(reference.file_ids):
        raw = frames.get(file_id)
        if raw is None or not file_id.startswith(AGE_FILES) or AGE_DIM not in file_id:
            continue
        m49 = file_id.removeprefix(AGE_FILES).split("--")[0]
        if m49 in m49_to_iso3:
            parts.append(age_structure_from_raw(raw, m49_to_iso3, projection_from,
                                                registry.vintage_of(registry.file(file_id))))
    if not parts:
        return tables.empty_frame(TABLE)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(list(tables.table(TABLE).sort_by), kind="stable").reset_index(drop=True)
