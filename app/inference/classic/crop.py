"""A window of the working image resampled so the prompt has a standard size in pixels.

Working at a normalised scale makes every length constant (smoothing, click radius, ring
width) mean the same fraction of the object whether it is a 10 px nucleus or a 600 px car,
and keeps predict's cost independent of the image size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Longest side of the region of interest after resampling, in crop pixels.
TARGET_SIDE = 80
# Context added around the region of interest, as a fraction of its size.
MARGIN = 0.3


@dataclass(frozen=True)
class Crop:
    """x0, y0, x1, y1: window in working-image pixels (XYXY, end exclusive);
    scale: crop pixels per working pixel."""

    x0: int
    y0: int
    x1: int
    y1: int
    scale: float

    @property
    def shape(self) -> tuple[int, int]:
        return (
            max(1, round((self.y1 - self.y0) * self.scale)),
            max(1, round((self.x1 - self.x0) * self.scale)),
        )

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Nx2 (X, Y) working pixels -> Nx2 float32 crop pixels."""
        origin = np.array([self.x0, self.y0], np.float32)
        return ((np.asarray(points, np.float32).reshape(-1, 2) - origin) * self.scale).astype(
            np.float32
        )

    def cut(self, array: np.ndarray, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
        """The window of an HxW[xC] working-resolution array, resampled to self.shape."""
        window = np.ascontiguousarray(array[self.y0 : self.y1, self.x0 : self.x1])
        h, w = self.shape
        return cv2.resize(window, (w, h), interpolation=interpolation)

    def paste(self, crop_logits: np.ndarray, full: np.ndarray) -> np.ndarray:
        """Write crop logits (self.shape) back into `full` (working HxW float32) in place."""
        size = (self.x1 - self.x0, self.y1 - self.y0)
        full[self.y0 : self.y1, self.x0 : self.x1] = cv2.resize(
            crop_logits, size, interpolation=cv2.INTER_LINEAR
        )
        return full


def crop_around(roi: np.ndarray, image_size: tuple[int, int]) -> Crop:
    """Crop for a region of interest roi (4 XYXY working pixels) in an image of (H, W)."""
    h, w = image_size
    x0, y0, x1, y1 = (float(v) for v in roi)
    pad = MARGIN * max(x1 - x0, y1 - y0) + 2.0
    left, top = max(0, int(np.floor(x0 - pad))), max(0, int(np.floor(y0 - pad)))
    right, bottom = min(w, int(np.ceil(x1 + pad))), min(h, int(np.ceil(y1 + pad)))
    right, bottom = max(right, left + 1), max(bottom, top + 1)
    scale = TARGET_SIDE / max(x1 - x0, y1 - y0, 1.0)
    return Crop(left, top, right, bottom, scale)
