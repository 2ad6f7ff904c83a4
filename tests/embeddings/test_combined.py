"""Combined embedders: parts named with "+", unit rows whose similarity averages the parts'."""

from __future__ import annotations

import numpy as np
import pytest

from app.embeddings.base import l2_normalise
from app.embeddings.combined import CombinedEmbedder, embed_masks, uses_sam_features
from app.embeddings.registry import build_embedder
from app.embeddings.sam_pool import SamPoolEmbedder
from app.inference.base import PreparedImage

ORIGINAL, INPUT = (480, 640), (768, 1024)


class MeanColour:
    """A second, image-based part: the unit mean colour under each mask."""

    name, dim = "mean-colour", 3

    def embed(self, image: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
        return l2_normalise(np.array([image[m].mean(axis=0) for m in masks]) + 1.0)


def _state() -> PreparedImage:
    features = np.random.default_rng(0).normal(size=(1, 256, 64, 64)).astype(np.float32)
    return PreparedImage("fake", {"features": features}, ORIGINAL, INPUT)


def _photo() -> tuple[np.ndarray, list[np.ndarray]]:
    image = np.random.default_rng(1).integers(0, 256, (*ORIGINAL, 3), dtype=np.uint8)
    masks = [np.zeros(ORIGINAL, bool) for _ in range(4)]
    for i, mask in enumerate(masks):
        mask[40 * i : 40 * i + 200, 30 + 50 * i : 400] = True
    return image, masks


def test_registry_joins_named_parts() -> None:
    embedder = build_embedder("sam-pool+sam-pool")
    assert isinstance(embedder, CombinedEmbedder) and uses_sam_features(embedder)
    assert (embedder.name, embedder.dim) == ("sam-pool+sam-pool", 512)
    with pytest.raises(ValueError, match="unknown embedder"):
        build_embedder("sam-pool+nope")
    with pytest.raises(ValueError, match="two parts"):
        CombinedEmbedder([SamPoolEmbedder()])


def test_vectors_are_unit_rows_averaging_the_parts_similarity() -> None:
    image, masks = _photo()
    state, colour = _state(), MeanColour()
    combined = CombinedEmbedder([SamPoolEmbedder(), colour])
    assert not uses_sam_features(CombinedEmbedder([colour, colour]))
    vectors = embed_masks(combined, masks, lambda: image, state)
    assert vectors.shape == (4, 259) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    pooled = SamPoolEmbedder().embed_prepared(state, masks)
    coloured = colour.embed(image, masks)
    mean_similarity = (pooled @ pooled.T + coloured @ coloured.T) / 2
    np.testing.assert_allclose(vectors @ vectors.T, mean_similarity, atol=1e-5)
    # With a prepare step, the parts' own embed() (what a Ray actor calls) gives the same.
    ready = CombinedEmbedder([SamPoolEmbedder(prepare=lambda _: state), colour])
    np.testing.assert_allclose(ready.embed(image, masks), vectors, atol=1e-6)


def test_sam_pool_part_needs_the_encoded_image() -> None:
    image, masks = _photo()
    with pytest.raises(ValueError, match="encoded image"):
        embed_masks(CombinedEmbedder([SamPoolEmbedder(), MeanColour()]), masks, lambda: image, None)
