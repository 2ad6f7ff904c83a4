"""ClassicSegmenter: the offline Segmenter (no weights), superpixels + colour models.

prepare() computes the working image (longest side <= WORKING_SIDE), its superpixels and
their features: that is the cached state. predict() answers a prompt in tens of
milliseconds from the state alone; auto() merges superpixels into object-like regions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from ..base import AutoMask, PredictedMask, PreparedImage, Prompt
from .automatic import automatic_masks
from .crop import crop_around
from .growth import extent_cuts, grow_order
from .interactive import crop_prompt, segment_crop
from .lowres import BACKGROUND_LOGIT, from_low_res, to_low_res
from .superpixels import compute_superpixels, superpixel_edges, superpixel_features

MODEL_ID = "classic-v1"
WORKING_SIDE = 1024
# Prior logit given to the grown superpixel region of a click-only prompt.
REGION_LOGIT = 1.5
CUT_RANK_PENALTY = 0.1


def working_image(image: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 -> the same image with its longest side at most WORKING_SIDE."""
    h, w = image.shape[:2]
    scale = WORKING_SIDE / max(h, w)
    if scale >= 1.0:
        return np.ascontiguousarray(image[..., :3])
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image[..., :3], size, interpolation=cv2.INTER_AREA)


def prepare_one(image: np.ndarray) -> PreparedImage:
    """The cached state of one HxWx3 uint8 image."""
    work = working_image(image)
    labels = compute_superpixels(work)
    arrays = {
        "image": work,
        "superpixels": labels,
        "features": superpixel_features(work, labels),
        "areas": np.bincount(labels.ravel()).astype(np.int32),
        "edges": superpixel_edges(labels),
    }
    return PreparedImage(MODEL_ID, arrays, tuple(image.shape[:2]), tuple(work.shape[:2]))


def _to_working(state: PreparedImage, points: np.ndarray) -> np.ndarray:
    factor = np.array(state.input_size[::-1], np.float32) / np.array(
        state.original_size[::-1], np.float32
    )
    return np.asarray(points, np.float32).reshape(-1, 2) * factor


def _grown_regions(state: PreparedImage, points, labels, count: int) -> list[np.ndarray]:
    """Up to `count` HxW float32 prior logit maps (working res) of regions grown from the
    clicks, one per granularity, best cut first."""
    sp = state.arrays["superpixels"]
    h, w = sp.shape
    cols = np.clip(points[:, 0].astype(int), 0, w - 1)
    rows = np.clip(points[:, 1].astype(int), 0, h - 1)
    ids = sp[rows, cols]
    order, costs = grow_order(
        state.arrays["features"], state.arrays["areas"], state.arrays["edges"],
        ids[labels > 0], ids[labels <= 0],
    )  # fmt: skip
    regions = []
    for cut in extent_cuts(costs, count):
        member = np.zeros(len(state.arrays["areas"]), bool)
        member[order[:cut]] = True
        regions.append(np.where(member[sp], REGION_LOGIT, -REGION_LOGIT).astype(np.float32))
    return (regions * count)[:count]


def _discount(mask: PredictedMask, rank: int) -> PredictedMask:
    """Lower a grown candidate's score by its cut's rank: stability alone picks the
    wrong granularity too often (measured on the nuclei bench)."""
    return PredictedMask(
        mask.mask, mask.score * (1.0 - CUT_RANK_PENALTY * rank), mask.low_res_logits
    )


def _roi(points: np.ndarray, box, previous, region) -> np.ndarray:
    """XYXY working-pixel region of interest covering every part of the prompt."""
    parts = [points] if len(points) else []
    if box is not None:
        parts.append(np.asarray(box, np.float32).reshape(2, 2))
    for logits in (previous, region):
        if logits is not None and (logits > 0).any() and box is None:
            ys, xs = np.nonzero(logits > 0)
            parts.append(np.array([[xs.min(), ys.min()], [xs.max() + 1, ys.max() + 1]]))
    corners = np.concatenate(parts).astype(np.float32)
    return np.concatenate([corners.min(0), corners.max(0)])


class ClassicSegmenter:
    """Segmenter backend needing no weights: superpixels, colour EM, region growing."""

    model_id = MODEL_ID
    name = "classic"
    notice = "offline segmenter: configure a SAM checkpoint for better masks"

    def prepare(self, images: list[np.ndarray]) -> list[PreparedImage]:
        return [prepare_one(image) for image in images]

    def predict(self, state: PreparedImage, prompt: Prompt) -> list[PredictedMask]:
        points = _to_working(state, prompt.points)
        labels = np.asarray(prompt.point_labels, np.int32).reshape(-1)
        box = None if prompt.box is None else _to_working(state, prompt.box).reshape(4)
        previous = None
        if prompt.mask_input is not None:
            previous = from_low_res(prompt.mask_input, state.input_size)
        count = 3 if prompt.multimask else 1
        if box is None and (labels > 0).any():
            regions = _grown_regions(state, points, labels, count)
            candidates = [
                _discount(self._answer(state, points, labels, None, previous, r, 1)[0], rank)
                for rank, r in enumerate(regions)
            ]
        elif box is not None or previous is not None:
            candidates = self._answer(state, points, labels, box, previous, None, count)
        else:
            raise ValueError("a prompt needs a box, a positive point or a mask_input")
        return sorted(candidates, key=lambda m: -m.score)

    def _answer(self, state, points, labels, box, previous, region, count):
        crop = crop_around(_roi(points, box, previous, region), state.input_size)
        local = crop_prompt(crop, points, labels, box, previous, region)
        candidates = segment_crop(crop.cut(state.arrays["image"]), local, count)
        return [self._output(state, crop, c) for c in candidates]

    def _output(self, state: PreparedImage, crop, candidate) -> PredictedMask:
        crop_logits, score = candidate
        full = crop.paste(crop_logits, np.full(state.input_size, BACKGROUND_LOGIT, np.float32))
        h, w = state.original_size
        if (h, w) != state.input_size:
            full = cv2.resize(full, (w, h), interpolation=cv2.INTER_LINEAR)
        return PredictedMask(full > 0, score, to_low_res(full))

    def auto(
        self,
        state: PreparedImage,
        image: np.ndarray,
        params: dict[str, Any],
        between_batches: Callable[[], None] | None = None,
    ) -> list[AutoMask]:
        return automatic_masks(state, params)  # one pass, no point batches to yield between
