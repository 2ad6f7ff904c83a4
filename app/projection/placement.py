"""Placing new points on a fitted 2-d map from their nearest fitted neighbours. Pure numpy.

UMAP's own transform() queries a pynndescent index whose search kernel numba compiles per
index (a minute on 2 cores, on the first call after every fit or load): too slow for a
request. Exact neighbours by matrix product cost ~1 s for 1k new points against 100k, and the
weighted mean of neighbour positions is the same starting point UMAP's transform refines.
"""

from __future__ import annotations

import numpy as np

QUERY_CHUNK = 256


def nearest_neighbours(
    queries: np.ndarray, points: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact Euclidean k-NN. queries (M, D), points (N, D) float32 -> indices (M, k) int64 and
    distances (M, k) float32, nearest first."""
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
    excess = distances - distances[:, :1]
    scale = excess.mean(axis=1, keepdims=True) + 1e-8
    weights = np.exp(-excess / scale)
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("mk,mkc->mc", weights, coords[indices]).astype(np.float32)
