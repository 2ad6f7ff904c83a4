"""The Projector protocol: turns (N, D) embedding vectors into (N, 2) map coordinates.

Implementations: `UmapProjector` (umap_projector.py), `PcaProjector` (pca_projector.py, fast
fallback and test double) and `CumlUmapProjector` (umap_cuml.py, GPU, only where RAPIDS is
installed). Nothing here imports umap.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from app.embeddings.store import StoreRows

# (N, D) vectors: in memory, or a store's rows read a chunk at a time.
Vectors = np.ndarray | StoreRows

# progress(steps done, steps in all) of a fit's iterative part (UMAP's layout epochs); the first
# call, (0, n), says the part before it (the neighbour graph) is done. It may raise to stop the
# fit (a cancelled job). Projectors without such a part never call it.
FitProgress = Callable[[int, int], None]


@runtime_checkable
class Projector(Protocol):
    """A fitted-once, extend-many map from embedding space to the plane.

    Inputs are (N, D) float arrays (float16 store rows are fine) or StoreRows, read by the
    projector a chunk at a time; outputs are (N, 2) float32.
    `transform` places new points on the existing map without refitting it.
    """

    name: str

    def fit_transform(
        self, vectors: Vectors, progress: FitProgress | None = None
    ) -> np.ndarray: ...

    def transform(self, vectors: np.ndarray) -> np.ndarray: ...

    def save(self, path: Path) -> None: ...


class NotFitted(RuntimeError):
    """transform() or save() was called before fit_transform()."""


def as_float32_matrix(vectors: Vectors) -> np.ndarray:
    """(N, D) any float dtype -> C-contiguous float32 (N, D); rejects other shapes."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"expected a non-empty (N, D) matrix, got shape {matrix.shape}")
    return matrix


def save_pickle(obj: object, path: Path) -> None:
    """Write `obj` to `path` atomically (temporary file in the same folder, then os.replace)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_projector(path: Path) -> Projector:
    """Load a projector written by `Projector.save`. Only load files this app wrote:
    pickle runs code from the file."""
    with open(path, "rb") as f:
        projector = pickle.load(f)
    if not isinstance(projector, Projector):
        raise TypeError(f"{path} does not hold a Projector (got {type(projector).__name__})")
    return projector
