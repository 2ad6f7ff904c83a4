from __future__ import annotations

import numpy as np

from app.evaluation.propagation import measure_propagation_effort
from tests.similar.conftest import clustered_vectors


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0)
    return centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T


def test_propagation_saves_actions_on_clustered_embeddings() -> None:
    # Clusters separate in 32-d but overlap on the 2-D map, where the lasso works.
    vectors, classes = clustered_vectors([40] * 6, dim=32, spread=0.2, seed=5)
    effort = measure_propagation_effort(vectors, pca_2d(vectors), classes, threshold=0.95)
    assert effort.off is not None and effort.on is not None
    assert effort.on < effort.off
    assert effort.on == effort.lassos + effort.accepts + effort.corrections
    assert effort.lassos >= 1 and effort.accepts >= 1


def test_never_accepting_is_the_plain_lasso_workflow() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 16))
    classes = rng.integers(0, 3, 60)
    positions = rng.normal(size=(60, 2))
    effort = measure_propagation_effort(vectors, positions, classes, threshold=1.01)
    assert effort.off is not None
    assert (effort.on, effort.accepts, effort.corrections) == (effort.off, 0, 0)
