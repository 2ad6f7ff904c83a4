"""build_projector picks implementations by name and passes parameters through."""

from __future__ import annotations

import importlib.util

import pytest

from app.projection.pca_projector import PcaProjector
from app.projection.registry import build_projector, warm_umap_in_background
from app.projection.umap_projector import UmapProjector


def test_names_build_their_projectors() -> None:
    assert isinstance(build_projector("pca"), PcaProjector)
    umap_projector = build_projector("umap", n_neighbors=30, pca_components=0)
    assert isinstance(umap_projector, UmapProjector) and umap_projector.n_neighbors == 30


@pytest.mark.skipif(importlib.util.find_spec("cuml") is not None, reason="cuml installed")
def test_auto_is_cpu_umap_without_cuml() -> None:
    assert isinstance(build_projector("auto"), UmapProjector)


def test_unknown_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown projector"):
        build_projector("tsne")


@pytest.mark.slow
def test_background_warm_up_finishes_cleanly() -> None:
    # an exception in the thread would surface as pytest's unhandled-thread-exception error
    thread = warm_umap_in_background()
    thread.join(timeout=280)
    assert not thread.is_alive()
