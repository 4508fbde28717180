"""The packaged matplotlib style and helpers to draw with it.

Every chart is drawn and saved inside ``styled()`` so notebooks and reports look the same whatever
the user's matplotlibrc says. Figures are created with ``matplotlib.figure.Figure`` (not pyplot) so
building the report leaks no global state and needs no GUI backend.
"""

from __future__ import annotations

import contextlib
import functools
import textwrap
from collections.abc import Iterator
from pathlib import Path

import matplotlib as mpl
import matplotlib.style  # noqa: F401  (mpl.style is a submodule: import it before use)
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

STYLE_FILE = Path(__file__).with_name("caring.mplstyle")
_TEXT_TO_PATH = TextToPath()

#: dots per inch of the exported PNG; layouts are measured at it (glyph advances are hinted per pixel
#: size, so text measured at the screen's 100 dpi comes out a few per cent wider in the PNG)
EXPORT_DPI = 200
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


@functools.lru_cache(maxsize=4096)
def text_width(text: str, size_pt: float, bold: bool = False) -> float:
    """Width in inches of one line of text in the packaged font (measured on the glyphs, no figure needed)."""
    prop = FontProperties(family="DejaVu Sans", size=size_pt, weight="bold" if bold else "normal")
    width, _, _ = _TEXT_TO_PATH.get_text_width_height_descent(str(text), prop, ismath=False)
    return width / 72.0


def new_figure(width: float, height: float) -> Figure:
    """A figure with an Agg canvas attached (so text extents can be measured before saving)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig
