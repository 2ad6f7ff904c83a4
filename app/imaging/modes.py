"""The mode rule: every Pillow mode becomes 8-bit RGB the same way, everywhere.

Rule (each branch is pinned by tests/imaging/test_modes.py):

* 8-bit colour and grey modes (1, L, P, RGB, RGBX, CMYK, YCbCr, LAB, HSV): Pillow's own
  conversion, values unchanged (1 -> 0/255, L -> grey, CMYK naively inverted; embedded ICC
  profiles are ignored, pixel values are taken as sRGB).
* Anything with alpha (LA, La, PA, RGBA, RGBa, and P/L/RGB with a ``transparency`` key)
  is composited on WHITE: ``out = round((c*a + 255*(255 - a)) / 255)``. White because
  transparent regions are "no object" and every browser and viewer shows them light; a black
  fill would invent a dark edge around cut-outs that SAM would happily segment.
* More than 8 bits (I;16*, I, F): a per-image min-max stretch to 0..255,
  ``out = floor((v - min) * 255 / (max - min) + 0.5)``. 16-bit microscopy frames typically
  use a few hundred levels of 65535, so a fixed-range mapping would show a black image; a
  stretch is what a labeller expects (napari's default contrast limits do the same).
  Non-finite floats become the minimum. A constant image becomes black. Replicated to 3 channels.

8-bit data is never stretched: it is already meant for display, and stretching photos would
change their colours.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})
_HIGH_DEPTH_PREFIXES = ("I", "F")


def to_rgb(image: Image.Image) -> Image.Image:
    """A new mode-"RGB" image following the rule above; ``image`` is not modified."""
    if image.mode.startswith(_HIGH_DEPTH_PREFIXES):
        return Image.fromarray(np.repeat(stretch_to_uint8(np.asarray(image))[..., None], 3, 2))
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        return Image.fromarray(composite_on_white(np.asarray(image.convert("RGBA"))))
    return image.convert("RGB")


def as_array(image: Image.Image) -> np.ndarray:
    """Fresh, writable HxWx3 uint8 C-contiguous RGB array (mode rule applied if not RGB)."""
    rgb = image if image.mode == "RGB" else to_rgb(image)
    return np.array(rgb, dtype=np.uint8)


def composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """HxWx4 uint8 RGBA -> HxWx3 uint8 RGB over a white background, rounded to nearest."""
    colour = rgba[..., :3].astype(np.uint32)
    alpha = rgba[..., 3:].astype(np.uint32)
    # +127 then floor division rounds to nearest; ties cannot occur with a 255 divisor.
    blended = (colour * alpha + 255 * (255 - alpha) + 127) // 255
    return blended.astype(np.uint8)


def stretch_to_uint8(values: np.ndarray) -> np.ndarray:
    """HxW integer or float array -> HxW uint8, min-max stretched over its finite values."""
    # float32 is exact for 16-bit data ((2**16 - 1) * 255 < 2**24) and halves the memory;
    # float input keeps float64 so a range near float32's limits cannot overflow to inf.
    data = values.astype(np.float64 if values.dtype.kind == "f" else np.float32)
    finite = np.isfinite(data)
    if not finite.all():
        if not finite.any():
            return np.zeros(data.shape, np.uint8)
        data = np.where(finite, data, data[finite].min())
    low, high = data.min(), data.max()
    if high == low:
        return np.zeros(data.shape, np.uint8)
    scaled = np.floor((data - low) * 255 / (high - low) + 0.5)
    return np.clip(scaled, 0, 255).astype(np.uint8)
