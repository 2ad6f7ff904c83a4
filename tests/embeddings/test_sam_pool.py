"""sam-pool on synthetic SAM features: the mask is mapped through SAM's resize and padding."""

from __future__ import annotations

import numpy as np
import pytest

from app.embeddings.sam_pool import SamPoolEmbedder, grid_coverage
from app.inference.base import PreparedImage

# A 480x640 image: SAM resizes it to 768x1024 (scale 1.6), so one 16-px feature cell covers
# 10x10 original pixels and the bottom 16 rows of cells are padding.
ORIGINAL, INPUT = (480, 640), (768, 1024)


def _features(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(256, 64, 64)).astype(np.float32)


def test_mask_over_constant_features_gives_that_constant() -> None:
    features, constant = _features(), np.random.default_rng(1).normal(size=256)
    features[:, 10:20, 10:20] = constant[:, None, None]  # cells <-> original pixels 100..200
    mask = np.zeros(ORIGINAL, bool)
    mask[100:200, 100:200] = True
    vector = SamPoolEmbedder().embed_from_features(features, [mask], ORIGINAL, INPUT)
    np.testing.assert_allclose(vector[0], constant / np.linalg.norm(constant), atol=1e-5)


def test_coverage_follows_resize_not_raw_grid() -> None:
    mask = np.zeros(ORIGINAL, bool)
    mask[-10:, -10:] = True  # bottom-right original corner -> cell (47, 63), not (63, 63)
    coverage = grid_coverage(mask, ORIGINAL, INPUT)
    assert coverage[47, 63] == 1.0 and coverage.sum() == 1.0


def test_tiny_mask_in_huge_image_still_gets_its_cell() -> None:
    original, input_size = (3000, 4000), (768, 1024)
    mask = np.zeros(original, bool)
    mask[1502, 2003] = True  # one pixel the 0.256x nearest resize never samples
    coverage = grid_coverage(mask, original, input_size)
    assert coverage.sum() == 1.0 and coverage[24, 32] == 1.0


def test_prepared_state_vectors_are_unit_rows() -> None:
    state = PreparedImage(
        model_id="fake",
        arrays={"features": _features()[None].astype(np.float16)},
        original_size=ORIGINAL,
        input_size=INPUT,
    )
    masks = [np.zeros(ORIGINAL, bool) for _ in range(3)]
    for i, mask in enumerate(masks):
        mask[50 * i : 50 * i + 120, 30:400] = True
    embedder = SamPoolEmbedder(prepare=lambda image: state)
    vectors = embedder.embed(np.zeros((*ORIGINAL, 3), np.uint8), masks)
    assert vectors.shape == (3, embedder.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors, embedder.embed_prepared(state, masks))
    assert embedder.embed_prepared(state, []).shape == (0, 256)


def test_without_features_embed_explains() -> None:
    with pytest.raises(RuntimeError, match="prepare"):
        SamPoolEmbedder().embed(np.zeros((4, 4, 3), np.uint8), [np.ones((4, 4), bool)])
