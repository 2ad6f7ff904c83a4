"""SamSegmenter: segment-anything behind the Segmenter protocol.

`prepare` is SamPredictor.set_image for a batch (the encoder); `predict` is SamPredictor.predict
with the decoder run by a DecoderRunner (onnxruntime on CPU) and only the returned masks
upscaled; `auto` is SamAutomaticMaskGenerator's algorithm on a batched decoder (auto_masks.py). Features are kept as float16 so a memory hit and a disk hit give the same masks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from segment_anything.modeling import Sam
from segment_anything.utils.transforms import ResizeLongestSide

from app.inference.auto_masks import AutoParams, FastAutoMasks, upscale_logits
from app.inference.base import (
    AutoMask,
    InferenceOutOfMemory,
    PredictedMask,
    PreparedImage,
    Prompt,
)
from app.inference.batch_decoder import BatchRunner, TorchBatchRunner
from app.inference.decoder import DecoderRunner
from app.inference.refinement import refining_token


class SamSegmenter:
    """One SAM model on one device. Used from the worker thread only."""

    name = "sam"

    def __init__(
        self,
        sam: Sam,
        model_id: str,
        decoder: DecoderRunner,
        *,
        autocast_dtype: torch.dtype | None = None,
        batch_runner: Callable[[], BatchRunner] | None = None,
    ) -> None:
        self.sam = sam
        self.model_id = model_id
        self.decoder = decoder
        self.autocast_dtype = autocast_dtype
        self.transform = ResizeLongestSide(sam.image_encoder.img_size)
        # Built on the first automatic-mask run (its ONNX export costs seconds).
        self._batch_runner = batch_runner or (lambda: TorchBatchRunner(sam))
        self._auto: FastAutoMasks | None = None

    @property
    def device(self) -> torch.device:
        return self.sam.device

    def prepare(self, images: list[np.ndarray]) -> list[PreparedImage]:
        """Encode HxWx3 uint8 RGB images in one batch -> features 1x256x64x64 float16 each."""
        inputs = [self.transform.apply_image(image) for image in images]
        features = _on_oom(lambda: self._encode(inputs), self.device)
        return [
            PreparedImage(
                model_id=self.model_id,
                arrays={"features": f[None].copy()},  # not views of one batch array
                original_size=(int(image.shape[0]), int(image.shape[1])),
                input_size=(int(x.shape[0]), int(x.shape[1])),
            )
            for image, x, f in zip(images, inputs, features, strict=True)
        ]

    def predict(self, state: PreparedImage, prompt: Prompt) -> list[PredictedMask]:
        """Masks for one prompt in canonical pixels, best first (3 if multimask else 1)."""
        inputs = self._decoder_inputs(state, prompt)
        low_res, scores = _on_oom(lambda: self.decoder(*inputs), self.device)
        tokens = _tokens(prompt, low_res, scores, self._low_res_click(state, prompt))
        scores = np.clip(scores, 0.0, 1.0)
        masks = self._upscale(low_res[tokens], state)
        return [
            PredictedMask(
                mask=mask,
                score=float(scores[t]),
                low_res_logits=low_res[t].astype(np.float32),
                token=t,
            )
            for t, mask in zip(tokens, masks, strict=True)
        ]

    def auto(
        self,
        state: PreparedImage,
        image: np.ndarray,
        params: dict[str, Any],
        between_batches: Callable[[], None] | None = None,
    ) -> list[AutoMask]:
        """Automatic masks of the whole image (auto_masks.py), reusing state."""
        settings = AutoParams.of(params)
        if self._auto is None:
            self._auto = FastAutoMasks(
                self._batch_runner(), self.transform, self.sam.mask_threshold
            )
        generator, between = self._auto, between_batches or (lambda: None)
        return _on_oom(lambda: generator(state, settings, between), self.device)

    def _model_input(self, resized: np.ndarray) -> torch.Tensor:
        """Resized HxWx3 uint8 -> 1x3x1024x1024 normalised, padded float on the device."""
        tensor = torch.as_tensor(resized, device=self.device).permute(2, 0, 1)[None]
        return self.sam.preprocess(tensor.float())

    def _encode(self, resized: list[np.ndarray]) -> np.ndarray:
        """Resized images -> Bx256x64x64 float16 features on the host. Every device allocation
        of an encode (input upload and normalisation too) happens here, inside the caller's
        out-of-memory guard: a batch too large fails as InferenceOutOfMemory wherever it fails."""
        batch = torch.cat([self._model_input(x) for x in resized])
        autocast = (
            torch.autocast(self.device.type, dtype=self.autocast_dtype)
            if self.autocast_dtype is not None
            else contextlib.nullcontext()
        )
        if self.device.type == "cuda":
            batch = batch.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), autocast:
            features = self.sam.image_encoder(batch).float()
        return features.to(torch.float16).cpu().numpy()

    def _decoder_inputs(self, state: PreparedImage, prompt: Prompt) -> tuple[np.ndarray, ...]:
        points = np.asarray(prompt.points, np.float32).reshape(-1, 2)
        labels = np.asarray(prompt.point_labels, np.float32).reshape(-1)
        if prompt.box is not None:
            corners = np.asarray(prompt.box, np.float32).reshape(2, 2)
            points, labels = np.concatenate([points, corners]), np.concatenate([labels, [2, 3]])
        else:  # SAM's prompt encoder pads with a 'not a point' when no box is given
            points, labels = np.concatenate([points, [[0, 0]]]), np.concatenate([labels, [-1]])
        coords = self.transform.apply_coords(points, state.original_size).astype(np.float32)
        has_mask = prompt.mask_input is not None
        mask_input = (
            np.asarray(prompt.mask_input, np.float32).reshape(1, 1, 256, 256)
            if has_mask
            else np.zeros((1, 1, 256, 256), np.float32)
        )
        features = state.arrays["features"].astype(np.float32)
        return (
            features,
            coords[None],
            labels.astype(np.float32)[None],
            mask_input,
            np.array([float(has_mask)], np.float32),
        )

    def _low_res_click(self, state: PreparedImage, prompt: Prompt) -> tuple[int, int, bool] | None:
        """(x, y, positive) of the prompt's last point in 256x256 low-res pixels, if any."""
        if len(prompt.points) == 0:
            return None
        last = np.asarray(prompt.points[-1:], np.float64)
        x, y = self.transform.apply_coords(last, state.original_size)[0] // 4
        return min(int(x), 255), min(int(y), 255), bool(prompt.point_labels[-1] == 1)

    def _upscale(self, low_res: np.ndarray, state: PreparedImage) -> np.ndarray:
        """Cx256x256 logits -> CxHxW bool: Sam.postprocess_masks then > threshold (OpenCV's
        bilinear, ~8x faster on CPU; masks differ in at most a pixel or two)."""
        size = self.sam.image_encoder.img_size
        logits = upscale_logits(low_res, state.input_size, state.original_size, size)
        return logits > self.sam.mask_threshold


def _tokens(
    prompt: Prompt, low_res: np.ndarray, scores: np.ndarray, click: tuple[int, int, bool] | None
) -> list[int]:
    """The tokens answering prompt, best first: SAM's three by (unclipped) predicted IoU, or
    one (the single mask, or for a refining click the one refinement.py picks)."""
    if prompt.multimask:
        return sorted([1, 2, 3], key=lambda t: -float(scores[t]))
    if prompt.mask_input is None or prompt.previous_score is None:
        return [0]
    previous = np.asarray(prompt.mask_input, np.float32).reshape(256, 256)
    scores = np.clip(scores, 0.0, 1.0)
    candidate = prompt.candidate
    return [refining_token(low_res, scores, previous, prompt.previous_score, candidate, click)]


def _on_oom(run: Any, device: torch.device) -> Any:
    """Run; on CUDA out-of-memory free the cache (outside the except) and raise ours."""
    out_of_memory = False
    try:
        return run()
    except torch.cuda.OutOfMemoryError:
        out_of_memory = True
    if out_of_memory:
        torch.cuda.empty_cache()
    raise InferenceOutOfMemory(f"out of memory on {device}; try a smaller batch or image")
