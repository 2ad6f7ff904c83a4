"""sam-pool: a segment's vector is the mean of SAM's cached image embedding under its mask.

Free (no extra model run) wherever SAM runs. Pure numpy: works on the PreparedImage the
segmenter already cached. SAM's 64x64 feature grid covers its padded 1024x1024 input; the
image was resized (longest side 1024) to input_size and padded bottom/right, so a mask is
mapped original -> input_size -> padded square -> 64x64 cells (16x16 input pixels each).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.embeddings.base import l2_normalise
from app.inference.base import PreparedImage

GRID = 64
PADDED_SIDE = 1024


class SamPoolEmbedder:
    """Embeds segments from SAM features; vectors are (N, 256) float32 unit rows.

    prepare: the segmenter's encode step (e.g. lambda image: segmenter.prepare([image])[0]),
    used by embed(); callers holding the cached state use embed_prepared() directly.
    """

    name = "sam-pool"
    dim = 256

    def __init__(self, prepare: Callable[[np.ndarray], PreparedImage] | None = None) -> None:
        self._prepare = prepare

    def embed(self, image: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
        if self._prepare is None:
            raise RuntimeError("sam-pool needs the segmenter's prepare step or embed_prepared()")
        return self.embed_prepared(self._prepare(image), masks)

    def embed_prepared(self, state: PreparedImage, masks: list[np.ndarray]) -> np.ndarray:
        """state.arrays["features"]: (1, C, 64, 64) or (C, 64, 64); masks: HxW bool."""
        return self.embed_from_features(
            state.arrays["features"], masks, state.original_size, state.input_size
        )

    def embed_from_features(
        self,
        features: np.ndarray,
        masks: list[np.ndarray],
        original_size: tuple[int, int],
        input_size: tuple[int, int],
    ) -> np.ndarray:
        """features (C, 64, 64) any float dtype; masks HxW bool at original_size (H, W);
        input_size (H, W) after SAM's resize. Returns (len(masks), C) float32 unit rows."""
        grid = np.asarray(features, dtype=np.float32).reshape(-1, GRID * GRID)
        if not masks:
            return np.zeros((0, grid.shape[0]), np.float32)
        weights = np.stack([grid_coverage(m, original_size, input_size) for m in masks])
        pooled = weights.reshape(len(masks), -1) @ grid.T
        return l2_normalise(pooled / weights.reshape(len(masks), -1).sum(1, keepdims=True))


def grid_coverage(
    mask: np.ndarray, original_size: tuple[int, int], input_size: tuple[int, int]
) -> np.ndarray:
    """64x64 float32: fraction of each feature cell covered by the HxW bool mask.

    Never all zero: a mask too small to survive the resize falls back to the cell holding
    its centre, so every non-empty mask gets a vector.
    """
    if mask.shape != tuple(original_size):
        raise ValueError(f"mask {mask.shape} is not at original_size {original_size}")
    in_h, in_w = input_size
    # nearest-neighbour resample: input pixel centre -> original pixel
    rows = np.minimum(
        ((np.arange(in_h) + 0.5) * original_size[0] / in_h).astype(int), original_size[0] - 1
    )
    cols = np.minimum(
        ((np.arange(in_w) + 0.5) * original_size[1] / in_w).astype(int), original_size[1] - 1
    )
    padded = np.zeros((PADDED_SIDE, PADDED_SIDE), np.float32)
    padded[:in_h, :in_w] = mask[np.ix_(rows, cols)]
    cell = PADDED_SIDE // GRID
    coverage = padded.reshape(GRID, cell, GRID, cell).mean(axis=(1, 3))
    if coverage.any():
        return coverage
    return _centre_cell(mask, original_size, input_size)


def _centre_cell(
    mask: np.ndarray, original_size: tuple[int, int], input_size: tuple[int, int]
) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        raise ValueError("cannot embed an empty mask")
    scale = PADDED_SIDE // GRID
    gy = min(int(ys.mean() * input_size[0] / original_size[0]) // scale, GRID - 1)
    gx = min(int(xs.mean() * input_size[1] / original_size[1]) // scale, GRID - 1)
    onehot = np.zeros((GRID, GRID), np.float32)
    onehot[gy, gx] = 1.0
    return onehot
