"""SAM's decoder for many prompts on one image (automatic masks): the split graphs of
split_decoder.py, the image part once per image and the prompt part on B prompts per run.

Inputs follow decoder.py: features 1x256x64x64 float32; coords Bx N x2 float32 in the 1024
model frame (a padding point with label -1 appended); labels BxN float32.
Outputs: low_res Bx3x256x256 float32 logits, scores Bx3 float32 of the multimask tokens
(SAM's mask tokens 1-3).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from segment_anything.modeling import Sam

from app.inference.decoder import DECODER_INPUTS, DECODER_OUTPUTS, onnx_session
from app.inference.decoder_export import export_decoder
from app.inference.decoder_files import graph_path
from app.inference.split_decoder import IMAGE_OUTPUTS, BatchPromptStage, ImageStage

log = logging.getLogger(__name__)

# Prompts per onnxruntime run. A run's largest intermediate is B x 65536 x 32 float32 (8 MB a
# prompt); runs of 32 took about 20% less CPU per prompt than SAM's batches of 64 on the 2-core
# CPU (16 and 8 no better).
RUN_PROMPTS = 32


class BatchRunner(Protocol):
    name: str

    def project(self, features: np.ndarray) -> tuple[np.ndarray, ...]:
        """features 1x256x64x64 -> the image part's outputs (IMAGE_OUTPUTS), once per image."""
        ...

    def __call__(
        self,
        features: np.ndarray,
        projected: tuple[np.ndarray, ...],
        coords: np.ndarray,
        labels: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]: ...


class OnnxBatchRunner:
    """onnxruntime (CPU) over the exported image and batch graphs."""

    name = "onnx-batch"

    def __init__(self, image_path: Path, batch_path: Path, threads: int) -> None:
        self.image = onnx_session(image_path, threads)
        self.batch = onnx_session(batch_path, threads)

    def project(self, features: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(self.image.run(IMAGE_OUTPUTS, {DECODER_INPUTS[0]: features}))

    def __call__(self, features, projected, coords, labels):  # type: ignore[no-untyped-def]
        names = [DECODER_INPUTS[0], *IMAGE_OUTPUTS, *DECODER_INPUTS[1:3]]
        runs = []
        for start in range(0, len(coords), RUN_PROMPTS):
            part = (coords[start : start + RUN_PROMPTS], labels[start : start + RUN_PROMPTS])
            feed = dict(zip(names, (features, *projected, *part), strict=True))
            runs.append(self.batch.run(DECODER_OUTPUTS, feed))
        if len(runs) == 1:
            return runs[0][0], runs[0][1]
        return np.concatenate([m for m, _ in runs]), np.concatenate([s for _, s in runs])


class TorchBatchRunner:
    """The same stages in eager PyTorch on the model's device (GPU, or when export fails)."""

    name = "torch-batch"

    def __init__(self, sam: Sam) -> None:
        self.device = sam.device
        self.image = ImageStage(sam).to(self.device).eval()
        self.batch = BatchPromptStage(sam).to(self.device).eval()

    def project(self, features: np.ndarray) -> tuple[np.ndarray, ...]:
        with torch.inference_mode():
            outputs = self.image(torch.from_numpy(features).to(self.device))
        return tuple(o.float().cpu().numpy() for o in outputs)

    def __call__(self, features, projected, coords, labels):  # type: ignore[no-untyped-def]
        args = [torch.from_numpy(a).to(self.device) for a in (features, *projected, coords, labels)]
        with torch.inference_mode():
            masks, scores = self.batch(*args)
        return masks.float().cpu().numpy(), scores.float().cpu().numpy()


def make_batch_runner(sam: Sam, onnx_path: Path | None, threads: int) -> BatchRunner:
    """ONNX on CPU when onnx_path (the full graph's path) is given and export works, else torch."""
    if onnx_path is None or sam.device.type != "cpu":
        return TorchBatchRunner(sam)
    try:
        image = export_decoder(sam, graph_path(onnx_path, "image"), "image")
        return OnnxBatchRunner(
            image, export_decoder(sam, graph_path(onnx_path, "auto"), "auto"), threads
        )
    except Exception:  # noqa: BLE001 - any export/runtime failure falls back to eager
        log.exception("ONNX batch decoder unavailable; automatic masks use the PyTorch decoder")
        return TorchBatchRunner(sam)
