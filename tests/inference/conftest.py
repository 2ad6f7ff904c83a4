"""Fixtures for inference tests: one tiny SAM checkpoint and its loaded segmenter per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.config import Settings
from app.inference.factory import load_sam_segmenter
from app.inference.sam import SamSegmenter
from tests.fixtures.tiny_sam import write_tiny_checkpoint


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "tiny_sam.pth")


@pytest.fixture(scope="session")
def shared_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared so the ONNX decoder is exported once per session (it is keyed by model id)."""
    return tmp_path_factory.mktemp("models")


def sam_settings(data_dir: Path, checkpoint: Path | None, models_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        sam_checkpoint=checkpoint,
        model_dir=models_dir,
        seed_demo=False,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def tiny_segmenter(
    tiny_checkpoint: Path, shared_models_dir: Path, tmp_path_factory
) -> SamSegmenter:
    settings = sam_settings(tmp_path_factory.mktemp("data"), tiny_checkpoint, shared_models_dir)
    return load_sam_segmenter(settings)


def photo(height: int = 240, width: int = 320, seed: int = 0) -> np.ndarray:
    """A smooth synthetic RGB image (HxWx3 uint8) with a bright disc in the middle."""
    yy, xx = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(seed)
    base = np.stack([xx / width, yy / height, rng.random() * np.ones_like(xx)], -1) * 120
    disc = (xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(height, width) / 4) ** 2
    base[disc] += 120
    return base.clip(0, 255).astype(np.uint8)
