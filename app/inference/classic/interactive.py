"""Point, box and mask prompts -> candidate masks, on the working image.

A prompt becomes a prior in a normalised crop (box: an ellipse-shaped belief that fades
towards the corners and is confidently background outside the box; clicks: hard
constraints plus a local bump; a previous mask: its logits), which region.py turns into
a mask with colour evidence. Coordinates are working-image pixels, XY; boxes XYXY.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .crop import Crop
from .region import FIXED_LOGIT, refine_logits, select_region

# Prior logit at a box's centre, falling linearly to 0 on its inscribed ellipse.
BOX_CENTRE_LOGIT = 4.0
OUTSIDE_BOX_LOGIT = -8.0
# Click disks (hard constraints) and the softer bump around positive clicks, crop pixels.
CLICK_RADIUS = 3.0
CLICK_BUMP_SIGMA = 10.0
CLICK_BUMP_LOGIT = 3.0
PREVIOUS_MASK_WEIGHT = 0.5
PREVIOUS_MASK_CLIP = 6.0
# Threshold offsets (logits) of the tighter and looser multimask candidates.
CANDIDATE_OFFSETS = (0.0, -2.0, 2.0)


@dataclass(frozen=True)
class CropPrompt:
    """A prompt in crop pixels: points Nx2 float32, labels N int32, box 4 float32 or None,
    previous hxw float32 logits or None, region hxw float32 logits or None."""

    points: np.ndarray
    labels: np.ndarray
    box: np.ndarray | None
    previous: np.ndarray | None
    region: np.ndarray | None


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    return xs + 0.5, ys + 0.5


def box_prior(shape: tuple[int, int], box: np.ndarray) -> np.ndarray:
    """hxw float32 logits: BOX_CENTRE_LOGIT at the centre, 0 on the inscribed ellipse."""
    xs, ys = _grid(shape)
    x0, y0, x1, y1 = (float(v) for v in box)
    rx, ry = max((x1 - x0) / 2, 0.5), max((y1 - y0) / 2, 0.5)
    radius = np.hypot((xs - (x0 + x1) / 2) / rx, (ys - (y0 + y1) / 2) / ry)
    inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
    return np.where(inside, BOX_CENTRE_LOGIT * (1 - radius), OUTSIDE_BOX_LOGIT).astype(np.float32)


def click_terms(shape: tuple[int, int], points: np.ndarray, labels: np.ndarray):
    """(fixed hxw int8, bump hxw float32): click disks as constraints, bumps as prior."""
    xs, ys = _grid(shape)
    fixed = np.zeros(shape, np.int8)
    bump = np.zeros(shape, np.float32)
    for (px, py), label in zip(points, labels, strict=True):
        d2 = (xs - px) ** 2 + (ys - py) ** 2
        sign = 1 if label > 0 else -1
        fixed[d2 <= CLICK_RADIUS**2] = sign
        bump += sign * CLICK_BUMP_LOGIT * np.exp(-d2 / (2 * CLICK_BUMP_SIGMA**2))
    return fixed, bump


def prompt_prior(shape: tuple[int, int], prompt: CropPrompt) -> tuple[np.ndarray, np.ndarray]:
    """(prior hxw float32 logits, fixed hxw int8) for a prompt in crop pixels."""
    fixed, prior = click_terms(shape, prompt.points, prompt.labels)
    if prompt.box is not None:
        prior = prior + box_prior(shape, prompt.box)
    if prompt.region is not None:
        prior = prior + prompt.region
    if prompt.previous is not None:
        clipped = np.clip(prompt.previous, -PREVIOUS_MASK_CLIP, PREVIOUS_MASK_CLIP)
        prior = prior + PREVIOUS_MASK_WEIGHT * clipped
    return prior.astype(np.float32), fixed


def _candidate(logits, anchor, fixed, offset):
    mask = select_region(logits > offset, anchor, fixed)
    shifted = logits - offset
    out = np.where(mask, np.maximum(shifted, 0.5), np.minimum(shifted, -0.5))
    loose, tight = logits > offset - 1.0, logits > offset + 1.0
    stability = (tight & mask).sum() / max(int((loose | mask).sum()), 1)
    return out.astype(np.float32), float(np.clip(stability, 0.0, 1.0))


def segment_crop(pixels: np.ndarray, prompt: CropPrompt, count: int) -> list[tuple]:
    """Candidates [(hxw float32 logits, score)] for a prompt on crop pixels (hxwx3 uint8).

    The first candidate is the default answer; count is 1 or 3.
    """
    prior, fixed = prompt_prior(pixels.shape[:2], prompt)
    logits = refine_logits(pixels, prior, fixed)
    anchor = 1.0 / (1.0 + np.exp(-np.clip(prior, -30, 30)))
    return [_candidate(logits, anchor, fixed, o) for o in CANDIDATE_OFFSETS[:count]]


def crop_prompt(crop: Crop, points, labels, box, previous, region) -> CropPrompt:
    """Map a working-pixel prompt (and working HxW logit maps) into crop pixels."""
    return CropPrompt(
        points=crop.to_crop(points),
        labels=np.asarray(labels, np.int32).reshape(-1),
        box=None if box is None else crop.to_crop(np.asarray(box).reshape(2, 2)).reshape(4),
        previous=None if previous is None else crop.cut(previous),
        region=None if region is None else crop.cut(region),
    )


__all__ = ["FIXED_LOGIT", "CropPrompt", "crop_prompt", "segment_crop"]
