"""The mode rule (app/imaging/modes.py docstring), pinned with exact pixel values."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.imaging import as_array, to_rgb
from app.imaging.modes import composite_on_white, stretch_to_uint8


def grey(values) -> list[int]:
    """First channel of a 1-row RGB result, after checking all channels are equal."""
    pixels = as_array(values)
    assert (pixels == pixels[..., :1]).all()
    return pixels[0, :, 0].tolist()


def one_row(values, dtype) -> Image.Image:
    return Image.fromarray(np.array([values], dtype=dtype))


def test_eight_bit_modes_keep_their_values():
    assert grey(to_rgb(one_row([0, 17, 255], np.uint8))) == [0, 17, 255]
    assert grey(to_rgb(Image.fromarray(np.array([[False, True]])))) == [0, 255]
    palette = Image.new("P", (2, 1))
    palette.putpalette([10, 20, 30, 40, 50, 60])
    palette.putpixel((1, 0), 1)
    assert as_array(to_rgb(palette)).tolist() == [[[10, 20, 30], [40, 50, 60]]]
    rgb = Image.fromarray(np.array([[[1, 2, 3]]], np.uint8))
    assert as_array(to_rgb(rgb)).tolist() == [[[1, 2, 3]]]


def test_cmyk_is_naively_inverted():
    cmyk = Image.new("CMYK", (1, 1), (255, 0, 0, 0))
    assert as_array(to_rgb(cmyk)).tolist() == [[[0, 255, 255]]]
    assert as_array(to_rgb(Image.new("CMYK", (1, 1), (0, 0, 0, 255)))).tolist() == [[[0, 0, 0]]]


@pytest.mark.parametrize(
    ("rgba", "expected"),
    [
        ((255, 0, 0, 0), (255, 255, 255)),  # fully transparent -> white
        ((0, 0, 255, 255), (0, 0, 255)),  # opaque -> unchanged
        ((0, 0, 0, 128), (127, 127, 127)),  # 0*128/255 + 127 = 127
        ((200, 100, 50, 51), (244, 224, 214)),  # c*0.2 + 204
        ((0, 0, 0, 1), (254, 254, 254)),  # 254 + 0 exactly
        ((255, 255, 255, 77), (255, 255, 255)),
    ],
)
def test_alpha_is_composited_on_white(rgba, expected):
    image = Image.new("RGBA", (1, 1), rgba)
    assert tuple(as_array(to_rgb(image))[0, 0]) == expected


def test_every_alpha_mode_uses_the_same_rule():
    la = Image.fromarray(np.array([[[0, 128], [90, 255], [90, 0]]], np.uint8), "LA")
    assert grey(to_rgb(la)) == [127, 90, 255]
    palette = Image.new("P", (2, 1))
    palette.putpalette([255, 0, 0, 0, 0, 255])
    palette.putpixel((1, 0), 1)
    palette.info["transparency"] = 1
    assert as_array(to_rgb(palette)).tolist() == [[[255, 0, 0], [255, 255, 255]]]
    trns_grey = one_row([0, 50], np.uint8)
    trns_grey.info["transparency"] = 50
    assert grey(to_rgb(trns_grey)) == [0, 255]


def test_composite_formula_matches_exact_arithmetic_everywhere():
    colour, alpha = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    rgba = np.stack([colour, colour, colour, alpha], -1).astype(np.uint8)
    exact = colour * alpha / 255 + (255 - alpha)
    assert np.abs(composite_on_white(rgba)[..., 0] - exact).max() <= 0.5


@pytest.mark.parametrize(
    ("values", "dtype", "expected"),
    [
        ([1000, 2000, 3000], np.uint16, [0, 128, 255]),  # 127.5 rounds half up
        ([100, 101, 400], np.uint16, [0, 1, 255]),  # dim 16-bit: 1 level of 300 -> 0.85 -> 1
        ([0, 65535, 32767], np.uint16, [0, 255, 127]),
        ([-5, 0, 5], np.int32, [0, 128, 255]),
        ([-(2**31), 0, 2**31 - 1], np.int32, [0, 128, 255]),
        ([0.25, 0.5, 0.75], np.float32, [0, 128, 255]),
        ([np.nan, 1.0, 3.0, np.inf], np.float32, [0, 0, 255, 0]),
        ([-3e38, 3e38], np.float32, [0, 255]),  # range overflows float32
        ([7, 7, 7], np.uint16, [0, 0, 0]),  # constant -> black
        ([np.nan, np.nan], np.float32, [0, 0]),
    ],
)
def test_high_depth_is_min_max_stretched(values, dtype, expected):
    image = one_row(values, dtype)
    assert image.mode[0] in "IF"
    assert grey(to_rgb(image)) == expected


def test_big_endian_sixteen_bit():
    image = Image.fromarray(np.array([[1000, 2000, 3000]], ">u2"))
    assert image.mode == "I;16B"
    assert grey(to_rgb(image)) == [0, 128, 255]


def test_stretch_output_spans_full_range_for_random_data():
    values = np.random.default_rng(0).integers(200, 900, (40, 30)).astype(np.uint16)
    out = stretch_to_uint8(values)
    assert out.dtype == np.uint8 and out.shape == (40, 30)
    assert out.min() == 0 and out.max() == 255
    order = np.argsort(values, axis=None)
    assert (np.diff(out.ravel()[order].astype(int)) >= 0).all()  # monotonic


def test_to_rgb_leaves_input_alone_and_as_array_contract():
    source = Image.new("RGBA", (5, 3), (0, 0, 0, 0))
    result = to_rgb(source)
    assert source.mode == "RGBA" and result is not source
    pixels = as_array(result)
    assert pixels.shape == (3, 5, 3) and pixels.dtype == np.uint8
    assert pixels.flags.c_contiguous and pixels.flags.writeable
    assert as_array(source).tolist() == pixels.tolist()  # non-RGB input gets the rule
