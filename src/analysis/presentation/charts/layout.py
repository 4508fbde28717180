"""Small layout helpers: number formats and label placement that avoids overlaps."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.text import Text


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


# ----------------------------------------------------------------------------- the layout check of a saved chart
#: inches two boxes may share before they count as overlapping (glyph boxes include line spacing and
#: descent, so touching lines of one paragraph are not an overlap), and a text may pass the edge
OVERLAP_TOLERANCE_IN = 0.01
#: a text artist whose gid is ``<gid>-label`` labels the artist ``<gid>`` and may sit on it
LABEL_SUFFIX = "-label"
#: straight lines whose gid contains this are reference lines (group statistics) no text may cross
REFERENCE_LINE_GID = "aggregate"


@dataclass(frozen=True)
class _Shape:
    """A drawn text or reference line as a convex polygon in display pixels."""

    name: str
    gid: str
    corners: np.ndarray  # (4, 2)
    zorder: float = 0.0
    #: a text on an opaque box hides the lines drawn below it
    opaque: bool = False


def _tick_labels_not_drawn(fig) -> set[int]:
    """ids of tick labels matplotlib keeps but does not draw (outside the view, axis or axes switched off)."""
    hidden: set[int] = set()
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            ticks = axis.get_major_ticks() + axis.get_minor_ticks()
            # Axis._update_ticks is what Axis.draw uses to pick the ticks inside the view.
            shown = ax.get_visible() and ax.axison and axis.get_visible()  # a hidden axes draws none of its text
            drawn = {id(t) for t in axis._update_ticks()} if shown else set()
            for tick in ticks:
                if id(tick) not in drawn:
                    hidden.update((id(tick.label1), id(tick.label2)))
            if not shown:
                hidden.update((id(axis.label), id(axis.offsetText)))
    return hidden


def _corners(text: Text, renderer) -> np.ndarray:
    """The rotated rectangle of a text: matplotlib reports only its axis-aligned hull."""
    hull = text.get_window_extent(renderer)
    angle = np.deg2rad(text.get_rotation() % 360)
    if abs(np.sin(2 * angle)) < 1e-9:  # 0, 90, 180 or 270 degrees: the hull is the box
        return np.array([[hull.x0, hull.y0], [hull.x1, hull.y0], [hull.x1, hull.y1], [hull.x0, hull.y1]])
    rotation = text.get_rotation()
    text.set_rotation(0)
    flat = text.get_window_extent(renderer)
    text.set_rotation(rotation)
    w, h = flat.width, flat.height
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    box = np.array([[0, 0], [w, 0], [w, h], [0, h]]) @ rot.T
    return box + (np.array([hull.x0, hull.y0]) - box.min(axis=0))


def _segment(p: np.ndarray, q: np.ndarray, width: float) -> np.ndarray:
    d = q - p
    n = np.array([-d[1], d[0]]) / (np.hypot(*d) or 1.0) * width / 2
    return np.array([p + n, q + n, q - n, p - n])


def _describe(text: Text) -> str:
    words = " ".join(text.get_text().split())
    words = words if len(words) <= 60 else words[:57] + "..."
    return f"'{words}'" + (f" ({text.get_gid()})" if text.get_gid() else "")


def _text_shapes(fig, renderer, artists: list) -> list[_Shape]:
    hidden = _tick_labels_not_drawn(fig)
    shapes = []
    for t in (a for a in artists if isinstance(a, Text)):
        if id(t) in hidden or not t.get_visible() or not t.get_text().strip() or t.get_alpha() == 0:
            continue
        patch = t.get_bbox_patch()
        opaque = patch is not None and patch.get_facecolor()[3] == 1.0
        shapes.append(_Shape(_describe(t), str(t.get_gid() or ""), _corners(t, renderer), t.get_zorder(), opaque))
    return shapes


def _reference_lines(fig, artists: list, scale: float = 1.0) -> list[_Shape]:
    """Straight group-statistic lines (an axvline, an axhline) among the figure's ``artists`` as thin
    rectangles, in display pixels times ``scale``."""
    out = []
    for line in (a for a in artists if isinstance(a, Line2D)):
        gid = str(line.get_gid() or "")
        if REFERENCE_LINE_GID not in gid or not line.get_visible():
            continue
        pts = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float)) * scale
        if len(pts) != 2 or not np.isfinite(pts).all():
            continue
        width = line.get_linewidth() * fig.dpi * scale / 72.0
        out.append(_Shape(f"line ({gid})", gid, _segment(pts[0], pts[1], max(width, 1.0)), line.get_zorder()))
    return out


def _depth(a: np.ndarray, b: np.ndarray) -> float:
    """How far two convex polygons reach into each other (separating axis theorem); <= 0: apart."""
    depth = math.inf
    for poly in (a, b):
        for k in range(len(poly)):
            edge = poly[(k + 1) % len(poly)] - poly[k]
            axis = np.array([-edge[1], edge[0]])
            norm = np.hypot(*axis)
            if norm == 0:
                continue
            pa, pb = a @ axis / norm, b @ axis / norm
            depth = min(depth, min(pa.max(), pb.max()) - max(pa.min(), pb.min()))
    return depth


def _may_touch(a: _Shape, b: _Shape) -> bool:
    """A label and what it labels (gid ``x-label`` and gid ``x``) may touch; a text on an opaque box
    above a line hides it."""
    if a.opaque and a.zorder > b.zorder and b.name.startswith("line"):
        return True
    return bool(a.gid and b.gid) and (a.gid == b.gid + LABEL_SUFFIX or b.gid == a.gid + LABEL_SUFFIX)


def _hulls_apart(everything: list[_Shape], tolerance: float) -> np.ndarray:
    """Pairwise: are the bounding boxes of two shapes apart (in one numpy step; the exact test is costly)."""
    lo = np.array([s.corners.min(axis=0) for s in everything])
    hi = np.array([s.corners.max(axis=0) for s in everything])
    overlap = np.minimum(hi[:, None, :], hi[None, :, :]) - np.maximum(lo[:, None, :], lo[None, :, :])
    return (overlap <= tolerance).any(axis=2)


def _overlaps(shapes: list[_Shape], lines: list[_Shape], tolerance: float) -> list[dict]:
    everything = shapes + lines
    if len(shapes) < 1 or len(everything) < 2:
        return []
    apart = _hulls_apart(everything, tolerance)
    found = []
    for i, a in enumerate(shapes):
        # the texts after this one, then every reference line, in that order (the order of the record)
        for k in np.flatnonzero(~apart[i, i + 1:]) + i + 1:
            b = everything[int(k)]
            if _may_touch(a, b):
                continue
            depth = _depth(a.corners, b.corners)
            if depth > tolerance:
                found.append({"a": a.name, "b": b.name, "depth_px": round(float(depth), 1)})
    return found


def _outside(shapes: list[_Shape], width: float, height: float, tolerance: float) -> list[dict]:
    found = []
    for s in shapes:
        lo, hi = s.corners.min(axis=0), s.corners.max(axis=0)
        beyond = max(-lo[0], -lo[1], hi[0] - width, hi[1] - height)
        if beyond > tolerance:
            found.append({"text": s.name, "beyond_px": round(float(beyond), 1)})
    return found


def check_layout(fig, dpi: float | None = None) -> dict:
    """Every drawn text of a figure checked against every other (and against the straight group-statistic
    lines) for overlaps, and against the figure's edges: ``{"overlaps": [...], "outside": [...]}``, in
    pixels at ``dpi``.

    One layout pass without rasterising, at ``dpi`` (default: the figure's). A chart being saved is
    checked during its PDF's own draw instead (:func:`check_drawn`), with no pass of its own.
    """
    saved_dpi = fig.dpi
    fig.set_dpi(dpi or saved_dpi)
    try:
        fig.draw_without_rendering()
        return check_drawn(fig, fig.canvas.get_renderer(), fig.dpi)
    finally:
        fig.set_dpi(saved_dpi)


def check_drawn(fig, renderer, dpi: float, artists: list | None = None) -> dict:
    """:func:`check_layout` of a figure ``renderer`` has just drawn, reported in pixels at ``dpi``.

    Texts are measured with that renderer (its measurements are cached from the draw), at the figure's
    current dpi, and scaled to ``dpi``. ``artists``: ``fig.findobj()`` if the caller listed them after
    the draw already (listing them asks every axis's tick locators again).
    """
    artists = fig.findobj() if artists is None else artists
    scale = dpi / fig.dpi
    shapes = [_Shape(s.name, s.gid, s.corners * scale, s.zorder, s.opaque)
              for s in _text_shapes(fig, renderer, artists)]
    tolerance = OVERLAP_TOLERANCE_IN * dpi
    return {"overlaps": _overlaps(shapes, _reference_lines(fig, artists, scale), tolerance),
            "outside": _outside(shapes, fig.bbox.width * scale, fig.bbox.height * scale, tolerance)}


def clear_of_line(ax, texts: list[Text], x: float, linewidth_pt: float, pad_pt: float = 3.0) -> None:
    """Move left-aligned labels that a vertical line at data ``x`` would cross to just right of it.

    Run after the layout is frozen (display coordinates final); measures with the figure's renderer.
    """
    fig = ax.get_figure(root=True)
    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72.0
    x_px = ax.transData.transform((x, 0))[0]
    half, pad = linewidth_pt * px / 2, pad_pt * px
    for text in texts:
        box = text.get_window_extent(renderer)
        if box.x0 - pad < x_px + half and box.x1 + pad > x_px - half:
            new_x = ax.transData.inverted().transform((x_px + half + pad, 0))[0]
            text.set_x(new_x)
