"""Turn a prior belief about a region into a mask: colour EM, smoothing, cleanup.

All arrays here live in one Crop's pixel grid (see crop.py), so lengths are in units of a
normalised prompt size (its longest side is crop.TARGET_SIDE pixels).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from .colour_model import colour_bins, log_likelihood_ratio

# Weight of colour evidence relative to the prior; chosen on the nuclei and photo benches.
COLOUR_WEIGHT = 1.0
EM_ITERATIONS = 2
# Spatial smoothing of the logits (crop pixels): a cheap stand-in for a graph cut's
# pairwise term, enough to remove speckle at this normalised scale.
SMOOTH_SIGMA = 1.5
FIXED_LOGIT = 20.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))).astype(np.float32)


def refine_logits(pixels: np.ndarray, prior: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Posterior foreground logits from colour evidence and a prior.

    pixels: hxwx3 uint8; prior: hxw float32 logits; fixed: hxw int8 (1 foreground,
    -1 background, 0 free). Returns hxw float32 logits with fixed pixels clamped.
    """
    bins = colour_bins(pixels)
    posterior = _sigmoid(prior)
    logits = prior
    for _ in range(EM_ITERATIONS):
        llr = log_likelihood_ratio(bins, posterior, 1.0 - posterior)
        logits = cv2.GaussianBlur(prior + COLOUR_WEIGHT * llr, (0, 0), SMOOTH_SIGMA)
        logits = np.where(fixed == 0, logits, fixed * FIXED_LOGIT).astype(np.float32)
        posterior = _sigmoid(logits)
    return logits


def select_region(mask: np.ndarray, anchor: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Keep the connected parts of mask that the user asked for, with holes filled.

    mask: hxw bool; anchor: hxw float weights of where the object is expected (the prior's
    foreground probability); fixed: hxw int8 as in refine_logits. Keeps the component
    holding the most anchor weight plus every component touching a positive click.
    """
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return mask
    weight = ndimage.sum_labels(anchor, labels, np.arange(count))
    weight[0] = -1.0
    keep = np.zeros(count, bool)
    keep[int(np.argmax(weight))] = True
    keep[np.unique(labels[(fixed > 0) & mask])] = True
    keep[0] = False
    kept = keep[labels]
    filled = ndimage.binary_fill_holes(kept)
    return filled & (fixed >= 0) | (fixed > 0)
