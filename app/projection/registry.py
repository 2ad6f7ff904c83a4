"""build_projector: projector name (settings / per project) -> Projector instance.

"umap" (CPU, umap-learn), "pca" (instant fallback), "cuml-umap" (GPU, RAPIDS) and "auto"
(cuml-umap when cuml imports, else umap). umap/cuml are imported only when asked for.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from typing import Any

from app.projection.base import Projector
from app.projection.pca_projector import PcaProjector

PROJECTORS = ("auto", "umap", "cuml-umap", "pca")

log = logging.getLogger(__name__)


def build_projector(name: str = "auto", **params: Any) -> Projector:
    """A fresh, unfitted projector. params: the projector's keyword arguments (UMAP ones:
    n_neighbors, metric, n_epochs, init, min_dist, pca_components, random_state)."""
    if name == "auto":
        name = "cuml-umap" if importlib.util.find_spec("cuml") is not None else "umap"
    if name == "pca":
        return PcaProjector(**params)
    if name == "umap":
        from app.projection.umap_projector import UmapProjector

        return UmapProjector(**params)
    if name == "cuml-umap":
        from app.projection.umap_cuml import CumlUmapProjector

        return CumlUmapProjector(**params)
    raise ValueError(f"unknown projector {name!r}: use one of {', '.join(PROJECTORS)}")


def warm_umap_in_background() -> threading.Thread:
    """Start a daemon thread compiling UMAP's numba kernels (about a minute on 2 cores; numba's
    on-disk cache does not cover umap's layout kernels, so every process pays it once).
    Call at server start-up so no request or job waits for the compiler."""

    def warm() -> None:
        from app.projection.umap_projector import warm_numba

        log.info("umap numba warm-up done in %.1f s", warm_numba())

    thread = threading.Thread(target=warm, name="umap-warmup", daemon=True)
    thread.start()
    return thread
