"""Fixtures for inference tests: the tiny SAM (tests/conftest.py) loaded once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.inference.sam import SamSegmenter
from app.inference.sam_loader import load_sam_segmenter
from tests.fixtures.settings import make_settings


@pytest.fixture(scope="session")
def tiny_segmenter(
    tiny_sam_checkpoint: Path, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> SamSegmenter:
    settings = make_settings(
        tmp_path_factory.mktemp("data"), sam_checkpoint=tiny_sam_checkpoint, model_dir=models_dir
    )
    return load_sam_segmenter(settings)


def photo(height: int = 240, width: int = 320, seed: int = 0) -> np.ndarray:
    """A smooth synthetic RGB image (HxWx3 uint8) with a bright disc in the middle."""
    yy, xx = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(seed)
    base = np.stack([xx / width, yy / height, rng.random() * np.ones_like(xx)], -1) * 120
    disc = (xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(height, width) / 4) ** 2
    base[disc] += 120
    return base.clip(0, 255).astype(np.uint8)
