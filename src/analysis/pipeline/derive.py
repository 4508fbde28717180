"""Derived indicators (ratio, difference, product of two others) and the projection flag of a row.

Used by :mod:`analysis.pipeline.build` on the per-indicator blocks of mapped rows (iso3, year, value,
projection, row, file, ind, flag, flag_reason).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.config.catalogue import Indicator
from analysis.pipeline import flags


def derive(ind: Indicator, code: int, a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Compute a derived indicator where its two inputs share economy and year.

    The row and file of the first input are kept so that a bounds violation points at a source line;
    a derived value is a projection when either input is, and suspect when either input is. It has
    no uncertainty bounds (the sources' intervals do not combine by arithmetic) and no observation
    status or nature (those describe a published value, which a derived one is not).
    """
    both = a.merge(b, on=["iso3", "year"], suffixes=("_a", "_b"), how="inner", validate="one_to_one")
    s = ind.derive.scale
    va, vb = both["value_a"].to_numpy(), both["value_b"].to_numpy()
    if ind.derive.method == "ratio":
        keep = vb != 0  # a zero denominator has no ratio: the row is absent, not infinite
        both, va, vb = both.loc[keep], va[keep], vb[keep]
        value = va / vb * s
    elif ind.derive.method == "difference":
        value = (va - vb) * s
    else:  # product
        value = va * vb * s
    flag, reason = flags.derived_flags(both)
    return pd.DataFrame({
        "iso3": both["iso3"].to_numpy(), "year": both["year"].to_numpy(), "value": value.astype("float64"),
        "projection": (both["projection_a"].to_numpy(dtype=bool) | both["projection_b"].to_numpy(dtype=bool)),
        "row": both["row_a"].to_numpy(), "file": both["file_a"].to_numpy(), "ind": np.int32(code),
        "flag": pd.array(flag, dtype="string"), "flag_reason": pd.array(reason, dtype="string"),
    })


def projection(ind: Indicator, year: pd.Series) -> np.ndarray:
    """True where the observation's period ends in or after the indicator's first projected year."""
    if ind.projection_from is None:
        return np.zeros(len(year), dtype=bool)
    return (year.to_numpy() + ind.period - 1 >= ind.projection_from)
