"""Quality checks for bench/scale.py: map trustworthiness against plain umap-learn on the same
sample, recall@k of the similar search against exact search, and the small-project layout."""

from __future__ import annotations

import time
import warnings

import numpy as np

from bench.scale_data import clustered_chunks

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import umap

CHUNK = 256


def trustworthiness(high: np.ndarray, low: np.ndarray, k: int = 10) -> float:
    """sklearn's trustworthiness (Venna & Kaski) computed in row chunks, so 20k points need
    no 20k x 20k matrix. high (n, D), low (n, 2)."""
    high = np.asarray(high, np.float32)
    low = np.asarray(low, np.float32)
    n = len(high)
    high_sq = np.einsum("ij,ij->i", high, high)
    low_sq = np.einsum("ij,ij->i", low, low)
    penalty = 0.0
    for start in range(0, n, CHUNK):
        rows = np.arange(start, min(n, start + CHUNK))
        d_high = high_sq[rows, None] - 2 * high[rows] @ high.T + high_sq[None]
        d_low = low_sq[rows, None] - 2 * low[rows] @ low.T + low_sq[None]
        d_high[np.arange(len(rows)), rows] = -np.inf  # a point is its own rank 0
        d_low[np.arange(len(rows)), rows] = np.inf
        near_low = np.argpartition(d_low, k, axis=1)[:, :k]
        at = np.take_along_axis(d_high, near_low, axis=1)
        # rank in the original space = how many points are closer (self excluded, 1-based)
        ranks = (d_high[:, None, :] < at[:, :, None]).sum(axis=2)
        penalty += np.maximum(ranks - k, 0).sum()
    return float(1.0 - penalty * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)))


def plain_umap(vectors: np.ndarray) -> tuple[np.ndarray, float]:
    """umap-learn with its own defaults on the raw vectors: ((n, 2), seconds)."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xy = umap.UMAP().fit_transform(np.asarray(vectors, np.float32))
    return np.asarray(xy, np.float32), time.perf_counter() - start


def recall(answers: list[tuple[int, list[int]]], exact: dict[int, np.ndarray]) -> float:
    """Mean share of the exact top-k found by the answers."""
    shares = [len(set(hits) & set(exact[q].tolist())) / len(exact[q]) for q, hits in answers]
    return float(np.mean(shares))


def exact_neighbours(
    ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int
) -> dict[int, np.ndarray]:
    """Exact cosine top-k (self excluded) of each query id, scanning (N, D) float16 `vectors`
    (a memmap is fine) in chunks."""
    at = np.searchsorted(ids, queries)
    q = np.asarray(vectors[at], np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    best_s = np.full((len(q), 0), -np.inf, np.float32)
    best_i = np.zeros((len(q), 0), np.int64)
    for start in range(0, len(ids), 100_000):
        block = np.asarray(vectors[start : start + 100_000], np.float32)
        block /= np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
        scores = q @ block.T
        best_s = np.concatenate([best_s, scores], axis=1)
        best_i = np.concatenate(
            [best_i, np.broadcast_to(ids[start : start + len(block)], scores.shape)], axis=1
        )
        best_s[best_i == queries[:, None]] = -np.inf
        top = np.argpartition(-best_s, k, axis=1)[:, :k]
        best_s = np.take_along_axis(best_s, top, axis=1)
        best_i = np.take_along_axis(best_i, top, axis=1)
    return {int(query): best_i[row] for row, query in enumerate(queries)}


def small_project(n: int = 3187) -> list[tuple[str, float, float]]:
    """Lay out n clustered 1280-d vectors with each candidate: [(name, seconds, trust)]."""
    from app.projection.registry import build_projector
    from app.projection.umap_projector import warm_numba

    warm_numba()
    vectors = next(clustered_chunks(n, seed=7))[1].astype(np.float32)
    results = []
    for name in ("umap", "pca"):
        start = time.perf_counter()
        xy = build_projector(name).fit_transform(vectors)
        results.append(
            (f"ours ({name})", time.perf_counter() - start, trustworthiness(vectors, xy))
        )
    xy, seconds = plain_umap(vectors)
    results.append(("plain umap-learn", seconds, trustworthiness(vectors, xy)))
    return results
