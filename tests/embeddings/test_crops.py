"""Masked crops: square, background suppressed, segment pixels kept, edges padded."""

from __future__ import annotations

import numpy as np
import pytest

from app.embeddings.crops import NEUTRAL, mask_xyxy, masked_crop, masked_crops, square_window


def _scene(h: int = 120, w: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Random background with a solid red 40x80 (h x w) rectangle that is the mask."""
    image = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), bool)
    mask[40:80, 60:140] = True
    image[mask] = (200, 10, 10)
    return image, mask


def test_bbox_is_xyxy_with_exclusive_end() -> None:
    _, mask = _scene()
    assert mask_xyxy(mask) == (60, 40, 140, 80)


def test_window_is_square_around_the_box_with_margin() -> None:
    x0, y0, side = square_window((60, 40, 140, 80), margin=0.25)
    assert side == 120  # longer side 80 * 1.5
    assert (x0 + side / 2, y0 + side / 2) == (100, 60)


def test_crop_shape_and_dtype() -> None:
    image, mask = _scene()
    crop = masked_crop(image, mask, size=96)
    assert crop.shape == (96, 96, 3) and crop.dtype == np.uint8


def test_background_is_neutral_and_segment_is_kept() -> None:
    image, mask = _scene()
    crop = masked_crop(image, mask, size=128, margin=0.1)
    assert (crop[:8, :8] == NEUTRAL).all()  # above the wide rectangle: background
    assert (crop[:8, -8:] == NEUTRAL).all()
    assert (crop[60:68, 60:68] == (200, 10, 10)).all()  # middle of the segment


def test_background_keep_blends_between_erased_and_original() -> None:
    image, mask = _scene()
    kept = masked_crop(image, mask, size=64, margin=0.0, background_keep=1.0)
    erased = masked_crop(image, mask, size=64, margin=0.0, background_keep=0.0)
    half = masked_crop(image, mask, size=64, margin=0.0, background_keep=0.5)
    assert (erased[:8] == NEUTRAL).all()
    assert not (kept[:8] == NEUTRAL).all()
    spread = np.abs(half[:8].astype(int) - NEUTRAL).mean()
    assert 0 < spread < np.abs(kept[:8].astype(int) - NEUTRAL).mean()


def test_mask_at_image_edge_is_padded_neutral() -> None:
    image = np.full((50, 50, 3), 30, np.uint8)
    mask = np.zeros((50, 50), bool)
    mask[:, :10] = True  # tall strip on the left edge: the square window leaves the image
    crop = masked_crop(image, mask, size=50, margin=0.0, background_keep=1.0)
    assert (crop[:, :5] == NEUTRAL).all()  # outside the image
    assert (crop[:, 23:27] == 30).all()  # the strip, centred


def test_empty_mask_and_wrong_shape_are_rejected() -> None:
    image, mask = _scene()
    with pytest.raises(ValueError):
        masked_crop(image, np.zeros_like(mask))
    with pytest.raises(ValueError):
        masked_crop(image, mask[:10])


def test_batch_of_crops() -> None:
    image, mask = _scene()
    assert masked_crops(image, [mask, mask], size=32).shape == (2, 32, 32, 3)
    assert masked_crops(image, [], size=32).shape == (0, 32, 32, 3)
