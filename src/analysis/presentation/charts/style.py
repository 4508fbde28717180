"""The packaged matplotlib style and helpers to draw with it.

Every chart is drawn and saved inside ``styled()`` so notebooks and reports look the same whatever
the user's matplotlibrc says. Figures are created with ``matplotlib.figure.Figure`` (not pyplot) so
building the report leaks no global state and needs no GUI backend.
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator
from pathlib import Path

import matplotlib as mpl
import matplotlib.style  # noqa: F401  (mpl.style is a submodule: import it before use)
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

STYLE_FILE = Path(__file__).with_name("caring.mplstyle")

TITLE_SIZE = 13.0
SUBTITLE_SIZE = 9.5
FOOTER_SIZE = 7.2
KEY_SIZE = 8.0
TITLE_COLOUR = "#111111"
SUBTITLE_COLOUR = "#444444"
FOOTER_COLOUR = "#555555"
NOTE_COLOUR = "#666666"


@contextlib.contextmanager
def styled() -> Iterator[None]:
    """Apply the caring-societies style (and only it) for the duration of the block."""
    with mpl.rc_context():
        mpl.rcdefaults()
        mpl.style.use(STYLE_FILE)
        yield


def use_style() -> None:
    """Apply the style globally (for notebooks that draw their own matplotlib figures)."""
    mpl.style.use(STYLE_FILE)


def wrap(text: str, width_in: float, size_pt: float, bold: bool = False) -> list[str]:
    """Wrap text to a width in inches, estimating DejaVu Sans's average glyph width."""
    if not text:
        return []
    per_char_in = size_pt * (0.60 if bold else 0.53) / 72.0
    width = max(20, int(width_in / per_char_in))
    lines: list[str] = []
    for para in str(text).split("\n"):
        lines.extend(textwrap.wrap(para, width=width) or [""])
    return lines


def new_figure(width: float, height: float) -> Figure:
    """A figure with an Agg canvas attached (so text extents can be measured before saving)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig
