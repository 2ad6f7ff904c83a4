"""Display images and thumbnails: sizes, formats, and that they show the canonical frame."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.imaging import (
    THUMBNAIL_MAX_SIZE,
    THUMBNAIL_MIN_SIZE,
    as_array,
    decode_image,
    encode_display,
    make_thumbnail,
    thumbnail_size,
)
from app.imaging.encode import DISPLAY_PNG_MAX_PIXELS, JPEG_MAX_SIDE
from tests.hostile_corpus import CARD_PROBES, all_cases

BIG = {"max_bytes": 10**8, "max_pixels": 10**8}


def canonical(filename: str) -> Image.Image:
    data = next(case.data for case in all_cases() if case.filename == filename)
    return decode_image(data, **BIG).image


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [
        ((640, 480), 256, (256, 192)),
        ((480, 640), 256, (192, 256)),
        ((100, 50), 256, (100, 50)),  # never enlarged
        ((10000, 3), 64, (64, 1)),  # short side at least 1 px
        ((301, 200), 128, (128, 85)),  # 85.05 -> 85
        ((300, 203), 128, (128, 87)),  # 86.61 -> 87
        ((256, 256), 256, (256, 256)),
    ],
)
def test_thumbnail_size(size, box, expected):
    assert thumbnail_size(*size, box) == expected


@pytest.mark.parametrize("box", [THUMBNAIL_MIN_SIZE, 100, THUMBNAIL_MAX_SIZE])
def test_thumbnail_is_jpeg_of_the_computed_size(box):
    image = Image.fromarray(np.zeros((1500, 2000, 3), np.uint8))
    thumb = reopen(make_thumbnail(image, box))
    assert thumb.format == "JPEG" and thumb.mode == "RGB"
    assert thumb.size == thumbnail_size(2000, 1500, box)
    assert max(thumb.size) == box


@pytest.mark.parametrize("box", [0, THUMBNAIL_MIN_SIZE - 1, THUMBNAIL_MAX_SIZE + 1])
def test_thumbnail_size_bounds(box):
    with pytest.raises(ValueError, match="thumbnail size"):
        make_thumbnail(Image.new("RGB", (10, 10)), box)


@pytest.mark.parametrize(
    "filename", ["orientation_6.jpg", "orientation_7.jpg", "orientation_5.tif"]
)
def test_thumbnail_shows_the_canonical_frame(filename):
    thumb = reopen(make_thumbnail(canonical(filename), 32))
    assert thumb.size == (32, 24)  # card is 64x48 upright, stored sideways
    assert len(thumb.getexif()) == 0
    pixels = as_array(thumb)
    for x, y, colour in CARD_PROBES:
        assert np.abs(pixels[y // 2, x // 2].astype(int) - colour).max() <= 40


def test_small_lossless_display_is_exact_png():
    image = canonical("mode_RGBA.png")
    data, media_type = encode_display(image, source_format="PNG")
    assert media_type == "image/png"
    assert np.array_equal(as_array(reopen(data)), as_array(image))


def test_photo_display_is_jpeg_without_orientation():
    image = canonical("orientation_6.jpg")
    data, media_type = encode_display(image, source_format="JPEG")
    shown = reopen(data)
    assert media_type == "image/jpeg" and shown.format == "JPEG"
    assert shown.size == image.size
    assert len(shown.getexif()) == 0  # a browser must not rotate it again


@pytest.mark.parametrize(
    ("source_format", "size", "media_type"),
    [
        (None, (10, 10), "image/jpeg"),
        ("WEBP", (10, 10), "image/jpeg"),
        ("TIFF", (10, 10), "image/png"),
        ("BMP", (2048, DISPLAY_PNG_MAX_PIXELS // 2048), "image/png"),
        ("PNG", (2049, DISPLAY_PNG_MAX_PIXELS // 2048), "image/jpeg"),
        ("JPEG", (JPEG_MAX_SIDE + 1, 1), "image/png"),  # too long for JPEG
    ],
)
def test_display_format_rule(source_format, size, media_type):
    image = Image.new("RGB", size, (5, 6, 7))
    data, got = encode_display(image, source_format=source_format)
    assert got == media_type
    assert reopen(data).size == size


def test_encoders_apply_the_mode_rule_to_non_rgb_input():
    rgba = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    data, _ = encode_display(rgba, source_format="PNG")
    assert as_array(reopen(data))[0, 0].tolist() == [255, 255, 255]
    assert as_array(reopen(make_thumbnail(rgba, 32)))[0, 0].min() >= 250
