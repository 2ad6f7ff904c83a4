"""The Segmenter protocol: what every segmentation backend (sam, classic, fakes) provides.

Coordinates are always canonical image pixels (after EXIF transpose), XY; boxes XYXY.
Images enter as HxWx3 uint8 RGB numpy arrays. Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class PreparedImage:
    """Per-image state computed once (the expensive step) and cached.

    arrays: named numpy arrays (for SAM: "features" 1x256x64x64 float16/float32).
    original_size: (H, W) of the canonical image. input_size: (H, W) after the model's resize.
    Everything in it must round-trip through the disk cache (numpy arrays and ints only).
    """

    model_id: str
    arrays: dict[str, np.ndarray]
    original_size: tuple[int, int]
    input_size: tuple[int, int]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays.values())


@dataclass(frozen=True)
class Prompt:
    """points: Nx2 float32 (X, Y); point_labels: N int32 (1 positive, 0 negative);
    box: 4 float32 XYXY or None; mask_input: 1x256x256 float32 low-res logits or None;
    previous_score: the predicted IoU of the answer mask_input came from, when known (a
    refining single-mask click is then guarded against setbacks: refinement.py); candidate:
    the token (1..3) of the one-click candidate that chain of refinements began with."""

    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    point_labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int32))
    box: np.ndarray | None = None
    mask_input: np.ndarray | None = None
    multimask: bool = True
    previous_score: float | None = None
    candidate: int | None = None


@dataclass(frozen=True)
class PredictedMask:
    """mask: HxW bool in canonical pixels; score: predicted IoU in [0, 1] (clipped);
    low_res_logits: 256x256 float32, the handle for refinement; token: the SAM mask token it
    came from (0 single-mask, 1..3 multimask), -1 for other backends."""

    mask: np.ndarray
    score: float
    low_res_logits: np.ndarray
    token: int = -1


@dataclass(frozen=True)
class AutoMask:
    """One automatic mask: HxW bool, predicted IoU and stability score."""

    mask: np.ndarray
    predicted_iou: float
    stability_score: float


class ModelUnavailable(RuntimeError):
    """No model is configured or it failed to load; the message says how to fix it."""


class InferenceOutOfMemory(RuntimeError):
    """The accelerator ran out of memory for this request; memory was freed, others go on."""


class Segmenter(Protocol):
    """A segmentation backend. Implementations are used from one worker thread only."""

    model_id: str
    name: str

    def prepare(self, images: list[np.ndarray]) -> list[PreparedImage]:
        """Encode a batch of HxWx3 uint8 images (the expensive step)."""
        ...

    def predict(self, state: PreparedImage, prompt: Prompt) -> list[PredictedMask]:
        """Masks for one prompt, sorted by score descending (3 if multimask else 1)."""
        ...

    def auto(
        self,
        state: PreparedImage,
        image: np.ndarray,
        params: dict[str, Any],
        between_batches: Callable[[], None] | None = None,
    ) -> list[AutoMask]:
        """Automatic masks for a whole image, reusing state (never re-encoding it).
        `between_batches`, if the backend works in point batches, is called before each one
        (the worker runs queued clicks there; a cancelled job raises from it)."""
        ...
