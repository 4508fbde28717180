"""The ``Chart`` object and the page frame every chart shares: header, body, key and footer.

A chart = a matplotlib figure + the metadata needed to export and cite it: title, subtitle, unit,
indicator and source ids, the plotted values as a tidy frame, notes and coverage. The footer is
generated from the registry (``footer.py``), never typed per chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

from analysis.core.errors import AnalysisError
from analysis.presentation.charts import footer as footer_mod
from analysis.presentation.charts import palette, style

DEFAULT_WIDTH = 10.0  # inches; A4 landscape minus margins
#: inches kept free above the title for a page label (the chart pack's "Figure 9 · Children"), so the
#: label never prints over a title however long either is; see :func:`page_label`
LABEL_STRIP = 0.2
PAGE_LABEL_SIZE = 7.5
KEY_OUTLINE = "#444444"
TIDY_COLUMNS = ("iso3", "year", "indicator_id", "value")


class ChartDataError(AnalysisError):
    """The data handed to a chart function cannot be drawn as asked."""


@dataclass
class Chart:
    """A drawn chart and everything needed to export and cite it."""

    figure: Figure
    kind: str
    title: str
    subtitle: str = ""
    unit: str = ""
    indicator_ids: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()
    data: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = ()
    coverage: dict[str, Any] = field(default_factory=dict)
    footer: tuple[str, ...] = ()
    sources: dict[str, list[str]] = field(default_factory=dict)
    made_by: str = ""
    axes: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Release the figure's memory (report builds draw many charts): its axes and artists are dropped.

        The axes are removed, not cleared: ``Figure.clear`` resets each axes to a new empty one (ticks,
        spines, limits) before dropping it, work thrown away with the figure. Call it once the chart is
        saved or shown: the figure is empty afterwards.
        """
        for ax in self.figure.get_axes():
            ax.remove()
        self.figure.clear()
        self.axes = {}


@dataclass
class Frame:
    """The parts of a chart page: ``body`` is where the kind draws its axes."""

    figure: Figure
    header: SubFigure
    body: SubFigure
    foot: SubFigure


def check_tidy(data: pd.DataFrame, required: tuple[str, ...] = TIDY_COLUMNS, what: str = "data") -> pd.DataFrame:
    """Fail with a clear message when the frame is not the store's long format."""
    if not isinstance(data, pd.DataFrame):
        raise ChartDataError(f"{what}: expected a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in required if c not in data.columns]
    if missing:
        raise ChartDataError(f"{what}: missing columns {missing}; expected the store's long format "
                             f"(iso3, year, indicator_id, value, unit, source_id, vintage, projection)")
    out = data.copy()
    # Rows without a value or a year are gaps: the chart shows the country as "no data" instead.
    out = out.loc[out["value"].notna().to_numpy(dtype=bool) & out["year"].notna().to_numpy(dtype=bool)]
    if "projection" not in out.columns:
        out["projection"] = False
    out["projection"] = out["projection"].fillna(False).astype(bool)
    for col in ("unit", "source_id", "vintage"):
        if col not in out.columns:
            out[col] = pd.NA
    out["year"] = out["year"].astype("int64")
    out["value"] = out["value"].astype("float64")
    return out


def one_indicator(data: pd.DataFrame, what: str) -> str:
    ids = data["indicator_id"].dropna().unique().tolist()
    if len(ids) != 1:
        raise ChartDataError(f"{what}: expected exactly one indicator_id, got {sorted(map(str, ids))}")
    return str(ids[0])


def unit_of(data: pd.DataFrame, unit: str | None) -> str:
    if unit:
        return unit
    units = data["unit"].dropna().astype(str).unique().tolist()
    return units[0] if len(units) == 1 else ""


def aggregate_handle(label: str) -> Line2D:
    """The legend entry of a group statistic: the thick near-black line drawn everywhere."""
    return Line2D([], [], color=palette.AGGREGATE_COLOUR, lw=palette.AGGREGATE_LINEWIDTH, label=label)


def key_handles(groups: set[str], aggregate_label: str | None = None, extra: list | None = None) -> list:
    """Legend entries telling ASEAN members from Plus Three comparators, and the aggregate."""
    handles: list = []
    if palette.ASEAN in groups:
        handles.append(Line2D([], [], color="#555555", lw=1.8, ls="-", label=palette.GROUP_LABELS[palette.ASEAN]))
    if palette.PLUS_THREE in groups:
        handles.append(Line2D([], [], color="#555555", lw=1.8, ls=palette.LINESTYLES[palette.PLUS_THREE],
                              label=palette.GROUP_LABELS[palette.PLUS_THREE]))
    if aggregate_label:
        handles.append(aggregate_handle(aggregate_label))
    return handles + list(extra or [])


def bar_key_handles(groups: set[str], aggregate_label: str | None = None, extra: list | None = None) -> list:
    handles: list = []
    # Outlined, not filled: a grey fill would read as a band colour ("within") on banded bars.
    if palette.ASEAN in groups:
        handles.append(Patch(facecolor="white", edgecolor=KEY_OUTLINE, label="ASEAN member (plain)"))
    if palette.PLUS_THREE in groups:
        handles.append(Patch(facecolor="white", edgecolor=KEY_OUTLINE, hatch=palette.HATCHES[palette.PLUS_THREE],
                             label="Plus Three comparator (hatched)"))
    if aggregate_label:
        handles.append(aggregate_handle(aggregate_label))
    return handles + list(extra or [])


# The key's spacing, in font sizes (em), as frame() draws it.
KEY_HANDLE_EM, KEY_PAD_EM, KEY_COLUMN_EM = 2.6, 0.8, 1.6


def _key_width(key: list, ncols: int) -> float:
    """Inches the key takes in ``ncols`` columns (matplotlib fills the columns top to bottom)."""
    per_col = -(-len(key) // ncols)
    em = style.KEY_SIZE / 72.0
    cols = [key[k * per_col:(k + 1) * per_col] for k in range(ncols)]
    widths = [max(style.text_width(h.get_label(), style.KEY_SIZE) for h in col) + (KEY_HANDLE_EM + KEY_PAD_EM) * em
              for col in cols if col]
    return sum(widths) + (len(widths) - 1) * KEY_COLUMN_EM * em


def key_columns(key: list, wanted: int, width: float) -> int:
    """The most columns, up to ``wanted``, in which the key fits ``width`` inches (one column at least)."""
    for ncols in range(max(1, wanted), 1, -1):
        if _key_width(key, ncols) <= width:
            return ncols
    return 1


def frame(title: str, subtitle: str, footer_lines: list[str], body_height: float,
          width: float = DEFAULT_WIDTH, key: list | None = None, key_cols: int | None = None) -> Frame:
    """Lay out a chart page: wrapped title and subtitle, an optional key, the body, the footer."""
    title_lines = style.wrap(title, width - 0.4, style.TITLE_SIZE, bold=True)
    sub_lines = style.wrap(subtitle, width - 0.4, style.SUBTITLE_SIZE)
    foot_lines: list[str] = []
    for line in footer_lines:
        foot_lines.extend(style.wrap(line, width - 0.4, style.FOOTER_SIZE))
    n_key_rows = 0
    if key:
        key_cols = key_columns(key, key_cols or min(len(key), 3), width - 0.4)
        n_key_rows = -(-len(key) // key_cols)
    lh = lambda pt: pt * 1.32 / 72.0  # noqa: E731 - line height in inches
    header_h = LABEL_STRIP + 0.12 + len(title_lines) * lh(style.TITLE_SIZE) \
        + len(sub_lines) * lh(style.SUBTITLE_SIZE) + (n_key_rows * lh(style.KEY_SIZE + 3) + 0.06 if key else 0) + 0.06
    foot_h = 0.1 + max(1, len(foot_lines)) * lh(style.FOOTER_SIZE + 0.6)
    fig = style.new_figure(width, header_h + body_height + foot_h)
    fig.get_layout_engine().set(w_pad=0.05, h_pad=0.02, hspace=0.0, wspace=0.0)
    header, body, foot = fig.subfigures(3, 1, height_ratios=[header_h, body_height, foot_h], hspace=0.0)
    y = 1.0 - (LABEL_STRIP + 0.1) / header_h
    x0 = 0.2 / width
    header.text(x0, y, "\n".join(title_lines), va="top", ha="left", fontsize=style.TITLE_SIZE, fontweight="bold",
                color=style.TITLE_COLOUR, linespacing=1.15, gid="chart-title")
    y -= len(title_lines) * lh(style.TITLE_SIZE) / header_h
    if sub_lines:
        header.text(x0, y - 0.02 / header_h, "\n".join(sub_lines), va="top", ha="left", fontsize=style.SUBTITLE_SIZE,
                    color=style.SUBTITLE_COLOUR, linespacing=1.2, gid="chart-subtitle")
        y -= len(sub_lines) * lh(style.SUBTITLE_SIZE) / header_h
    if key:
        header.legend(handles=key, loc="upper left", bbox_to_anchor=(x0 - 0.008, y - 0.03 / header_h), ncols=key_cols,
                      fontsize=style.KEY_SIZE, handlelength=KEY_HANDLE_EM, handletextpad=KEY_PAD_EM,
                      columnspacing=KEY_COLUMN_EM, borderaxespad=0.0, borderpad=0.0, frameon=False)
    foot.text(x0, 1.0 - 0.06 / foot_h, "\n".join(foot_lines), va="top", ha="left", fontsize=style.FOOTER_SIZE,
              color=style.FOOTER_COLOUR, linespacing=1.3, gid="chart-footer")
    return Frame(figure=fig, header=header, body=body, foot=foot)


def page_label(fig: Figure, text: str):
    """Print a page label (figure number, section) in the strip :func:`frame` keeps free above the
    title, right-aligned; returns the text artist (remove it to export the chart unlabelled)."""
    height = fig.get_figheight()
    return fig.text(1.0 - 0.15 / fig.get_figwidth(), 1.0 - 0.05 / height, text, ha="right", va="top",
                    fontsize=PAGE_LABEL_SIZE, color=style.NOTE_COLOUR, gid="page-label")


def freeze_layout(fig: Figure, digits: int = 5) -> None:
    """Run the layout once, snap every subfigure and axes to a fine grid, and switch layout off.

    Constrained layout iterates over sets of artists whose order follows memory addresses, so two
    processes can place an axes a few 1e-9 inch apart, which shows up in the exported SVG/PDF
    numbers. Snapping to 1e-5 of the figure (1/10,000 inch) and freezing makes every export of
    the same chart byte-identical.
    """
    if fig.get_layout_engine() is not None:
        # Laid out with text measured as the PNG draws it (see style.EXPORT_DPI).
        # Only the layout engine runs: positions are all that is frozen, and a full draw here would be
        # repeated by every export anyway.
        screen_dpi = fig.dpi
        fig.set_dpi(style.EXPORT_DPI)
        fig.get_layout_engine().execute(fig)
        fig.set_dpi(screen_dpi)
    for sub in fig.subfigs:
        sub.bbox_relative.set_points(np.round(sub.bbox_relative.get_points(), digits))
    for ax in fig.get_axes():
        pos = ax.get_position(original=False)
        ax.set_axes_locator(None)
        ax.set_position(Bbox(np.round(pos.get_points(), digits)), which="both")
    # No engine at all, not matplotlib's "none" placeholder: with any engine set, every savefig first
    # draws the whole figure once more (without output) to run it.
    with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)


def finish(fr: Frame, *, kind: str, title: str, subtitle: str, unit: str, data: pd.DataFrame,
           footer_lines: list[str], notes: list[str], coverage: dict, sources: dict[str, list[str]],
           axes: dict, made_by: str | None) -> Chart:
    """Bundle the drawn figure and its metadata into a ``Chart``."""
    freeze_layout(fr.figure)
    ids = tuple(sorted({str(i) for i in data.get("indicator_id", pd.Series(dtype="string")).dropna().unique()}))
    return Chart(
        figure=fr.figure, kind=kind, title=title, subtitle=subtitle, unit=unit, indicator_ids=ids,
        source_ids=tuple(sorted(sources)), data=data.reset_index(drop=True), notes=tuple(n for n in notes if n),
        coverage=coverage, footer=tuple(footer_lines), sources=sources, made_by=made_by or f"analysis.charts.{kind}",
        axes=axes,
    )


def collect_footer(data: pd.DataFrame | None, notes: list[str],
                   extra_sources: dict | None = None) -> tuple[list[str], dict]:
    sources = footer_mod.sources_used(data) if data is not None else {}
    for sid, vint in (extra_sources or {}).items():
        sources[sid] = sorted(set(sources.get(sid, [])) | set(vint))
    return footer_mod.footer_lines(data, notes, extra_sources=extra_sources, licence=True), sources
