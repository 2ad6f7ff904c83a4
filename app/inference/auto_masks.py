"""Automatic masks, fast: SamAutomaticMaskGenerator's algorithm on the batched ONNX decoder,
skipping grid points where the image looks like the points that found no object.

Same grid, thresholds and NMS as segment-anything (crop_n_layers=0). Two differences make it
cheaper: the image part of the decoder runs once per image (batch_decoder.py), and points are
visited coarse to fine, a point being skipped when its image embedding resembles those of the
points that found only whole-image masks (point_pruning.py). Masks are HxW bool in canonical
pixels; grid points (X, Y) in canonical pixels.
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
from app.inference.point_pruning import PointPruner


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
    prune: bool = True  # skip points that look like those that found nothing

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
        points = grid_points(params.points_per_side, height, width)
        coords = self.transform.apply_coords(points, state.original_size).astype(np.float32)
        pruner = PointPruner(features, coords) if params.prune else None
        pending = list(range(len(points)))
        kept = _Kept([], [], [])
        while pending:
            batch, pending = _next_batch(pending, pruner, params.points_per_batch)
            if not batch:
                break
            between_batches()
            shares = self._batch(state, features, projected, coords[batch], params, kept)
            if pruner is not None:
                for index, point_shares in zip(batch, shares, strict=True):
                    pruner.learn(index, point_shares)
        return _finish(kept, params)

    def _batch(
        self,
        state: PreparedImage,
        features: np.ndarray,
        projected: tuple[np.ndarray, ...],
        coords: np.ndarray,
        params: AutoParams,
        kept: _Kept,
    ) -> list[list[float]]:
        """Decode B points (Bx2, 1024 model frame), keep the masks that pass both thresholds;
        returns each point's kept masks' shares of the image."""
        padding = np.zeros_like(coords)
        prompts = np.stack([coords, padding], axis=1)  # B x 2 x 2
        labels = np.tile(np.array([[1.0, -1.0]], np.float32), (len(coords), 1))
        low_res, scores = self.runner(features, projected, prompts, labels)  # multimask tokens
        shares: list[list[float]] = [[] for _ in coords]
        passing = np.nonzero(scores > params.pred_iou_thresh)
        for b, t in zip(*passing, strict=True):
            logits = upscale_logits(
                low_res[b, t][None],
                state.input_size,
                state.original_size,
                self.transform.target_length,
            )[0]
            stability = _stability(logits, self.threshold, params.stability_score_offset)
            if stability >= params.stability_score_thresh:
                mask = logits > self.threshold
                kept.masks.append(mask)
                kept.ious.append(float(scores[b, t]))
                kept.stabilities.append(stability)
                shares[b].append(float(mask.mean()))
        return shares


def _next_batch(
    pending: list[int], pruner: PointPruner | None, size: int
) -> tuple[list[int], list[int]]:
    """Up to `size` of the pending points that the pruner does not skip, and the rest (the
    skipped ones are dropped)."""
    batch: list[int] = []
    for position, index in enumerate(pending):
        if len(batch) == size:
            return batch, pending[position:]
        if pruner is None or not pruner.skips(index):
            batch.append(index)
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
