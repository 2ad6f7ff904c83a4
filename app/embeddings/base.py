"""The Embedder protocol: one L2-normalised vector per segment. Nothing here imports torch."""

from __future__ import annotations

from typing import Protocol

import numpy as np

DEFAULT_EMBEDDER = "timm:tf_efficientnet_lite0"
# The projects' default: sam-pool where SAM segments (free, and the purer map: issue 15's
# bench/effort.py table), else DEFAULT_EMBEDDER. Resolved by the first embed job.
AUTO_EMBEDDER = "auto"


class Embedder(Protocol):
    """name: stable id stored with the vectors ("timm:tf_efficientnet_lite0", "sam-pool");
    vectors from different names never mix. dim: length of each vector.
    Implementations are used from one worker thread only."""

    name: str
    dim: int

    def embed(self, image: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
        """image: HxWx3 uint8 RGB (canonical pixels); masks: HxW bool, one per segment.
        Returns (len(masks), dim) float32, each row L2-normalised."""
        ...


class WeightsUnavailable(RuntimeError):
    """A model's weights are neither in a configured file nor downloadable; says how to fix."""


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """(N, D) -> (N, D) float32 with unit rows (all-zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
