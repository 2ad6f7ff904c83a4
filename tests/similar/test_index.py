from __future__ import annotations

from pathlib import Path

import numpy as np

from app.embeddings.store import VectorStore
from app.similar.index import SimilarityIndex
from tests.similar.conftest import DIM, clustered_vectors


def test_nearest_stay_in_the_cluster_and_exclude_the_query(tmp_path: Path) -> None:
    vectors, cluster = clustered_vectors([10, 10, 10])
    store = VectorStore(tmp_path, DIM)
    ids = np.arange(100, 130)
    store.append(ids, vectors)
    index = SimilarityIndex(store)
    for query in (100, 115, 129):
        found = index.nearest(query, 9)
        assert found is not None and len(found.ids) == 9
        assert query not in found.ids.tolist()
        assert set(cluster[found.ids - 100]) == {cluster[query - 100]}
        assert np.all(np.diff(found.distances) >= 0)
        assert found.distances.min() >= 0 and found.distances.max() <= 2


def test_distances_are_cosine_and_scale_free(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, 2)
    store.append(np.array([1, 2, 3]), np.array([[1, 0], [5, 0], [0, -2]], np.float32))
    found = SimilarityIndex(store).nearest(1, 5)
    assert found is not None
    assert found.ids.tolist() == [2, 3]
    np.testing.assert_allclose(found.distances, [0.0, 1.0], atol=1e-3)


def test_index_follows_appends_and_removals(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, 2)
    store.append(np.array([1, 2]), np.array([[1, 0], [0, 1]], np.float32))
    index = SimilarityIndex(store)
    assert index.nearest(1, 1).ids.tolist() == [2]  # type: ignore[union-attr]
    assert index.nearest(7, 1) is None
    store.append(np.array([7]), np.array([[1, 0.1]], np.float32))
    assert index.nearest(1, 1).ids.tolist() == [7]  # type: ignore[union-attr]
    store.remove(np.array([7]))
    assert index.nearest(1, 5).ids.tolist() == [2]  # type: ignore[union-attr]
    assert index.nearest(7, 1) is None


def test_k_larger_than_the_store(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, 2)
    store.append(np.array([1]), np.array([[1, 0]], np.float32))
    found = SimilarityIndex(store).nearest(1, 10)
    assert found is not None and found.ids.size == 0


def test_large_stores_scan_exactly_then_answer_from_the_approximate_index(
    tmp_path: Path, monkeypatch
) -> None:
    import time

    from app.similar import index as index_module

    vectors, _ = clustered_vectors([400, 400, 400])
    store = VectorStore(tmp_path, DIM)
    ids = np.arange(1, 1201)
    store.append(ids, vectors)
    exact = {q: SimilarityIndex(store).nearest(q, 20) for q in (1, 500, 1100)}
    monkeypatch.setattr(index_module, "EXACT_MAX_BYTES", 1024)
    index = SimilarityIndex(store)
    assert not index.exact
    for query, expected in exact.items():  # before the index exists: the exact scan
        found = index.nearest(query, 20)
        assert found is not None and found.ids.tolist() == expected.ids.tolist()
    deadline = time.monotonic() + 60
    while index._ann is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert index._ann is not None and index._ann.generation == store.generation
    for query, expected in exact.items():
        found = index.nearest(query, 20)
        assert found is not None and query not in found.ids.tolist()
        assert len(set(found.ids.tolist()) & set(expected.ids.tolist())) >= 18
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        cosine = 1 - unit[found.ids - 1] @ unit[query - 1]
        np.testing.assert_allclose(found.distances, cosine, atol=2e-3)  # re-ranked exactly
    assert index.nearest(99_999, 5) is None
