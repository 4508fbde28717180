"""Every figure CSV of an output folder with its chart's metadata, for the one-number-per-concept check.

A chart is a labelled comparison of sources when its JSON says ``"comparison": true`` (top level, or
in ``coverage``, which every chart's JSON carries): only there may one concept, country and year show
two different estimates (analysis.store.series.one_number_problems).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

#: the columns the check reads (every chart CSV has them; group/country tell aggregates apart)
COLUMNS = ("iso3", "country", "group", "indicator_id", "year", "value", "projection")


def is_comparison(meta: dict) -> bool:
    """The marker a chart spec or kind sets on a chart that compares sources on purpose."""
    return meta.get("comparison") is True or (meta.get("coverage") or {}).get("comparison") is True


def figure_rows(folder: Path) -> pd.DataFrame:
    """The rows of every ``*.csv`` under ``folder`` that has a ``.json`` beside it, with ``chart`` (its
    path relative to ``folder``) and ``comparison`` columns."""
    parts = []
    for csv in sorted(Path(folder).rglob("*.csv")):
        meta_file = csv.with_suffix(".json")
        if not meta_file.is_file():
            continue
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        frame = pd.read_csv(csv, dtype={"iso3": "string", "indicator_id": "string", "group": "string",
                                        "country": "string"})
        if frame.empty or not {"indicator_id", "year", "value"} <= set(frame.columns):
            continue
        for col in COLUMNS:
            if col not in frame.columns:
                frame[col] = pd.NA
        frame = frame.loc[:, list(COLUMNS)].assign(chart=csv.relative_to(folder).as_posix(),
                                                  comparison=is_comparison(meta))
        parts.append(frame.astype({"year": "Float64", "value": "float64"}))
    if not parts:
        return pd.DataFrame(columns=[*COLUMNS, "chart", "comparison"])
    out = pd.concat(parts, ignore_index=True)
    out["projection"] = out["projection"].map(lambda v: str(v).strip().lower() == "true").astype(bool)
    return out
