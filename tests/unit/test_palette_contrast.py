"""Every palette colour that draws text, lines, marks or bars is readable on white (WCAG 2.1: 3:1 for
graphics) and the colours stay apart for readers with a colour-vision deficiency.

Contrast and colour distances are computed here from their published definitions (WCAG relative
luminance; CIELAB; Machado, Oliveira & Fernandes 2009 simulation matrices at full severity), not
taken from the palette module.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from analysis.presentation.charts import palette, style

WCAG_GRAPHICS = 3.0
#: CIE76 distances: below about 10 two flat colours are hard to tell apart at a glance
MIN_COUNTRY_DISTANCE = 15.0
MIN_BAND_DISTANCE = 20.0

# Machado et al. (2009), severity 1.0, applied to linear RGB.
CVD = {
    "normal vision": np.eye(3),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def _linear(colour: str) -> np.ndarray:
    c = np.asarray(to_rgb(colour), dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def relative_luminance(colour: str) -> float:
    return float(_linear(colour) @ np.array([0.2126, 0.7152, 0.0722]))


def contrast(a: str, b: str = "#FFFFFF") -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear_rgb
    xyz = xyz / np.array([0.9505, 1.0, 1.089])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def distance(a: str, b: str, vision: str) -> float:
    sim = CVD[vision]
    return float(np.linalg.norm(_lab(np.clip(sim @ _linear(a), 0, 1)) - _lab(np.clip(sim @ _linear(b), 0, 1))))


def test_the_contrast_formula_matches_wcag_reference_values():
    assert contrast("#000000") == pytest.approx(21.0)
    assert contrast("#FFFFFF") == pytest.approx(1.0)
    assert contrast("#767676") == pytest.approx(4.54, abs=0.01)  # the usual "lightest AA grey"


@pytest.mark.parametrize("name,colour", sorted(palette.text_and_line_colours().items()))
def test_every_text_and_line_colour_has_3_to_1_against_white(name, colour):
    assert contrast(colour) >= WCAG_GRAPHICS, f"{name} {colour}: {contrast(colour):.2f}:1 against white"


@pytest.mark.parametrize("colour", [style.TITLE_COLOUR, style.SUBTITLE_COLOUR, style.FOOTER_COLOUR, style.NOTE_COLOUR])
def test_chart_text_colours_read_as_body_text(colour):
    assert contrast(colour) >= 4.5  # WCAG AA for text, stricter than graphics


def test_palette_covers_the_colours_charts_use():
    colours = set(palette.text_and_line_colours().values())
    assert set(palette.ASEAN_COLOURS) | set(palette.PLUS_THREE_COLOURS) <= colours
    assert {palette.AGGREGATE_COLOUR, palette.NO_DATA_COLOUR} <= colours
    assert {c for b, c in palette.BAND_COLOURS.items() if b != "no data"} <= colours


@pytest.mark.parametrize("colour", palette.COMPONENT_COLOURS)
def test_segment_labels_have_a_readable_text_colour(colour):
    # stacked bars write values on the segments in white or near-black, whichever reads better
    assert max(contrast(colour, "#FFFFFF"), contrast(colour, "#111111")) >= 4.5


def test_country_colours_are_distinct():
    colours = list(palette.ASEAN_COLOURS) + list(palette.PLUS_THREE_COLOURS)
    assert len(set(colours)) == len(colours)
    closest = min(itertools.combinations(colours, 2), key=lambda p: distance(*p, "normal vision"))
    assert distance(*closest, "normal vision") >= MIN_COUNTRY_DISTANCE, closest


@pytest.mark.parametrize("vision", sorted(CVD))
@pytest.mark.parametrize("bands", [("better", "within", "worse"), ("above", "within", "below")])
def test_band_colours_stay_apart_under_colour_vision_deficiencies(vision, bands):
    for a, b in itertools.combinations(bands, 2):
        d = distance(palette.BAND_COLOURS[a], palette.BAND_COLOURS[b], vision)
        assert d >= MIN_BAND_DISTANCE, f"{a} vs {b} under {vision}: {d:.1f}"


def test_a_failing_colour_would_be_caught():
    # the light Okabe-Ito orange and sky blue (before darkening) are below 3:1
    assert contrast("#E69F00") < WCAG_GRAPHICS and contrast("#56B4E9") < WCAG_GRAPHICS
