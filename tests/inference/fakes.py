"""A fake Segmenter for worker tests: instant, counts calls, can be made slow or failing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from app.inference.base import AutoMask, PredictedMask, PreparedImage, Prompt


class Crash(BaseException):
    """Escapes per-request error handling, as a worker crash would."""


class FakeSegmenter:
    name = "fake"

    def __init__(self, model_id: str = "fake-1", encode_seconds: float = 0.0) -> None:
        self.model_id = model_id
        self.encode_seconds = encode_seconds
        self.batches: list[int] = []
        self.log: list[str] = []
        self.fail_next_encode: Exception | None = None
        self.crash_next_predict = False
        self.gate = threading.Event()
        self.gate.set()
        self.entered = 0  # prepare calls that reached the gate

    def prepare(self, images: list[np.ndarray]) -> list[PreparedImage]:
        self.entered += 1
        self.gate.wait()
        self.batches.append(len(images))
        self.log.append(f"encode{len(images)}")
        if self.fail_next_encode is not None:
            error, self.fail_next_encode = self.fail_next_encode, None
            raise error
        time.sleep(self.encode_seconds)
        return [
            PreparedImage(
                self.model_id,
                {"features": image.mean(axis=2, keepdims=True).astype(np.float32)},
                image.shape[:2],
                image.shape[:2],
            )
            for image in images
        ]

    def predict(self, state: PreparedImage, prompt: Prompt) -> list[PredictedMask]:
        self.log.append("decode")
        if self.crash_next_predict:
            self.crash_next_predict = False
            raise Crash("boom")
        h, w = state.original_size
        mask = np.zeros((h, w), bool)
        x, y = (int(v) for v in prompt.points[0])
        mask[max(0, y - 2) : y + 3, max(0, x - 2) : x + 3] = True
        return [PredictedMask(mask, 0.9, np.zeros((256, 256), np.float32))]

    def auto(
        self,
        state: PreparedImage,
        image: np.ndarray,
        params: dict[str, Any],
        between_batches: Callable[[], None] | None = None,
    ) -> list[AutoMask]:
        masks = []
        for _ in range(params.get("batches", 3)):
            if between_batches is not None:
                between_batches()
            self.log.append("auto-batch")
            time.sleep(params.get("seconds", 0.0))
            masks.append(AutoMask(np.ones(state.original_size, bool), 0.9, 0.95))
        return masks
