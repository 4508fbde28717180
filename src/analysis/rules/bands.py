"""Banded comparisons: is a country above, within or below the group's typical range?

As in OECD *Health at a Glance*, each value is compared with the group centre (median) plus or
minus one spread unit (the median absolute deviation, unscaled). Missing values stay missing and are
marked "no data"; they never count towards the centre or the spread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

CENTERS = ("median", "mean")
SPREADS = ("mad", "sd", "iqr")
BANDS = ("above", "within", "below", "no data")


def _center(values: np.ndarray, how: str) -> float:
    return float(np.median(values)) if how == "median" else float(np.mean(values))


def _spread(values: np.ndarray, how: str, center: float) -> float:
    if how == "mad":
        # Unscaled median absolute deviation around the chosen centre: robust to one outlier.
        return float(np.median(np.abs(values - center)))
    if how == "sd":
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    q75, q25 = np.percentile(values, [75, 25])
    return float(q75 - q25) / 2.0


def band(
    values: pd.Series | Mapping[str, float] | Iterable[float],
    center: str = "median",
    spread: str = "mad",
    reference: pd.Series | Mapping[str, float] | None = None,
    min_difference: float = 0.0,
) -> pd.DataFrame:
    """Mark each value as ``above`` / ``within`` / ``below`` the group centre ± one spread unit.

    ``values``: one value per country (a Series indexed by ISO3, a mapping, or a plain sequence).
    ``reference``: the values that define the group (default: ``values`` themselves), e.g. ASEAN
    members only while Plus Three comparators are marked against the ASEAN band.
    Returns a frame indexed like ``values`` with columns ``value, center, spread, lower, upper,
    band, n``; NaN values get band ``"no data"``. Bounds are inclusive: a value equal to a bound is
    ``within`` (so with a spread of 0, only values equal to the centre are within).
    ``min_difference`` (the catalogue's smallest meaningful difference, in the indicator's unit)
    widens the band to at least that distance from the centre, so trivial differences never change
    colour.
    """
    if center not in CENTERS:
        raise ValueError(f"center must be one of {CENTERS}, got {center!r}")
    if spread not in SPREADS:
        raise ValueError(f"spread must be one of {SPREADS}, got {spread!r}")
    vals = pd.Series(values, dtype="float64") if not isinstance(values, pd.Series) else values.astype("float64")
    ref = vals if reference is None else (
        pd.Series(reference, dtype="float64") if not isinstance(reference, pd.Series) else reference.astype("float64"))
    ref_values = ref.dropna().to_numpy()
    out = pd.DataFrame({"value": vals})
    if len(ref_values) == 0:
        out = out.assign(center=np.nan, spread=np.nan, lower=np.nan, upper=np.nan, n=0)
        out["band"] = pd.Series("no data", index=out.index, dtype="string")
        return out
    c = _center(ref_values, center)
    s = max(_spread(ref_values, spread, c), float(min_difference))
    lower, upper = c - s, c + s
    labels = np.select(
        [vals.isna().to_numpy(), (vals > upper).to_numpy(), (vals < lower).to_numpy()],
        ["no data", "above", "below"],
        default="within",
    )
    return out.assign(center=c, spread=s, lower=lower, upper=upper, n=len(ref_values),
                      band=pd.Series(labels, index=out.index, dtype="string"))


DIRECTIONS = ("higher", "lower", "neutral")


def judge(bands: pd.Series | Iterable[str], better: str | None) -> pd.Series:
    """Turn above/below into better/worse using the catalogue's direction ("higher" / "lower").

    With ``better`` "neutral" or None (neither direction is better, e.g. population shares) the
    bands stay ``above`` / ``within`` / ``below``: neutral wording, neutral colours.
    """
    s = pd.Series(bands, dtype="string")
    if better is None or better == "neutral":
        return s
    if better not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS} or None, got {better!r}")
    good, bad = ("above", "below") if better == "higher" else ("below", "above")
    return s.replace({good: "better", bad: "worse"})


def band_symbol(label: str) -> str:
    """A short marker for tables (country profiles) from a raw band: ▲ above, ● within, ▼ below, – no data."""
    try:
        return {"above": "▲", "within": "●", "below": "▼", "no data": "–"}[label]
    except KeyError:
        raise ValueError(f"not a raw band label: {label!r} (use band()['band'], not judge())") from None
