"""The chart pack's key-message pages: one A4 landscape page of generated messages per population group.

The sentences come from :mod:`analysis.store.messages` (templates filled from the API); this module only
lays them out, so the pages change exactly when the messages do. ``pack.py`` puts these pages right after
the cover.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from analysis.presentation.charts import style
from analysis.presentation.report.pages import hand_laid_figure
from analysis.presentation.report.specs import GROUP_TITLES
from analysis.store import messages

PAGE = (11.69, 8.27)  # A4 landscape, inches (the chart pack's page)
MARGIN_IN = 0.8
HEADING_PT, BODY_PT, NOTE_PT = 17.0, 10.5, 8.5
COLOUR, NOTE_COLOUR = "#222222", "#555555"
BULLET = "•"
NOTE = ("Generated from the indicator store: every number, year and 'n of N' is read from the data, so the "
        "sentences change when the data do. Values are each country's latest within the indicator's "
        "window; comparisons are with the median of the ASEAN members reporting. 'Since' a meeting states "
        "what moved after it, never what the meeting caused. Indicators without a better direction are "
        "only called highest or lowest.")


def page_title(group: str) -> str:
    return f"Key messages: {GROUP_TITLES.get(group, group)}"


def _processed_dir(ctx_or_processed_dir) -> Path | str | None:
    """A report context's store, or the store directory itself (None: the project's)."""
    return getattr(ctx_or_processed_dir, "processed_dir", ctx_or_processed_dir)


def _line_step(pt: float) -> float:
    return pt * 1.45 / 72.0 / PAGE[1]


def _write(fig: Figure, y: float, text: str, pt: float, *, bold: bool = False, indent: float = 0.0,
           colour: str = COLOUR, bullet: str = "") -> float:
    """Write ``text`` wrapped to the page from height ``y`` (figure fraction); returns the next free y."""
    x = (MARGIN_IN + indent) / PAGE[0]
    width = PAGE[0] - 2 * MARGIN_IN - indent
    for k, part in enumerate(style.wrap(text, width, pt, bold=bold) or [""]):
        if bullet and k == 0:
            fig.text(x - 0.22 / PAGE[0], y, bullet, fontsize=pt, va="top", ha="left", color=colour)
        fig.text(x, y, part, fontsize=pt, fontweight="bold" if bold else "normal", va="top", ha="left",
                 color=colour)
        y -= _line_step(pt)
    return y


def message_page(group: str, items: list[messages.Message]) -> Figure:
    """One page: the group's heading, its messages as bullets, and how they were made."""
    fig = hand_laid_figure(*PAGE)
    y = _write(fig, 0.93, page_title(group), HEADING_PT, bold=True) - _line_step(BODY_PT) * 0.6
    if not items:
        y = _write(fig, y, "No message could be computed: the store holds too few values for this group.", BODY_PT)
    for item in items:
        y = _write(fig, y, item.text, BODY_PT, indent=0.3, bullet=BULLET) - _line_step(BODY_PT) * 0.5
    _write(fig, max(y - _line_step(BODY_PT), 0.16), NOTE, NOTE_PT, colour=NOTE_COLOUR)
    return fig


def key_message_pages(ctx_or_processed_dir=None) -> list[tuple[str, Figure]]:
    """(title, figure) of the key-message page of each population group, in the chart pack's order.

    ``ctx_or_processed_dir``: the report's context (its ``processed_dir`` is used) or a store directory.
    The figures are drawn with the chart style; the caller saves them into the PDF and may close them.
    """
    processed_dir = _processed_dir(ctx_or_processed_dir)
    pages = []
    with style.styled():
        for group, items in messages.messages_by_group(messages.GROUPS, processed_dir=processed_dir).items():
            pages.append((page_title(group), message_page(group, items)))
    return pages
