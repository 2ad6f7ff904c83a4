"""Cosine search over stores too large for an exact float32 matrix (1M x 1280 is 5 GB).

ApproximateIndex: faiss IVF with 8-bit scalar quantisation (1.3 GB at 1M x 1280) over unit
vectors; its candidates are re-ranked exactly from the float16 store, so returned distances
are exact and only recall is approximate (bench/scale.py measures recall@50 against exact).
scan_nearest: the exact answer a chunk at a time, used while the index builds. The only
module that imports faiss with projection/placement.py.
"""

from __future__ import annotations

import math

import faiss
import numpy as np

from app.embeddings.store import VectorStore

SCAN_ROWS = 65_536
# Inverted lists: about sqrt(N)/4 of them, each query visiting 1/16 of the lists.
MIN_LISTS, MAX_LISTS = 16, 1024
TRAIN_PER_LIST = 40
RERANK = 4  # candidates per wanted neighbour re-scored exactly


def normalise(vectors: np.ndarray) -> np.ndarray:
    """(N, d) any float -> (N, d) float32 rows of unit length (zero rows stay zero)."""
    matrix = np.asarray(vectors, np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


class ApproximateIndex:
    """Built once from a store snapshot; `search` answers for the ids it was built with."""

    def __init__(self, store: VectorStore, *, seed: int = 0) -> None:
        self.store = store
        self.generation = store.generation
        ids = store.ids()
        lists = int(np.clip(math.sqrt(len(ids)) / 4, MIN_LISTS, MAX_LISTS))
        quantizer = faiss.IndexFlatIP(store.dim)
        self._index = faiss.IndexIVFScalarQuantizer(
            quantizer, store.dim, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(ids, min(len(ids), lists * TRAIN_PER_LIST), replace=False))
        self._index.train(normalise(store.get(sample)))
        for start in range(0, len(ids), SCAN_ROWS):
            chunk = ids[start : start + SCAN_ROWS]
            self._index.add_with_ids(normalise(store.get(chunk)), chunk)
        self._index.nprobe = max(4, lists // 16)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids (<= k,) int64, cosine similarity (<= k,) float32), most similar first;
        query: (d,) unit float32."""
        _, found = self._index.search(query[None, :], k * RERANK)
        candidates = found[0][found[0] >= 0]
        candidates = candidates[self.store.contains(candidates)]
        similarity = normalise(self.store.get(candidates)) @ query
        top = np.argsort(-similarity, kind="stable")[:k]
        return candidates[top], similarity[top]


def scan_nearest(store: VectorStore, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k over the whole store, reading SCAN_ROWS vectors at a time (memory stays
    at one chunk). query: (d,) unit float32. Same return as ApproximateIndex.search."""
    ids = store.ids()
    best_ids, best_sim = np.zeros(0, np.int64), np.zeros(0, np.float32)
    for start in range(0, len(ids), SCAN_ROWS):
        chunk = ids[start : start + SCAN_ROWS]
        best_ids = np.concatenate([best_ids, chunk])
        best_sim = np.concatenate([best_sim, normalise(store.get(chunk)) @ query])
        if len(best_ids) > k:
            keep = np.argpartition(-best_sim, k - 1)[:k]
            best_ids, best_sim = best_ids[keep], best_sim[keep]
    order = np.argsort(-best_sim, kind="stable")
    return best_ids[order], best_sim[order]
