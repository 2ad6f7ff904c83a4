"""PCA projector: the instant fallback behind the same protocol."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.projection.base import NotFitted, Projector, load_projector
from app.projection.pca_projector import PcaProjector
from tests.projection.conftest import make_blobs


def test_fit_transform_and_transform_agree(tmp_path: Path) -> None:
    blobs = make_blobs(200)
    projector = PcaProjector()
    coords = projector.fit_transform(blobs.points)
    assert isinstance(projector, Projector)
    assert coords.shape == (200, 2) and coords.dtype == np.float32
    np.testing.assert_allclose(projector.transform(blobs.points[:10]), coords[:10], atol=1e-4)
    projector.save(tmp_path / "pca.pkl")
    loaded = load_projector(tmp_path / "pca.pkl")
    np.testing.assert_allclose(loaded.transform(blobs.points), coords, atol=1e-4)


def test_first_axis_carries_the_most_variance() -> None:
    coords = PcaProjector().fit_transform(make_blobs(300).points)
    assert coords[:, 0].var() >= coords[:, 1].var() > 0


def test_rank_one_data_is_padded_and_unfitted_raises() -> None:
    with pytest.raises(NotFitted):
        PcaProjector().transform(np.ones((2, 3)))
    line = np.outer(np.arange(5), np.ones(4)).astype(np.float32)
    coords = PcaProjector().fit_transform(line[:, :1])
    assert coords.shape == (5, 2) and (coords[:, 1] == 0).all()
