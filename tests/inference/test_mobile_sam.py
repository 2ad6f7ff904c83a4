"""MobileSAM (vit_t): the official checkpoint through the real loading code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from app.inference.architecture import PRESETS, infer_architecture, load_sam, read_state_dict
from app.inference.checkpoints import verify_official
from app.inference.sam import SamSegmenter


def test_official_checkpoint_is_recognised_and_loads_with_every_key(mobile_sam_path: Path):
    verify_official(mobile_sam_path, "vit_t")
    state = read_state_dict(mobile_sam_path)
    assert infer_architecture(state) == PRESETS["vit_t"]
    sam = load_sam(state, PRESETS["vit_t"])  # strict: refuses missing or unexpected keys
    assert set(sam.state_dict()) == set(state)
    assert not sam.training


def test_encoder_output_on_a_real_photo_is_pinned(mobile_sam: SamSegmenter):
    """Values from MobileSAM's own predictor (mobilesam-mirror 1.0.0, eval() after loading) on
    the same image; ours agree to float16 rounding (max abs difference 2.4e-4)."""
    image = np.ascontiguousarray(data.astronaut()[::2, ::2])  # 256x256x3
    assert not mobile_sam.sam.training  # BatchNorm on running statistics
    features = mobile_sam.prepare([image])[0].arrays["features"].astype(np.float32)
    assert features.shape == (1, 256, 64, 64)
    assert features.mean() == pytest.approx(-0.0027604, abs=2e-5)
    assert features.std() == pytest.approx(0.102507, abs=2e-4)
    expected = [
        [0.0166747, 0.0391855, -0.0273669, 0.0065428],
        [0.0883847, 0.0668995, 0.0970837, 0.0475974],
    ]
    np.testing.assert_allclose(features[0, :2, 10, 20:24], expected, atol=1e-3)
