"""Build-level checks and quality flags on population counts split by disability status.

A labour force survey splits the working-age population into persons with and without a disability.
Two rules apply to every such split the catalogue selects (found from the catalogue, never from a
list of countries or years):

* ``total = with + without`` up to rounding; otherwise the file is inconsistent and the build stops
  with an :class:`~analysis.core.errors.InputError` naming the file and line (nothing is written);
* ``with > without`` in a country-year is implausible (disability prevalence above one half): both
  rows are kept but flagged ``suspect`` with the rule as reason. So are the rows of that economy,
  year and sex of the same source's other series by disability status (rates from the same survey
  round rest on the same status variable), and every value derived from any of them. Suspect rows
  stay in the store and are left out of latest values and aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.config.catalogue import Catalogue, Indicator
from analysis.config.registry import Registry
from analysis.core import settings
from analysis.core.errors import InputError

SUSPECT = settings.SUSPECT_FLAG
#: the dims a source uses for disability status, and its codes for with / without / total
STATUS_CODES: dict[str, dict[str, str]] = {
    "classif1": {"dsb_status_dis": "with", "dsb_status_nodis": "without", "dsb_status_total": "total"},
    "disability_status": {"pd": "with", "pwd": "without", "t": "total"},
}
#: Values are published with up to 3 decimals: a sum of three rounded values may be off by 0.0015.
ROUNDING_ABS = 0.002
ROUNDING_REL = 1e-6
WITH_GT_WITHOUT = ("more persons with than without a disability in this economy, year and sex "
                   "(rule: with > without is implausible; likely a labelling error in the source)")
SAME_ROUND = ("same survey round as a population split with more persons with than without a disability "
              "(rule: with > without); the disability status of this round is doubtful")
DERIVED_FROM = "derived from a suspect value: {reason}"


@dataclass(frozen=True)
class StatusSplit:
    """Catalogue ids of one population split by disability status (same file, series and other dims)."""

    with_id: str
    without_id: str
    total_id: str | None
    #: other series of the same source and dims by disability status (e.g. rates of the same survey)
    companions: tuple[str, ...] = ()


def _status(ind: Indicator) -> tuple[str, str] | None:
    for dim, codes in STATUS_CODES.items():
        wanted = ind.select.get(dim)
        if isinstance(wanted, str) and wanted in codes:
            return dim, codes[wanted]
    return None


def _is_count(ind: Indicator) -> bool:
    # Rates of persons with and without a disability are not parts of a whole: only counts add up.
    return not ind.unit.lstrip().startswith("%")


def _other_dims(ind: Indicator, dim: str) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in ind.select.items() if k != dim))


def status_splits(catalogue: Catalogue) -> list[StatusSplit]:
    """Every with/without(/total) triple of selected count indicators the catalogue holds."""
    groups: dict[tuple, dict[str, str]] = {}
    by_status: list[tuple[Indicator, str]] = []
    for ind in catalogue:
        found = None if ind.is_derived else _status(ind)
        if found is None:
            continue
        by_status.append((ind, found[0]))
        if _is_count(ind):
            groups.setdefault((ind.file_ids, ind.code, found[0], _other_dims(ind, found[0])), {})[found[1]] = ind.id
    source_of = {i.id: i.source for i, _ in by_status}
    splits = []
    for (_files, _code, dim, rest), g in groups.items():
        if "with" in g and "without" in g:
            source = source_of[g["with"]]
            companions = tuple(i.id for i, d in by_status if i.source == source and d == dim
                               and _other_dims(i, d) == rest and i.id not in g.values())
            splits.append(StatusSplit(g["with"], g["without"], g.get("total"), companions))
    return splits


def _joined(blocks: dict[str, pd.DataFrame], split: StatusSplit) -> pd.DataFrame:
    cols = ["iso3", "year", "value", "row", "file"]
    out = blocks[split.with_id].loc[:, cols].merge(blocks[split.without_id].loc[:, cols], on=["iso3", "year"],
                                                   suffixes=("_with", "_without"))
    if split.total_id is not None:
        total = blocks[split.total_id].loc[:, cols].rename(columns={c: f"{c}_total" for c in cols[2:]})
        out = out.merge(total, on=["iso3", "year"], how="left")
    return out


def check_totals(blocks: dict[str, pd.DataFrame], splits: list[StatusSplit], registry: Registry) -> None:
    """Raise where a total differs from with + without by more than rounding."""
    for split in (s for s in splits if s.total_id is not None):
        both = _joined(blocks, split)
        total = both["value_total"].to_numpy(dtype=float)
        parts = both["value_with"].to_numpy(dtype=float) + both["value_without"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            bad = np.abs(total - parts) > np.maximum(ROUNDING_ABS, ROUNDING_REL * np.abs(total))
        if bad.any():
            r = both.iloc[int(np.flatnonzero(bad)[0])]
            raise InputError(registry.file(r["file_total"]).path,
                             f"{split.total_id}: {r['iso3']} {r['year']} total {r['value_total']:g} differs from "
                             f"with {r['value_with']:g} + without {r['value_without']:g} "
                             f"(lines {r['row_with']} and {r['row_without']}) by more than rounding",
                             row=int(r["row_total"]), rule="disability total = with + without")


def with_flags(block: pd.DataFrame) -> pd.DataFrame:
    """The block with ``flag`` and ``flag_reason`` columns (empty where not yet set)."""
    missing = {c: pd.Series(pd.NA, index=block.index, dtype="string") for c in ("flag", "flag_reason")
               if c not in block.columns}
    return block.assign(**missing) if missing else block


def _mark(block: pd.DataFrame, keys: pd.DataFrame, reason: str) -> pd.DataFrame:
    hit = pd.MultiIndex.from_frame(block[["iso3", "year"]]).isin(pd.MultiIndex.from_frame(keys[["iso3", "year"]]))
    flag = block["flag"].mask(hit, SUSPECT)
    return block.assign(flag=flag, flag_reason=block["flag_reason"].mask(hit, reason))


def flag_suspect(blocks: dict[str, pd.DataFrame], splits: list[StatusSplit]) -> dict[str, pd.DataFrame]:
    """Every block with flag columns; with > without rows of each split flagged suspect."""
    out = {k: with_flags(v) for k, v in blocks.items()}
    for split in splits:
        both = _joined(out, split)
        suspect = both.loc[both["value_with"].to_numpy(dtype=float) > both["value_without"].to_numpy(dtype=float)]
        if len(suspect):
            for ind_id in (split.with_id, split.without_id):
                out[ind_id] = _mark(out[ind_id], suspect, WITH_GT_WITHOUT)
            for ind_id in split.companions:
                out[ind_id] = _mark(out[ind_id], suspect, SAME_ROUND)
    return out


def derived_flags(both: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Flag and reason of derived rows from their inputs' (``flag_a``/``flag_b`` columns of a merge)."""
    flag_a, flag_b = both["flag_a"].astype("string"), both["flag_b"].astype("string")
    reason = both["flag_reason_a"].astype("string").where(flag_a.notna(), both["flag_reason_b"].astype("string"))
    flag = flag_a.fillna(flag_b)
    text = reason.map(lambda r: DERIVED_FROM.format(reason=r) if isinstance(r, str) else pd.NA)
    return flag.to_numpy(dtype=object), text.astype("string").to_numpy(dtype=object)


def usable(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows fit for latest values and aggregates: all but those flagged suspect."""
    if "flag" not in frame.columns:
        return frame
    return frame.loc[usable_mask(frame)]


def usable_mask(frame: pd.DataFrame) -> np.ndarray:
    """True for the rows :func:`usable` keeps."""
    if "flag" not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    return (frame["flag"] != SUSPECT).fillna(True).to_numpy(dtype=bool)
