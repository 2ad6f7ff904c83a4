"""RAPIDS cuML UMAP on the GPU, behind the same Projector protocol (only where cuml is installed).

Import this module only through registry.build_projector: it imports cuml at the top.
Untested on the CPU-only development machine; the CPU UmapProjector is the reference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from cuml.manifold import UMAP as CumlUMAP  # noqa: N811

from app.projection.base import FitProgress, NotFitted, Vectors, save_pickle
from app.projection.pca_projector import PreReducer


class CumlUmapProjector:
    """(N, D) -> (N, 2) float32 with cuML's UMAP; parameters mean what UmapProjector's do."""

    name = "cuml-umap"

    def __init__(
        self,
        *,
        n_neighbors: int = 15,
        metric: str = "euclidean",
        n_epochs: int | None = None,
        init: str = "spectral",
        min_dist: float = 0.1,
        pca_components: int | None = 50,
        random_state: int | None = None,
        max_pca_fit_rows: int = 20_000,
    ) -> None:
        self.params = dict(
            n_neighbors=n_neighbors,
            metric=metric,
            n_epochs=n_epochs,
            init=init,
            min_dist=min_dist,
            random_state=random_state,
        )
        seed = 0 if random_state is None else random_state
        self._reducer = PreReducer(pca_components, max_fit_rows=max_pca_fit_rows, seed=seed)
        self._umap: CumlUMAP | None = None

    def fit_transform(self, vectors: Vectors, progress: FitProgress | None = None) -> np.ndarray:
        """(N, D) -> (N, 2) float32; cuML reports no epochs, so `progress` is never called."""
        reduced = self._reducer.fit_transform(vectors)
        self._umap = CumlUMAP(n_components=2, **self.params)
        return np.asarray(self._umap.fit_transform(reduced), dtype=np.float32)

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        if self._umap is None:
            raise NotFitted("CumlUmapProjector.transform called before fit_transform")
        reduced = self._reducer.transform(vectors)
        return np.asarray(self._umap.transform(reduced), dtype=np.float32)

    def save(self, path: Path) -> None:
        if self._umap is None:
            raise NotFitted("CumlUmapProjector.save called before fit_transform")
        save_pickle(self, path)
