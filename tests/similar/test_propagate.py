from __future__ import annotations

import numpy as np
import pytest

from app.similar.propagate import (
    MAX_SEEDS,
    fit_predictor,
    held_out_accuracy,
    knn_vote,
    predict_labels,
    sample_seeds,
)
from tests.similar.conftest import clustered_vectors


@pytest.mark.parametrize("method", ["auto", "knn", "logistic"])
def test_a_few_labels_recover_the_clusters(method: str) -> None:
    vectors, cluster = clustered_vectors([60, 50, 40], dim=32, spread=0.25, seed=3)
    rng = np.random.default_rng(1)
    labelled = np.concatenate(
        [rng.choice(np.flatnonzero(cluster == c), 4, replace=False) for c in range(3)]
    )
    rest = np.setdiff1d(np.arange(len(cluster)), labelled)
    label_ids = cluster + 100  # label ids are arbitrary integers, not 0..C-1
    found = predict_labels(vectors[labelled], label_ids[labelled], vectors[rest], method)
    assert found.labels.dtype == np.int64 and found.labels.shape == (len(rest),)
    assert (found.labels == label_ids[rest]).mean() >= 0.97
    assert found.confidence.min() >= 0 and found.confidence.max() <= 1
    assert method == "auto" or found.method == method
    assert found.held_out_accuracy is not None and found.held_out_accuracy >= 0.75


def test_confidence_is_lower_between_clusters() -> None:
    vectors = np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1]], np.float32)
    query = np.array([[1, 0.05], [1, 1]], np.float32)
    labels, confidence = knn_vote(
        vectors / np.linalg.norm(vectors, axis=1)[:, None],
        np.array([1, 1, 2, 2]),
        query / np.linalg.norm(query, axis=1)[:, None],
        k=4,
    )
    assert labels[0] == 1
    assert confidence[0] > 0.6 > confidence[1]


def test_one_class_and_tiny_sets() -> None:
    vectors, _ = clustered_vectors([5])
    found = predict_labels(vectors[:2], np.array([7, 7]), vectors[2:])
    assert found.labels.tolist() == [7, 7, 7] and found.held_out_accuracy is None
    assert held_out_accuracy("knn", vectors[:3], np.array([1, 2, 2])) is None


def test_seed_sample_keeps_every_class_within_the_limit() -> None:
    labels = np.array([1] * 900 + [2] * 95 + [3] * 5)
    keep = sample_seeds(labels, 100)
    counts = dict(zip(*np.unique(labels[keep], return_counts=True), strict=True))
    assert counts == {1: 90, 2: 20, 3: 5}  # shares, a floor for the small class, all of a tiny one
    assert np.all(np.diff(keep) > 0)
    assert sample_seeds(labels[:50], 100).tolist() == list(range(50))


def test_more_seeds_than_the_limit_still_recover_the_clusters() -> None:
    vectors, cluster = clustered_vectors([3500, 2500], dim=16, spread=0.25, seed=5)
    assert len(vectors) > MAX_SEEDS
    fitted = fit_predictor(vectors, cluster + 1, "knn", chunk_rows=64)
    assert fitted.chunk_rows == 64
    labels, _ = fitted.predict(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    assert (labels == cluster + 1).mean() >= 0.97
