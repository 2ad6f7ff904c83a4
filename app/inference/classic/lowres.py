"""Low-resolution logits in SAM's frame, so refinement works the same for every backend.

SAM's 256x256 low-res logits cover the model input: the image scaled so that its longest
side is 256, anchored top-left, padded bottom/right. We use the same frame so a mask_input
produced by this backend lines up with the image exactly as SAM's would.
"""

from __future__ import annotations

import cv2
import numpy as np

LOW_RES = 256
# Logit given to padding and to pixels far outside any mask: confidently background.
BACKGROUND_LOGIT = -20.0


def _scaled_size(size: tuple[int, int]) -> tuple[int, int]:
    h, w = size
    scale = LOW_RES / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def to_low_res(logits: np.ndarray) -> np.ndarray:
    """HxW float logits (image frame) -> 256x256 float32 logits in SAM's padded frame."""
    sh, sw = _scaled_size(logits.shape)
    out = np.full((LOW_RES, LOW_RES), BACKGROUND_LOGIT, np.float32)
    out[:sh, :sw] = cv2.resize(logits.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
    return out


def from_low_res(low_res: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """256x256 (or 1x256x256) logits in SAM's frame -> HxW float32 logits for size (H, W)."""
    grid = np.asarray(low_res, np.float32).reshape(LOW_RES, LOW_RES)
    sh, sw = _scaled_size(size)
    return cv2.resize(grid[:sh, :sw], (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
