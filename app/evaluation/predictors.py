"""What a simulated annotator talks to: a Predictor (prompt in, best mask out).

HttpPredictor goes through the app's real `POST /api/images/{id}/predict` (worker, cache,
decoder, JSON, RLE); WorkerPredictor asks a running app's inference worker directly (the same
cache and model, no HTTP: the CLI's `eval --noc`); SegmenterPredictor calls a Segmenter
directly (for benchmarks of a backend without the server). Points are Nx2 (X, Y) canonical pixels,
labels 1 positive / 0 negative, box XYXY.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from app.inference.base import PredictedMask, Prompt, Segmenter
from app.inference.queue import Priority
from app.inference.worker import ImageLoader, InferenceWorker
from app.masks import decode_rle


@dataclass(frozen=True)
class Prediction:
    mask: np.ndarray  # HxW bool: the answer's chosen (first) mask
    score: float
    handle: Any  # what to send back as mask_input to refine this mask
    candidates: tuple[np.ndarray, ...] = ()  # every returned HxW bool mask, chosen first
    candidate_scores: tuple[float, ...] = ()  # their predicted IoUs
    encode_ms: float = 0.0  # time the answer spent encoding the image (0 when cached)
    decode_ms: float = 0.0


class Predictor(Protocol):
    def __call__(
        self,
        points: np.ndarray,
        labels: np.ndarray,
        *,
        box: np.ndarray | None = None,
        mask_input: Any = None,
        multimask: bool = False,
    ) -> Prediction: ...


class SegmenterPredictor:
    """Encodes `image` (HxWx3 uint8) once, then answers prompts with `segmenter.predict`."""

    def __init__(self, segmenter: Segmenter, image: np.ndarray) -> None:
        self.segmenter = segmenter
        self.state = segmenter.prepare([image])[0]

    def __call__(self, points, labels, *, box=None, mask_input=None, multimask=False) -> Prediction:
        prompt = _prompt(points, labels, box, mask_input, multimask)
        return _best_first(self.segmenter.predict(self.state, prompt))


class WorkerPredictor:
    """Answers prompts for one image on a started InferenceWorker, as /predict does: the
    embedding from its cache (encoded once), the decoder on the worker thread."""

    def __init__(self, worker: InferenceWorker, image_sha: str, load_image: ImageLoader) -> None:
        self.worker = worker
        self.image_sha = image_sha
        self.load_image = load_image

    def __call__(self, points, labels, *, box=None, mask_input=None, multimask=False) -> Prediction:
        prompt = _prompt(points, labels, box, mask_input, multimask)
        started = time.perf_counter()
        state = self.worker.prepare_blocking(
            self.image_sha, self.load_image, Priority.ENCODE_INTERACTIVE
        )
        encoded = time.perf_counter()
        masks = self.worker.submit_call(lambda s: s.predict(state, prompt), Priority.DECODE)
        answer = _best_first(masks.result())
        decoded = time.perf_counter()
        return replace(
            answer, encode_ms=(encoded - started) * 1000, decode_ms=(decoded - encoded) * 1000
        )


def _prompt(points, labels, box, mask_input, multimask: bool) -> Prompt:  # type: ignore[no-untyped-def]
    return Prompt(
        points=np.asarray(points, np.float32).reshape(-1, 2),
        point_labels=np.asarray(labels, np.int32).reshape(-1),
        box=None if box is None else np.asarray(box, np.float32),
        mask_input=mask_input,
        multimask=multimask,
    )


def _best_first(masks: list[PredictedMask]) -> Prediction:
    """A segmenter's answer (sorted best first) as a Prediction of its first mask."""
    chosen = masks[0]
    return Prediction(
        chosen.mask,
        chosen.score,
        chosen.low_res_logits[None],
        tuple(m.mask for m in masks),
        tuple(m.score for m in masks),
    )


class HttpPredictor:
    """Posts prompts for one image to `/api/images/{image_id}/predict` with an httpx-style
    client (a TestClient in process, or httpx.Client(base_url=...) against a server)."""

    def __init__(self, client: Any, image_id: int) -> None:
        self.client = client
        self.url = f"/api/images/{image_id}/predict"
        self.segments_url = f"/api/images/{image_id}/segments"
        self.last_handle: str | None = None

    def __call__(self, points, labels, *, box=None, mask_input=None, multimask=False) -> Prediction:
        body = {
            "points": np.asarray(points, float).reshape(-1, 2).tolist(),
            "point_labels": np.asarray(labels, int).reshape(-1).tolist(),
            "box": None if box is None else np.asarray(box, float).tolist(),
            "mask_input": mask_input,
            "multimask": multimask,
        }
        response = self.client.post(self.url, json=body)
        if response.status_code != 200:
            raise RuntimeError(f"predict failed ({response.status_code}): {response.text[:300]}")
        answer = response.json()
        masks = [decode_rle(m["rle"]) for m in answer["masks"]]
        self.last_handle = answer["mask_input"]
        return Prediction(
            masks[0],
            float(answer["masks"][0]["score"]),
            answer["mask_input"],
            tuple(masks),
            tuple(float(m["score"]) for m in answer["masks"]),
            encode_ms=answer["timing_ms"]["encode"],
            decode_ms=answer["timing_ms"]["decode"],
        )

    def accept(self) -> None:
        """Save the last answer's first mask as a segment, as an annotator accepting it."""
        response = self.client.post(self.segments_url, json={"mask_handle": self.last_handle})
        if response.status_code != 201:
            raise RuntimeError(f"save failed ({response.status_code}): {response.text[:300]}")
