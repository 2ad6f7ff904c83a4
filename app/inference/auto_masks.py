"""Automatic masks, fast: SamAutomaticMaskGenerator's algorithm on the batched ONNX decoder,
skipping grid points that masks already found cover.

Same grid, thresholds and NMS as segment-anything (crop_n_layers=0). Two differences make it
cheaper: the image part of the decoder runs once per image (batch_decoder.py), and points are
visited coarse to fine, a point being skipped when it lies inside a mask already kept (the
point would only find that object again; NMS drops such repeats anyway). Masks are HxW bool in
canonical pixels; grid points (X, Y) in canonical pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import cv2
import numpy as np
import torch
from segment_anything.utils.amg import build_point_grid, remove_small_regions
from segment_anything.utils.transforms import ResizeLongestSide
from torchvision.ops import batched_nms

from app.inference.base import AutoMask, PreparedImage
from app.inference.batch_decoder import BatchRunner

MULTIMASK_TOKENS = [1, 2, 3]
# A point's finest mask skips later points only below this share of the image: a background
# point's finest mask can be the whole image, nuclei and all.
PRUNE_MAX_SHARE = 0.25


@dataclass(frozen=True)
class AutoParams:
    """SamAutomaticMaskGenerator's parameters and defaults (crop layers excluded)."""

    points_per_side: int = 32
    points_per_batch: int = 64
    pred_iou_thresh: float = 0.88
    stability_score_thresh: float = 0.95
    stability_score_offset: float = 1.0
    box_nms_thresh: float = 0.7
    min_mask_region_area: int = 0
    prune: bool = True  # skip points inside kept masks

    @classmethod
    def of(cls, params: dict[str, Any]) -> AutoParams:
        unknown = set(params) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown automatic-mask parameters: {sorted(unknown)}")
        return cls(**params)


def grid_points(points_per_side: int, height: int, width: int) -> np.ndarray:
    """segment-anything's grid in pixels (Px2 float32 X, Y), coarse to fine: every 2^k-th
    point of both axes before the points of the finer levels."""
    grid = build_point_grid(points_per_side).reshape(points_per_side, points_per_side, 2)
    index = np.arange(points_per_side)
    # The level of a row (column) is its index's largest power-of-two divisor.
    level = np.minimum(*np.meshgrid(_two_adic(index), _two_adic(index), indexing="ij"))
    order = np.argsort(-level.reshape(-1), kind="stable")
    return (grid.reshape(-1, 2)[order] * [width, height]).astype(np.float32)


def _two_adic(index: np.ndarray) -> np.ndarray:
    """Largest k with 2^k dividing i (index 0 counts as the coarsest)."""
    powers = np.zeros_like(index)
    for k in range(1, 16):
        powers[index % (1 << k) == 0] = k
    return powers


def upscale_logits(
    low_res: np.ndarray, input_size: tuple[int, int], original_size: tuple[int, int], img_size: int
) -> np.ndarray:
    """Cx256x256 logits -> CxHxW float32 logits, as Sam.postprocess_masks (bilinear to the
    padded square, crop to the resized image, bilinear to the original size). OpenCV's
    INTER_LINEAR has torch's align_corners=False mapping and is several times faster."""
    channels = np.ascontiguousarray(low_res.transpose(1, 2, 0), dtype=np.float32)
    padded = cv2.resize(channels, (img_size, img_size), interpolation=cv2.INTER_LINEAR)
    cropped = padded[: input_size[0], : input_size[1]]
    height, width = original_size
    full = cv2.resize(cropped, (width, height), interpolation=cv2.INTER_LINEAR)
    return full.reshape(height, width, -1).transpose(2, 0, 1)  # OpenCV drops a single channel


@dataclass
class _Kept:
    masks: list[np.ndarray]
    ious: list[float]
    stabilities: list[float]


class FastAutoMasks:
    """Automatic masks of one prepared image with a BatchRunner (see the module docstring)."""

    def __init__(
        self, runner: BatchRunner, transform: ResizeLongestSide, mask_threshold: float = 0.0
    ) -> None:
        self.runner = runner
        self.transform = transform
        self.threshold = mask_threshold

    def __call__(
        self,
        state: PreparedImage,
        params: AutoParams,
        between_batches: Callable[[], None] = lambda: None,
    ) -> list[AutoMask]:
        features = state.arrays["features"].astype(np.float32)
        projected = self.runner.project(features)
        height, width = state.original_size
        pending = list(grid_points(params.points_per_side, height, width))
        covered = np.zeros((height, width), bool)
        kept = _Kept([], [], [])
        while pending:
            batch, pending = _next_batch(pending, covered, params)
            if not batch:
                break
            between_batches()
            found = self._batch(state, features, projected, np.array(batch), params, kept)
            if params.prune:
                for mask in found:
                    if mask.mean() <= PRUNE_MAX_SHARE:
                        covered |= mask
        return _finish(kept, params)

    def _batch(
        self,
        state: PreparedImage,
        features: np.ndarray,
        projected: tuple[np.ndarray, ...],
        points: np.ndarray,
        params: AutoParams,
        kept: _Kept,
    ) -> list[np.ndarray]:
        """Decode B points (Bx2 pixels), keep the masks that pass both thresholds; returns
        each point's finest kept mask (the part it lies on, not a whole that merges several
        objects), which is what later points inside it are skipped for."""
        coords = self.transform.apply_coords(points, state.original_size).astype(np.float32)
        padding = np.zeros_like(coords)
        prompts = np.stack([coords, padding], axis=1)  # B x 2 x 2
        labels = np.tile(np.array([[1.0, -1.0]], np.float32), (len(points), 1))
        low_res, scores = self.runner(features, projected, prompts, labels)
        finest: dict[int, np.ndarray] = {}  # point -> its smallest kept mask
        passing = np.nonzero(scores[:, MULTIMASK_TOKENS] > params.pred_iou_thresh)
        for b, t in zip(*passing, strict=True):
            logits = upscale_logits(
                low_res[b, MULTIMASK_TOKENS[t]][None],
                state.input_size,
                state.original_size,
                self.transform.target_length,
            )[0]
            stability = _stability(logits, self.threshold, params.stability_score_offset)
            if stability >= params.stability_score_thresh:
                mask = logits > self.threshold
                kept.masks.append(mask)
                kept.ious.append(float(scores[b, MULTIMASK_TOKENS[t]]))
                kept.stabilities.append(stability)
                if b not in finest or mask.sum() < finest[b].sum():
                    finest[b] = mask
        return list(finest.values())


def _next_batch(
    pending: list[np.ndarray], covered: np.ndarray, params: AutoParams
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Up to points_per_batch of the pending points not covered yet, and the rest."""
    batch: list[np.ndarray] = []
    for index, point in enumerate(pending):
        if len(batch) == params.points_per_batch:
            return batch, pending[index:]
        if not covered[int(point[1]), int(point[0])]:
            batch.append(point)
    return batch, []


def _stability(logits: np.ndarray, threshold: float, offset: float) -> float:
    """segment-anything's stability score: IoU of the masks at threshold +- offset."""
    union = np.count_nonzero(logits > threshold - offset)
    return float(np.count_nonzero(logits > threshold + offset) / union) if union else 0.0


def _boxes(masks: list[np.ndarray]) -> torch.Tensor:
    """XYXY boxes with inclusive max corners, as segment-anything's batched_mask_to_box."""
    boxes = []
    for mask in masks:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        boxes.append([cols[0], rows[0], cols[-1], rows[-1]] if rows.size else [0, 0, 0, 0])
    return torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)


def _nms(masks: list[np.ndarray], scores: list[float], threshold: float) -> list[int]:
    if not masks:
        return []
    scores_t = torch.tensor(scores, dtype=torch.float32)
    boxes = _boxes(masks)
    return batched_nms(boxes, scores_t, torch.zeros(len(masks)), threshold).tolist()


def _finish(kept: _Kept, params: AutoParams) -> list[AutoMask]:
    """Box NMS over every kept mask, then segment-anything's small-region clean-up."""
    order = _nms(kept.masks, kept.ious, params.box_nms_thresh)
    result = [AutoMask(kept.masks[i], kept.ious[i], kept.stabilities[i]) for i in order]
    if params.min_mask_region_area > 0:
        result = _remove_small_regions(result, params)
    return result


def _remove_small_regions(masks: list[AutoMask], params: AutoParams) -> list[AutoMask]:
    """SamAutomaticMaskGenerator.postprocess_small_regions: fill small holes, drop small
    islands, and prefer (in a second NMS) the masks that needed no change."""
    cleaned, unchanged = [], []
    for entry in masks:
        mask, changed = remove_small_regions(entry.mask, params.min_mask_region_area, "holes")
        mask, changed_islands = remove_small_regions(mask, params.min_mask_region_area, "islands")
        cleaned.append(AutoMask(mask, entry.predicted_iou, entry.stability_score))
        unchanged.append(float(not (changed or changed_islands)))
    keep = _nms([m.mask for m in cleaned], unchanged, params.box_nms_thresh)
    return [cleaned[i] for i in sorted(keep)]
