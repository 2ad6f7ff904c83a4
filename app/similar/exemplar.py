"""Exemplar prompting (PerSAM, training-free): find more objects like a few labelled masks.

The target feature is the mean of the exemplars' mask-pooled SAM embeddings. In another image,
the cosine similarity between it and each cell of the image's cached 64x64 SAM embedding is a
location prior: its maximum becomes a positive point and its minimum a negative point for SAM's
decoder. A second decoder pass (PerSAM's cascaded refinement) adds the first mask's low-res
logits and its box. Pure numpy over PreparedImage; the decoder is whatever Segmenter is given.

Frames: the 64x64 grid covers SAM's padded 1024x1024 input (16x16 input pixels per cell); the
image was resized to input_size (H, W) and padded bottom/right, so only the top-left
ceil(H/16) x ceil(W/16) cells are image. Points come out in canonical pixels, XY.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.embeddings.sam_pool import GRID, PADDED_SIDE, SamPoolEmbedder, grid_coverage
from app.inference.base import PredictedMask, PreparedImage, Prompt, Segmenter
from app.masks import mask_xywh
from app.similar.index import normalise

CELL = PADDED_SIDE // GRID
_POOL = SamPoolEmbedder()


@dataclass(frozen=True)
class Proposal:
    """mask: HxW bool, canonical frame; score in [0, 1] (predicted_iou x similarity);
    predicted_iou: the decoder's own estimate; similarity: cosine of the mask's pooled feature
    to the target, clipped to [0, 1]; point: the positive prompt (X, Y) in canonical pixels."""

    mask: np.ndarray
    score: float
    predicted_iou: float
    similarity: float
    point: tuple[float, float]


def target_feature(states: list[PreparedImage], masks: list[np.ndarray]) -> np.ndarray:
    """(256,) float32 unit vector: mean of each exemplar's mask-pooled feature.

    states[i] is the cached embedding of the image holding masks[i] (HxW bool, canonical).
    """
    pooled = [_POOL.embed_prepared(s, [m])[0] for s, m in zip(states, masks, strict=True)]
    return normalise(np.mean(pooled, axis=0)[None])[0]


def similarity_map(state: PreparedImage, target: np.ndarray) -> np.ndarray:
    """(rows, cols) float32 cosine similarity of each image cell's feature to target (256,);
    only the cells that cover the image, not SAM's padding."""
    rows, cols = image_cells(state.input_size)
    features = np.asarray(state.arrays["features"], np.float32).reshape(-1, GRID, GRID)
    cells = features[:, :rows, :cols].reshape(features.shape[0], -1).T
    return (normalise(cells) @ normalise(target[None])[0]).reshape(rows, cols)


def image_cells(input_size: tuple[int, int]) -> tuple[int, int]:
    """How many grid rows and columns hold image (not padding) for a resized (H, W)."""
    return math.ceil(input_size[0] / CELL), math.ceil(input_size[1] / CELL)


def cell_point(cell: tuple[int, int], state: PreparedImage) -> tuple[float, float]:
    """Centre of grid cell (row, col) as (X, Y) canonical pixels, clamped into the image."""
    (in_h, in_w), (height, width) = state.input_size, state.original_size
    x = min((cell[1] + 0.5) * CELL, in_w - 0.5) * width / in_w
    y = min((cell[0] + 0.5) * CELL, in_h - 0.5) * height / in_h
    return float(x), float(y)


def prompt_points(similarity: np.ndarray, state: PreparedImage) -> tuple[np.ndarray, np.ndarray]:
    """PerSAM's location prior: (points 2x2 float32 XY, labels [1, 0] int32) at the most
    similar cell (positive) and the least similar one (negative). -inf cells are suppressed
    (already found) and never chosen as either."""
    finite = np.where(np.isfinite(similarity), similarity, np.inf)
    best, worst = peak_cell(similarity), _cell(int(np.argmin(finite)), similarity.shape)
    points = [cell_point(best, state), cell_point(worst, state)]
    return np.array(points, np.float32), np.array([1, 0], np.int32)


def peak_cell(similarity: np.ndarray) -> tuple[int, int]:
    """(row, col) of the most similar cell."""
    return _cell(int(np.argmax(similarity)), similarity.shape)


def _cell(flat: int, shape: tuple[int, ...]) -> tuple[int, int]:
    return flat // shape[1], flat % shape[1]


def suppress(similarity: np.ndarray, mask: np.ndarray, state: PreparedImage) -> None:
    """Set the cells a found mask (HxW bool) touches to -inf, in place, so the next peak
    is another object (non-maximum suppression on the prior)."""
    rows, cols = similarity.shape
    covered = grid_coverage(mask, state.original_size, state.input_size)[:rows, :cols] > 0
    similarity[covered] = -np.inf


def decode_cascade(segmenter: Segmenter, state: PreparedImage, prompt: Prompt) -> PredictedMask:
    """Two decoder passes: the points alone (3 candidates, best predicted IoU), then the same
    points with that mask's low-res logits and its box, keeping the best refined mask."""
    first = segmenter.predict(state, prompt)[0]
    if not first.mask.any():
        return first
    x, y, w, h = mask_xywh(first.mask)
    refine = Prompt(
        points=prompt.points,
        point_labels=prompt.point_labels,
        box=np.array([x, y, x + w, y + h], np.float32),
        mask_input=first.low_res_logits[None],
        multimask=True,
    )
    return segmenter.predict(state, refine)[0]


def propose(
    segmenter: Segmenter, state: PreparedImage, target: np.ndarray, count: int
) -> list[Proposal]:
    """Up to `count` masks in one image, one per similarity peak, best peak first.

    Runs on the inference worker thread (it calls the decoder). Empty masks are dropped.
    """
    similarity = similarity_map(state, target)
    found: list[Proposal] = []
    for _ in range(count):
        if not np.isfinite(similarity).any():
            break
        points, labels = prompt_points(similarity, state)
        best = decode_cascade(segmenter, state, Prompt(points=points, point_labels=labels))
        similarity[peak_cell(similarity)] = -np.inf  # even an empty mask moves the search on
        if not best.mask.any():
            continue
        suppress(similarity, best.mask, state)
        found.append(_scored(best, state, target, (float(points[0, 0]), float(points[0, 1]))))
    return found


def _scored(
    mask: PredictedMask, state: PreparedImage, target: np.ndarray, point: tuple[float, float]
) -> Proposal:
    # The decoder's IoU estimate says "this is a clean object", the pooled similarity says
    # "this is the exemplar's class"; either alone is fooled (a crisp wrong object, a blob
    # over the right texture), their product needs both. Pooled over the final mask rather
    # than the prior's cells, so an exemplar scored against itself gets exactly 1.
    pooled = _POOL.embed_prepared(state, [mask.mask])[0]
    similarity = float(np.clip(pooled @ target, 0.0, 1.0))
    return Proposal(mask.mask, mask.score * similarity, mask.score, similarity, point)
