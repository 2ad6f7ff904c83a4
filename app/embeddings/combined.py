"""Combined embedders ("sam-pool+timm:tf_efficientnet_lite0"): each part's unit vector,
concatenated and scaled by 1/sqrt(parts), so rows stay unit and cosine similarity is the mean
of the parts' similarities. What one part confuses (SAM features: shape; a CNN on the crop:
texture and colour) the other can separate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from app.embeddings.base import Embedder
from app.embeddings.sam_pool import SamPoolEmbedder
from app.inference.base import PreparedImage

SEPARATOR = "+"


class CombinedEmbedder:
    """Vectors (N, sum of the parts' dims) float32 unit rows."""

    def __init__(self, parts: Sequence[Embedder]) -> None:
        if len(parts) < 2:
            raise ValueError("a combined embedder needs at least two parts")
        self.parts = list(parts)
        self.name = SEPARATOR.join(part.name for part in self.parts)
        self.dim = sum(part.dim for part in self.parts)

    def embed(self, image: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
        return self.join([part.embed(image, masks) for part in self.parts])

    def join(self, vectors: list[np.ndarray]) -> np.ndarray:
        """The parts' (N, dim_i) unit rows -> (N, dim) unit rows."""
        return (np.hstack(vectors) / np.sqrt(len(vectors))).astype(np.float32)


def uses_sam_features(embedder: Embedder) -> bool:
    """Whether embedding needs SAM's encoded image (sam-pool, alone or as a part)."""
    if isinstance(embedder, CombinedEmbedder):
        return any(uses_sam_features(part) for part in embedder.parts)
    return isinstance(embedder, SamPoolEmbedder)


def embed_masks(
    embedder: Embedder,
    masks: list[np.ndarray],
    image: Callable[[], np.ndarray],
    state: PreparedImage | None,
) -> np.ndarray:
    """(len(masks), dim) vectors of one image's HxW bool masks: sam-pool parts read SAM's
    encoded `state` (required when uses_sam_features), the others the decoded `image()`."""
    if isinstance(embedder, CombinedEmbedder):
        return embedder.join([embed_masks(part, masks, image, state) for part in embedder.parts])
    if isinstance(embedder, SamPoolEmbedder):
        if state is None:
            raise ValueError("sam-pool needs SAM's encoded image")
        return embedder.embed_prepared(state, masks)
    return embedder.embed(image(), masks)
