"""Small layout helpers: number formats and label placement that avoids overlaps."""

from __future__ import annotations

import math

import numpy as np


def fmt(value: float, digits: int | None = None) -> str:
    """A compact, readable number: 12,345 / 123 / 12.3 / 1.23."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    v = float(value)
    if digits is not None:
        return f"{v:,.{digits}f}"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _merge_clusters(ys: list[float], min_gap: float) -> tuple[list[float], list[list[float]]]:
    """Merge sorted positions into clusters until no two neighbours are closer than ``min_gap``
    (the classic 1-D label layout); each cluster is centred on its members' mean.

    Returns each cluster's first position and its members.
    """
    clusters = [[y] for y in ys]
    starts = list(ys)
    changed = True
    while changed:
        changed = False
        i = 0
        while i < len(clusters) - 1:
            end_i = starts[i] + (len(clusters[i]) - 1) * min_gap
            if starts[i + 1] - end_i < min_gap - 1e-12:
                merged = clusters[i] + clusters[i + 1]
                clusters[i] = merged
                starts[i] = float(np.mean(merged)) - (len(merged) - 1) * min_gap / 2
                del clusters[i + 1]
                del starts[i + 1]
                changed = True
            else:
                i += 1
    return starts, clusters


def _fit_bounds(placed: list[float], min_gap: float, lo: float | None, hi: float | None) -> list[float]:
    """Shift the placed labels inside [lo, hi]; squeeze them evenly when they cannot all fit."""
    if lo is not None and placed[0] < lo:
        shift = lo - placed[0]
        placed = [p + shift for p in placed]
    if hi is None or placed[-1] <= hi:
        return placed
    if lo is not None and hi - lo < (len(placed) - 1) * min_gap:
        return [lo + k * (hi - lo) / max(1, len(placed) - 1) for k in range(len(placed))]
    shift = placed[-1] - hi
    placed = [p - shift for p in placed]
    # After shifting down, re-resolve with the lower bound respected.
    for k in range(len(placed) - 2, -1, -1):
        placed[k] = min(placed[k], placed[k + 1] - min_gap)
    return placed


def repel_1d(positions: list[float], min_gap: float, lo: float | None = None, hi: float | None = None) -> list[float]:
    """Spread 1-D label positions so neighbours are at least ``min_gap`` apart, moving each as little as possible.

    Deterministic: labels keep their order; overlapping clusters are centred on their mean.
    """
    if not positions:
        return []
    order = np.argsort(np.asarray(positions, dtype=float), kind="stable")
    starts, clusters = _merge_clusters([float(positions[i]) for i in order], min_gap)
    placed = [start + k * min_gap for start, cl in zip(starts, clusters) for k in range(len(cl))]
    placed = _fit_bounds(placed, min_gap, lo, hi)
    out = [0.0] * len(placed)
    for rank, idx in enumerate(order):
        out[idx] = placed[rank]
    return out


def boxes_overlap(a, b, pad: float = 1.0) -> float:
    """Overlap area of two display-space boxes (x0, y0, x1, y1), with padding in pixels."""
    w = min(a[2], b[2]) + pad - max(a[0], b[0])
    h = min(a[3], b[3]) + pad - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)
