"""PCA to two dimensions: the instant fallback projector (and a deterministic test double)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

from app.projection.base import FitProgress, NotFitted, Vectors, as_float32_matrix, save_pickle


def fit_pca(vectors: Vectors, n_components: int, *, max_fit_rows: int, seed: int) -> PCA:
    """Fit PCA on at most `max_fit_rows` random rows of (N, D) float `vectors`.

    A 20k-row sample pins the leading directions of 1280-d embeddings as well as all rows do,
    at a fraction of the cost (the power iterations dominate at 100k rows).
    """
    rng = np.random.default_rng(seed)
    n_rows, n_dims = vectors.shape
    rows = rng.choice(n_rows, max_fit_rows, replace=False) if n_rows > max_fit_rows else None
    sample = vectors if rows is None else vectors[np.sort(rows)]
    n_components = min(n_components, n_dims, sample.shape[0])
    return PCA(n_components=n_components, svd_solver="randomized", random_state=seed).fit(
        as_float32_matrix(sample)
    )


class PcaProjector:
    """Linear projection onto the first two principal components; output (N, 2) float32."""

    name = "pca"

    def __init__(self, *, max_fit_rows: int = 20_000, random_state: int = 0) -> None:
        self.max_fit_rows = max_fit_rows
        self.random_state = random_state
        self._pca: PCA | None = None

    def fit_transform(self, vectors: Vectors, progress: FitProgress | None = None) -> np.ndarray:
        """(N, D) -> (N, 2) float32; one step, so `progress` is never called."""
        matrix = as_float32_matrix(vectors)
        if matrix.shape[0] < 2:
            self._pca = None
            return np.zeros((matrix.shape[0], 2), np.float32)
        self._pca = fit_pca(matrix, 2, max_fit_rows=self.max_fit_rows, seed=self.random_state)
        return self.transform(matrix)

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        matrix = as_float32_matrix(vectors)
        if self._pca is None:
            raise NotFitted("PcaProjector.transform called before fit_transform")
        coords = self._pca.transform(matrix).astype(np.float32)
        # fewer than two components when the data has rank 1; pad so the map stays (N, 2).
        return np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))

    def save(self, path: Path) -> None:
        save_pickle(self, path)


class PreReducer:
    """Optional PCA pre-reduction before a neighbour-graph projector: (N, D) -> (N, k) float32.

    n_components None/0, or >= D, leaves vectors as they are (as float32). Fitted on a row
    sample (fit_pca). Inputs may be float16 (the vector store's rows): they are converted a
    chunk at a time, so 1M x 1280 never exists as float32 (5 GB) or float64.
    """

    CHUNK_ROWS = 65_536

    def __init__(self, n_components: int | None, *, max_fit_rows: int, seed: int) -> None:
        self.n_components = n_components
        self.max_fit_rows = max_fit_rows
        self.seed = seed
        self._pca: PCA | None = None

    def fit_transform(self, matrix: Vectors) -> np.ndarray:
        self._pca = None
        _check_matrix(matrix)
        if self.n_components and matrix.shape[1] > self.n_components:
            self._pca = fit_pca(
                matrix, self.n_components, max_fit_rows=self.max_fit_rows, seed=self.seed
            )
        return self.transform(matrix)

    def transform(self, matrix: Vectors) -> np.ndarray:
        _check_matrix(matrix)
        if self._pca is None:
            return as_float32_matrix(matrix)
        out = np.empty((len(matrix), self._pca.n_components_), np.float32)
        for start in range(0, len(matrix), self.CHUNK_ROWS):
            chunk = as_float32_matrix(matrix[start : start + self.CHUNK_ROWS])
            out[start : start + len(chunk)] = self._pca.transform(chunk)
        return out


def _check_matrix(matrix: Vectors) -> None:
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"expected a non-empty (N, D) matrix, got shape {matrix.shape}")
