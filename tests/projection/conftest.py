"""One fitted UMAP map per session: numba compiles on the first fit (tens of seconds)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from app.projection.umap_projector import UmapProjector


@dataclass(frozen=True)
class Blobs:
    """(n, 64) float32 points in well-separated Gaussian blobs, and their (n,) blob labels."""

    points: np.ndarray
    labels: np.ndarray


def make_blobs(n: int, *, centres: int = 4, dim: int = 64, seed: int = 0) -> Blobs:
    rng = np.random.default_rng(seed)
    means = np.random.default_rng(42).normal(scale=4.0, size=(centres, dim))
    labels = rng.integers(0, centres, n)
    points = means[labels] + rng.normal(size=(n, dim))
    return Blobs(points.astype(np.float32), labels)


@pytest.fixture(scope="session")
def blobs() -> Blobs:
    return make_blobs(400)


@pytest.fixture(scope="session")
def fitted_umap(blobs: Blobs) -> tuple[UmapProjector, np.ndarray]:
    projector = UmapProjector(pca_components=16, n_epochs=100, random_state=0)
    return projector, projector.fit_transform(blobs.points)
