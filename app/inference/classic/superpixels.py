"""Superpixels of the working image and a colour/texture feature for each.

This is the classic backend's expensive, cached per-image step (what SAM's image encoder
is to SAM): labels, per-superpixel features and the adjacency graph, as plain arrays.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage
from skimage.color import rgb2lab
from skimage.segmentation import slic

# Aim for superpixels of about this many pixels: small enough for a 10 px nucleus.
PIXELS_PER_SUPERPIXEL = 120
MAX_SUPERPIXELS = 6000


def compute_superpixels(image: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 RGB -> HxW int32 labels 0..K-1 (SLIC on Lab, connected)."""
    h, w = image.shape[:2]
    count = int(np.clip(h * w / PIXELS_PER_SUPERPIXEL, 16, MAX_SUPERPIXELS))
    labels = slic(image, n_segments=count, compactness=10, start_label=0, convert2lab=True)
    _, dense = np.unique(labels, return_inverse=True)
    return dense.reshape(h, w).astype(np.int32)


def superpixel_features(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Kx7 float32 per superpixel: mean L, a, b; std of L; gradient energy; centroid x, y.

    Colour in Lab units; centroid in working pixels.
    """
    lab = rgb2lab(image).astype(np.float32)
    index = np.arange(int(labels.max()) + 1)
    grey = lab[..., 0]
    gradient = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    columns = [ndimage.mean(lab[..., c], labels, index) for c in range(3)]
    columns.append(ndimage.standard_deviation(grey, labels, index))
    columns.append(ndimage.mean(gradient, labels, index) / 8.0)
    ys, xs = np.mgrid[0 : labels.shape[0], 0 : labels.shape[1]]
    columns += [ndimage.mean(xs, labels, index), ndimage.mean(ys, labels, index)]
    return np.stack(columns, axis=1).astype(np.float32)


def superpixel_edges(labels: np.ndarray) -> np.ndarray:
    """Ex2 int32 unique pairs (i < j) of 4-adjacent superpixels."""
    pairs = np.concatenate(
        [
            np.stack([labels[:, :-1].ravel(), labels[:, 1:].ravel()], 1),
            np.stack([labels[:-1, :].ravel(), labels[1:, :].ravel()], 1),
        ]
    )
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(np.sort(pairs, axis=1), axis=0).astype(np.int32)
