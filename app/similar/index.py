"""Cosine nearest-neighbour search over one project's vectors for one embedder.

Up to EXACT_MAX_BYTES of float32 the index is a unit-normalised copy of the VectorStore and
search is exact: a matrix-vector product. Larger stores (1M x 1280 would be 5 GB) get an
approximate faiss index (ann.py), built in a background thread; until it is ready, queries
scan the store exactly a chunk at a time (slower, same answer). Either is rebuilt when the
store has committed new records since the last build (appends and removals both add
records, so the record count is a cheap change signal).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np

from app.embeddings.store import VectorStore
from app.pipeline.vectors import VectorStores
from app.similar.ann import ApproximateIndex, normalise, scan_nearest

__all__ = ["Neighbours", "SimilarityIndex", "SimilarityIndexes", "normalise"]

EXACT_MAX_BYTES = 512 * 2**20

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Neighbours:
    """ids (k,) int64 nearest first; distances (k,) float32 cosine distances in [0, 2]."""

    ids: np.ndarray
    distances: np.ndarray


class SimilarityIndex:
    """Nearest neighbours by cosine similarity within one VectorStore."""

    def __init__(self, store: VectorStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._built: tuple[str, int] | None = None
        self._ids = np.zeros(0, np.int64)
        self._matrix = np.zeros((0, store.dim), np.float32)
        self._ann: ApproximateIndex | None = None
        self._building: tuple[str, int] | None = None  # the generation a thread is indexing

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids (N,) int64 sorted, unit vectors (N, d) float32), rebuilt if the store grew."""
        with self._lock:
            if self._built != self.store.generation:
                self._built = self.store.generation
                ids, vectors = self.store.all()
                self._ids, self._matrix = ids, normalise(vectors)
            return self._ids, self._matrix

    @property
    def exact(self) -> bool:
        """Whether the store is small enough for the exact in-memory matrix."""
        return len(self.store) * self.store.dim * 4 <= EXACT_MAX_BYTES

    def nearest(self, segment_id: int, k: int) -> Neighbours | None:
        """The k nearest other segments of segment_id, or None when it has no vector."""
        if not self.exact:
            if not self.store.contains(np.array([segment_id]))[0]:
                return None
            return self.query(self.store.get(np.array([segment_id]))[0], k, exclude=segment_id)
        ids, matrix = self.snapshot()
        at = int(np.searchsorted(ids, segment_id))
        if at >= len(ids) or ids[at] != segment_id:
            return None
        return self.query(matrix[at], k, exclude=segment_id)

    def query(self, vector: np.ndarray, k: int, exclude: int | None = None) -> Neighbours:
        """The k stored ids nearest to a (d,) vector (any scale), nearest first."""
        unit = normalise(vector[None, :])[0]
        if not self.exact:
            found, similarity = self._search_large(unit, k + (exclude is not None))
        else:
            ids, matrix = self.snapshot()
            similarity = matrix @ unit
            count = min(k + (exclude is not None), len(ids))
            top = np.argpartition(-similarity, count - 1)[:count] if count else np.zeros(0, int)
            top = top[np.argsort(-similarity[top], kind="stable")]
            found, similarity = ids[top], similarity[top]
        keep = found != exclude
        found, similarity = found[keep][:k], similarity[keep][:k]
        return Neighbours(found, (1.0 - similarity).astype(np.float32))

    def _search_large(self, unit: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            ann = self._ann if self._ann and self._ann.generation == self.store.generation else None
            if ann is None and self._building != self.store.generation:
                self._building = self.store.generation
                threading.Thread(target=self._build, name="similar-index", daemon=True).start()
        return ann.search(unit, k) if ann else scan_nearest(self.store, unit, k)

    def _build(self) -> None:
        try:
            ann = ApproximateIndex(self.store)
        except Exception:
            log.exception("building the approximate similarity index failed")
            with self._lock:
                self._building = None
            return
        with self._lock:
            self._ann = ann
            log.info("approximate similarity index ready: %d vectors", len(self.store))


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
