"""Foreground/background colour likelihoods from soft samples, as 2-D histograms.

Colours are projected on the crop's two principal components (so grey microscopy and
colour photographs are handled alike, and the bins spend their resolution where the crop
actually varies), binned, and the ratio of smoothed weighted histograms is read back.
"""

from __future__ import annotations

import cv2
import numpy as np

BINS = 32
# Histogram smoothing (in bins): lets a colour seen near a sample count as evidence too.
HIST_SIGMA = 1.0
EPS = 1e-3


def colour_bins(pixels: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 -> HxW int32 bin index in [0, BINS**2) on the crop's principal colour axes."""
    flat = pixels.reshape(-1, 3).astype(np.float32)
    centred = flat - flat.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov(centred, rowvar=False) + np.eye(3, dtype=np.float32))
    projected = centred @ vectors[:, ::-1][:, :2]
    low, high = np.percentile(projected, [1, 99], axis=0)
    scaled = (projected - low) / np.maximum(high - low, 1e-6) * (BINS - 1)
    idx = np.clip(np.rint(scaled), 0, BINS - 1).astype(np.int32)
    return (idx[:, 0] * BINS + idx[:, 1]).reshape(pixels.shape[:2])


def _density(bins: np.ndarray, weights: np.ndarray) -> np.ndarray:
    counts = np.bincount(bins.ravel(), weights.ravel(), minlength=BINS * BINS)
    hist = cv2.GaussianBlur(counts.reshape(BINS, BINS).astype(np.float32), (0, 0), HIST_SIGMA)
    return hist / max(float(hist.sum()), 1e-6) + EPS / (BINS * BINS)


def log_likelihood_ratio(bins: np.ndarray, fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """log p(colour | fg) - log p(colour | bg) per pixel.

    bins: HxW int32 from colour_bins; fg, bg: HxW float sample weights in [0, 1].
    Returns HxW float32.
    """
    ratio = np.log(_density(bins, fg)) - np.log(_density(bins, bg))
    return ratio.ravel()[bins].astype(np.float32)
