"""The per-click half of SAM (prompt encoder + mask decoder), run by onnxruntime or torch.

Both runners take model-frame inputs (ONNX-demo convention of segment-anything) and return
all four mask tokens at low resolution; choosing tokens and upscaling is the caller's job,
so only the masks actually returned are ever upscaled. Exporting the graphs and choosing the
runner: decoder_export.py.

Inputs: features 1x256x64x64 float32; coords 1xNx2 float32 (X, Y) in the 1024 model frame,
box corners appended with labels 2/3, or a padding point (label -1) when there is no box;
labels 1xN float32; mask_input 1x1x256x256 float32; has_mask 1 float32 (0 or 1).
Outputs: low_res 4x256x256 float32 logits and scores 4 float32 (token 0 = single mask).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from segment_anything.modeling import Sam
from segment_anything.utils.onnx import SamOnnxModel

from app.inference.fast_attention import folded_decoder
from app.inference.fast_upscaling import channels_last_decoder

DECODER_INPUTS = [
    "image_embeddings",
    "point_coords",
    "point_labels",
    "mask_input",
    "has_mask_input",
]
DECODER_OUTPUTS = ["low_res_masks", "iou_predictions"]


class DecoderRunner(Protocol):
    name: str

    def __call__(
        self,
        features: np.ndarray,
        coords: np.ndarray,
        labels: np.ndarray,
        mask_input: np.ndarray,
        has_mask: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]: ...


class LowResDecoder(torch.nn.Module):
    """SamOnnxModel's traceable prompt embedding + SAM's mask decoder, without upscaling.

    folded: use the algebraically equal, cheaper cross-attention (fast_attention.py) and
    matrix-product upscaling (fast_upscaling.py), same maths in fewer, faster kernels.
    The dense positional encoding is a constant (it was sin/cos over 1M values per click).
    """

    def __init__(self, sam: Sam, *, folded: bool = False) -> None:
        super().__init__()
        self.onnx_model = SamOnnxModel(sam, return_single_mask=False)
        self.sam = sam
        decoder = sam.mask_decoder
        self.mask_decoder = channels_last_decoder(folded_decoder(decoder)) if folded else decoder
        with torch.no_grad():
            dense_pe = sam.prompt_encoder.get_dense_pe()
        self.register_buffer("dense_pe", dense_pe, persistent=False)

    @torch.no_grad()
    def forward(
        self,
        image_embeddings: torch.Tensor,
        point_coords: torch.Tensor,
        point_labels: torch.Tensor,
        mask_input: torch.Tensor,
        has_mask_input: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        sparse = self.onnx_model._embed_points(point_coords, point_labels)
        dense = self.onnx_model._embed_masks(mask_input, has_mask_input)
        masks, scores = self.mask_decoder.predict_masks(
            image_embeddings=image_embeddings,
            image_pe=self.dense_pe,
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
        )
        return masks[0], scores[0]


class TorchDecoder:
    """Eager PyTorch runner (any device); the reference the ONNX runner is checked against."""

    name = "torch"

    def __init__(self, sam: Sam) -> None:
        self.module = LowResDecoder(sam)
        self.device = sam.device

    def __call__(self, features, coords, labels, mask_input, has_mask):  # type: ignore[no-untyped-def]
        args = [
            torch.from_numpy(a).to(self.device)
            for a in (features, coords, labels, mask_input, has_mask)
        ]
        with torch.inference_mode():
            masks, scores = self.module(*args)
        return masks.float().cpu().numpy(), scores.float().cpu().numpy()


class OnnxDecoder:
    """onnxruntime (CPU) runner over the exported LowResDecoder graph."""

    name = "onnx"

    def __init__(self, onnx_path: Path, threads: int) -> None:
        self.session = onnx_session(onnx_path, threads)

    def __call__(self, features, coords, labels, mask_input, has_mask):  # type: ignore[no-untyped-def]
        feed = dict(
            zip(DECODER_INPUTS, (features, coords, labels, mask_input, has_mask), strict=True)
        )
        masks, scores = self.session.run(DECODER_OUTPUTS, feed)
        return masks, scores


def onnx_session(onnx_path: Path, threads: int) -> Any:
    """An onnxruntime CPU session over one exported graph, all optimisations on."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
