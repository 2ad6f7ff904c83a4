"""Masked crops: the picture of one segment that a classifier backbone embeds.

Pure numpy + Pillow. A crop is the mask's bounding box grown by a context margin, made
square around its centre (out-of-image area filled neutral), with the pixels outside the
mask pulled towards a neutral grey, then resized to size x size.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# Mid grey: maps to 0 under the [-1, 1] input scaling of the default backbone, so suppressed
# background carries no signal.
NEUTRAL = 128


def mask_xyxy(mask: np.ndarray) -> tuple[int, int, int, int]:
    """XYXY box (x1, y1 inclusive; x2, y2 exclusive) of the True pixels of an HxW bool mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("cannot crop an empty mask")
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def square_window(box: tuple[int, int, int, int], margin: float) -> tuple[int, int, int]:
    """(x0, y0, side): the square of side max(w, h) * (1 + 2 * margin) centred on the XYXY box."""
    x1, y1, x2, y2 = box
    side = max(1, round(max(x2 - x1, y2 - y1) * (1 + 2 * margin)))
    return round((x1 + x2 - side) / 2), round((y1 + y2 - side) / 2), side


def masked_crop(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    size: int = 224,
    margin: float = 0.1,
    background_keep: float = 0.0,
) -> np.ndarray:
    """One segment's crop: size x size x 3 uint8.

    image: HxWx3 uint8 RGB; mask: HxW bool (same H, W), not empty. margin: context added on
    each side, as a fraction of the box's longer side. background_keep: 0 paints everything
    outside the mask NEUTRAL, 1 keeps the original pixels; values between blend.
    """
    if mask.shape != image.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match image {image.shape[:2]}")
    x0, y0, side = square_window(mask_xyxy(mask), margin)
    canvas = np.full((side, side, 3), NEUTRAL, np.uint8)
    inside = np.zeros((side, side), bool)
    src_x, src_y = (
        slice(max(x0, 0), min(x0 + side, image.shape[1])),
        slice(max(y0, 0), min(y0 + side, image.shape[0])),
    )
    dst_x = slice(src_x.start - x0, src_x.stop - x0)
    dst_y = slice(src_y.start - y0, src_y.stop - y0)
    canvas[dst_y, dst_x] = image[src_y, src_x]
    inside[dst_y, dst_x] = mask[src_y, src_x]
    suppressed = _suppress(canvas, inside, background_keep)
    return np.asarray(Image.fromarray(suppressed).resize((size, size), Image.Resampling.BICUBIC))


def _suppress(canvas: np.ndarray, inside: np.ndarray, keep: float) -> np.ndarray:
    if keep >= 1.0:
        return canvas
    blended = NEUTRAL + keep * (canvas.astype(np.float32) - NEUTRAL)
    return np.where(inside[..., None], canvas, np.rint(blended).astype(np.uint8))


def masked_crops(
    image: np.ndarray,
    masks: list[np.ndarray],
    *,
    size: int = 224,
    margin: float = 0.1,
    background_keep: float = 0.0,
) -> np.ndarray:
    """(N, size, size, 3) uint8: masked_crop of each HxW bool mask (arguments as there)."""
    crops = [
        masked_crop(image, mask, size=size, margin=margin, background_keep=background_keep)
        for mask in masks
    ]
    return np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8)


def resized_image(image: np.ndarray, size: int = 224) -> np.ndarray:
    """A whole HxWx3 uint8 image squashed to size x size x 3 (bicubic), for whole-image embeds."""
    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC))
