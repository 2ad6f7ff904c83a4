"""Placing new points on a fitted 2-d map from their nearest fitted neighbours.

UMAP's own transform() queries a pynndescent index whose search kernel numba compiles per
index (a minute on 2 cores, on the first call after every fit or load): too slow for a
request. Exact neighbours by matrix product cost ~1 s for 1k new points against 100k, and the
weighted mean of neighbour positions is the same starting point UMAP's transform refines.
Above EXACT_MAX_POINTS fitted points the neighbours come from a faiss IVF index built for
the call: exact search placed 10k new points on a 1M-point map in 247 s, mostly partitioning
a (256, 1M) distance block per query chunk.
"""

from __future__ import annotations

import faiss
import numpy as np

QUERY_CHUNK = 256
EXACT_MAX_POINTS = 50_000
# Inverted lists: about sqrt(N) of them (1,000 at 1M), each query visiting 1/32 of them.
MIN_LISTS, MAX_LISTS = 16, 4096
TRAIN_PER_LIST = 40


def nearest_neighbours(
    queries: np.ndarray, points: np.ndarray, k: int, *, exact_max: int = EXACT_MAX_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean k-NN, exact up to `exact_max` points, else approximate (faiss IVF).
    queries (M, D), points (N, D) float32 -> indices (M, k) int64 and distances (M, k)
    float32, nearest first."""
    if len(points) <= exact_max:
        return exact_neighbours(queries, points, k)
    return approximate_neighbours(queries, points, k)


def approximate_neighbours(
    queries: np.ndarray, points: np.ndarray, k: int, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """nearest_neighbours from an IVF-flat index over points (distances exact, recall not).
    A query whose probed lists hold fewer than k points is answered exactly."""
    points = np.ascontiguousarray(points, np.float32)
    queries = np.ascontiguousarray(queries, np.float32)
    k = min(k, len(points))
    lists = int(np.clip(np.sqrt(len(points)), MIN_LISTS, MAX_LISTS))
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(points.shape[1]), points.shape[1], lists)
    rng = np.random.default_rng(seed)
    index.train(points[rng.choice(len(points), min(len(points), lists * TRAIN_PER_LIST), False)])
    index.add(points)
    index.nprobe = max(8, lists // 32)
    squared, indices = index.search(queries, k)
    short = (indices < 0).any(axis=1)
    if short.any():
        indices[short], exact = exact_neighbours(queries[short], points, k)
        squared[short] = exact**2
    return indices.astype(np.int64), np.sqrt(np.maximum(squared, 0)).astype(np.float32)


def exact_neighbours(
    queries: np.ndarray, points: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact Euclidean k-NN by matrix product; same shapes as nearest_neighbours."""
    k = min(k, len(points))
    squared_norms = np.einsum("ij,ij->i", points, points)
    indices = np.empty((len(queries), k), np.int64)
    distances = np.empty((len(queries), k), np.float32)
    for start in range(0, len(queries), QUERY_CHUNK):
        chunk = queries[start : start + QUERY_CHUNK]
        squared = (
            squared_norms[None]
            - 2 * chunk @ points.T
            + np.einsum("ij,ij->i", chunk, chunk)[:, None]
        )
        near = np.argpartition(squared, k - 1, axis=1)[:, :k]
        near_sq = np.take_along_axis(squared, near, axis=1)
        order = np.argsort(near_sq, axis=1)
        indices[start : start + len(chunk)] = np.take_along_axis(near, order, axis=1)
        distances[start : start + len(chunk)] = np.sqrt(
            np.maximum(np.take_along_axis(near_sq, order, axis=1), 0)
        )
    return indices, distances


def place_by_neighbours(
    queries: np.ndarray, points: np.ndarray, coords: np.ndarray, k: int
) -> np.ndarray:
    """(M, 2) float32 map positions for (M, D) queries, given fitted (N, D) points at (N, 2)
    coords: the mean of the k nearest points' coords, weighted like UMAP's memberships
    (exp(-(d - d_nearest) / mean excess distance))."""
    indices, distances = nearest_neighbours(queries, points, k)
    return weighted_positions(indices, distances, coords)


def weighted_positions(
    indices: np.ndarray, distances: np.ndarray, coords: np.ndarray
) -> np.ndarray:
    """(M, 2) float32: the mean of coords (N, 2) at indices (M, k), weighted by distances
    (M, k) ascending as place_by_neighbours says."""
    excess = distances - distances[:, :1]
    scale = excess.mean(axis=1, keepdims=True) + 1e-8
    weights = np.exp(-excess / scale)
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("mk,mkc->mc", weights, coords[indices]).astype(np.float32)
