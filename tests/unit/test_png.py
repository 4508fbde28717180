"""The unfiltered PNG writer (charts/png.py), read back by Pillow, on synthetic images."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from analysis.presentation.charts import png


def _synthetic_rgb(height: int = 37, width: int = 53) -> np.ndarray:
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    image[5:20, 10:40] = (0, 114, 178)  # a flat block, as charts mostly are
    return image


def test_pillow_reads_back_the_same_pixels_and_resolution():
    rgb = _synthetic_rgb()
    decoded = Image.open(io.BytesIO(png.encode(rgb, 200)))
    assert decoded.mode == "RGB" and decoded.size == (53, 37)
    assert np.array_equal(np.asarray(decoded), rgb)
    assert decoded.info["dpi"] == pytest.approx((200, 200), abs=0.01)


def test_a_cropped_view_is_written_as_its_own_pixels():
    """The export passes a view of PDFium's bitmap cut to matplotlib's size (not contiguous)."""
    full = _synthetic_rgb(40, 60)
    view = full[:37, :53]
    decoded = np.asarray(Image.open(io.BytesIO(png.encode(view, 72))))
    assert np.array_equal(decoded, full[:37, :53])


def test_the_same_pixels_give_the_same_bytes():
    assert png.encode(_synthetic_rgb(), 200) == png.encode(_synthetic_rgb().copy(), 200)


def test_an_image_that_is_not_8_bit_rgb_is_refused():
    with pytest.raises(ValueError, match="8-bit RGB"):
        png.encode(np.zeros((4, 4, 4), dtype=np.uint8), 200)
