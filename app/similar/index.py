"""Exact cosine nearest-neighbour search over one project's vectors for one embedder.

The index is a unit-normalised float32 copy of the VectorStore, rebuilt when the store has
committed new records since the last build (appends and removals both add records, so the
record count is a cheap change signal). A matrix-vector product over N x d float32 is exact
and fast enough up to a few hundred thousand segments.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from app.embeddings.store import VectorStore
from app.pipeline.vectors import VectorStores


@dataclass(frozen=True)
class Neighbours:
    """ids (k,) int64 nearest first; distances (k,) float32 cosine distances in [0, 2]."""

    ids: np.ndarray
    distances: np.ndarray


def normalise(vectors: np.ndarray) -> np.ndarray:
    """(N, d) any float -> (N, d) float32 rows of unit length (zero rows stay zero)."""
    matrix = np.asarray(vectors, np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class SimilarityIndex:
    """Nearest neighbours by cosine similarity within one VectorStore."""

    def __init__(self, store: VectorStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._built: tuple[str, int] | None = None
        self._ids = np.zeros(0, np.int64)
        self._matrix = np.zeros((0, store.dim), np.float32)

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids (N,) int64 sorted, unit vectors (N, d) float32), rebuilt if the store grew."""
        with self._lock:
            if self._built != self.store.generation:
                self._built = self.store.generation
                ids, vectors = self.store.all()
                self._ids, self._matrix = ids, normalise(vectors)
            return self._ids, self._matrix

    def nearest(self, segment_id: int, k: int) -> Neighbours | None:
        """The k nearest other segments of segment_id, or None when it has no vector."""
        ids, matrix = self.snapshot()
        at = int(np.searchsorted(ids, segment_id))
        if at >= len(ids) or ids[at] != segment_id:
            return None
        return self.query(matrix[at], k, exclude=segment_id)

    def query(self, vector: np.ndarray, k: int, exclude: int | None = None) -> Neighbours:
        """The k stored ids nearest to a (d,) vector (any scale), nearest first."""
        ids, matrix = self.snapshot()
        similarity = matrix @ normalise(vector[None, :])[0]
        if exclude is not None:
            similarity[ids == exclude] = -np.inf
        count = min(k, int(np.isfinite(similarity).sum()))
        if count <= 0:
            return Neighbours(np.zeros(0, np.int64), np.zeros(0, np.float32))
        top = np.argpartition(-similarity, count - 1)[:count]
        top = top[np.argsort(-similarity[top], kind="stable")]
        return Neighbours(ids[top], (1.0 - similarity[top]).astype(np.float32))


class SimilarityIndexes:
    """One SimilarityIndex per (project, embedder), made on first use and kept."""

    def __init__(self, vectors: VectorStores) -> None:
        self.vectors = vectors
        self._indexes: dict[tuple[int, str], SimilarityIndex] = {}
        self._lock = threading.Lock()

    def get(self, project_id: int, embedder: str) -> SimilarityIndex | None:
        """The index, or None when nothing was ever embedded for this pair."""
        store = self.vectors.existing(project_id, embedder)
        if store is None:
            return None
        with self._lock:
            index = self._indexes.get((project_id, embedder))
            if index is None or index.store is not store:
                index = self._indexes[(project_id, embedder)] = SimilarityIndex(store)
            return index
