"""The unfiltered PNG writer (charts/png.py) and the PDF rasterised into it (charts/export.py), read back
by Pillow, on synthetic images."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2 as pdfium
import pytest
from matplotlib.figure import Figure
from PIL import Image

from analysis.presentation.charts import export, png


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


def test_scanlines_give_the_same_file_as_the_pixels():
    rgb = _synthetic_rgb()
    height, width, _ = rgb.shape
    rows, stride = png.scanline_buffer(width, height)
    assert stride == 1 + 3 * width and len(rows) == height * stride + 1
    pixels = np.frombuffer(rows, dtype=np.uint8, count=height * stride, offset=1).reshape(height, stride)
    pixels[:, :3 * width] = rgb.reshape(height, 3 * width)  # a renderer drawing from offset 1
    assert png.encode_scanlines(rows, width, height, 200) == png.encode(rgb, 200)


def test_too_few_scanlines_are_refused():
    with pytest.raises(ValueError, match="bytes of scanlines"):
        png.encode_scanlines(bytes(10), 4, 4, 200)


@pytest.mark.parametrize("size", [(3.0, 2.0), (3.013, 2.0071)])
def test_a_pdf_page_is_rasterised_at_matplotlibs_size_in_pixels(size):
    """PDFium draws straight into the scanlines, cut at the right and bottom to the size matplotlib
    rounds down to: the pixels are those of PDFium's whole rendering, cut."""
    fig = Figure(figsize=size)
    fig.subplots().plot([0, 1, 0.3], color="tab:red", linewidth=3)
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf")
    ours = Image.open(io.BytesIO(export.png_from_pdf(buf.getvalue(), dpi=100)))
    document = pdfium.PdfDocument(buf.getvalue())
    whole = document[0].render(scale=100 / 72, rev_byteorder=True).to_numpy()
    width, height = (int(inches * 100) for inches in size)
    assert ours.size == (width, height)
    assert np.array_equal(np.asarray(ours), whole[:height, :width, :3])
    document.close()
