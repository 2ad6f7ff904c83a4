"""PipelineActor: one model on one Ray worker, doing the per-image work of the pipeline jobs.

app/distributed/pool.py turns it into a Ray actor (`ray.remote(PipelineActor)`); this module
never imports Ray, so it stays plain Python. Work arrives as batches of ImageTask (the image's
original bytes travel through Ray's object store, so actors need no access to the image
folder) and leaves as one Outcome per image: a bad image fails alone. Embeddings are written
to the shared disk cache, so the server's interactive clicks find them later.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from app.config import Settings
from app.embeddings.base import Embedder
from app.embeddings.combined import embed_masks, uses_sam_features
from app.embeddings.registry import build_embedder
from app.imaging import as_array
from app.imaging.decode import canonical_frame
from app.inference.base import PreparedImage, Segmenter
from app.inference.cache import EmbeddingCache
from app.inference.factory import segmenter_factory
from app.inference.selection import choose
from app.masks import Rle, decode_rle, encode_rle


@dataclass(frozen=True)
class ImageTask:
    """One image for an actor: its job item key, content sha256 and original file bytes;
    `segments` ((segment id, RLE) pairs) only for the embed job."""

    key: str
    sha256: str
    data: bytes
    segments: tuple[tuple[int, Rle], ...] = field(default=())


@dataclass(frozen=True)
class Outcome:
    """The result of one ImageTask: `value` (what the method returns per image) or `error`."""

    key: str
    value: Any = None
    error: str | None = None


@dataclass(frozen=True)
class RemoteMask:
    """An automatic mask as it travels back: COCO RLE (a fraction of the HxW bool's bytes)."""

    rle: Rle
    predicted_iou: float
    stability_score: float


class PipelineActor:
    """Holds the configured segmenter (built on first use) and embedders; one per GPU or CPU."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # No memory tier: a state is used once here; the disk tier is the one shared with the
        # server, whose clicks read it.
        self.cache = EmbeddingCache(0, settings.cache_dir / "embeddings")
        self._segmenter: Segmenter | None = None
        self._embedders: dict[str, Embedder] = {}

    def ready(self, load_segmenter: bool) -> int:
        """Load what the job needs up front (a bad configuration fails the job at once);
        returns the actor's pid."""
        if load_segmenter:
            self.segmenter()
        return os.getpid()

    def segment(self, tasks: Sequence[ImageTask], params: dict[str, Any]) -> list[Outcome]:
        """Automatic masks (list of RemoteMask) per image, with SamAutomaticMaskGenerator params."""
        images = _decode_all(tasks, self.settings.max_image_pixels)
        states = self._prepare_all(tasks, images)
        return [
            _outcome(task.key, partial(self._auto, states[task.key], images[task.key], params))
            for task in tasks
        ]

    def embed(self, tasks: Sequence[ImageTask], embedder_name: str) -> list[Outcome]:
        """(segment ids int64 (N,), vectors float32 (N, dim)) per image, for task.segments."""
        embedder = self._embedder(embedder_name)
        images = _decode_all(tasks, self.settings.max_image_pixels)
        pooled = uses_sam_features(embedder)
        states = self._prepare_all(tasks, images) if pooled else {}

        def vectors(task: ImageTask) -> tuple[np.ndarray, np.ndarray]:
            masks = [decode_rle(rle) for _, rle in task.segments]
            ids = np.array([segment_id for segment_id, _ in task.segments], np.int64)
            state = _value(states[task.key]) if pooled else None
            return ids, embed_masks(embedder, masks, lambda: _value(images[task.key]), state)

        return [_outcome(task.key, partial(vectors, task)) for task in tasks]

    def segmenter(self) -> Segmenter:
        if self._segmenter is None:
            self._segmenter = segmenter_factory(self.settings, choose(self.settings))()
        return self._segmenter

    def _auto(self, state: object, image: object, params: dict[str, Any]) -> list[RemoteMask]:
        masks = self.segmenter().auto(_value(state), _value(image), params)
        return [RemoteMask(encode_rle(m.mask), m.predicted_iou, m.stability_score) for m in masks]

    def _embedder(self, name: str) -> Embedder:
        if name not in self._embedders:
            self._embedders[name] = build_embedder(
                name, weights_path=self.settings.embedder_weights, sam_prepare=self._prepare_one
            )
        return self._embedders[name]

    def _prepare_one(self, image: np.ndarray) -> PreparedImage:
        return self.segmenter().prepare([image])[0]

    def _prepare_all(
        self, tasks: Sequence[ImageTask], images: dict[str, object]
    ) -> dict[str, object]:
        """key -> PreparedImage (from the shared cache, else encoded in one batch) or the error."""
        states: dict[str, object] = {}
        missing = []
        for task in tasks:
            image = images[task.key]
            if isinstance(image, Exception):
                states[task.key] = image
            elif (cached := self.cache.get(self._key(task))) is not None:
                states[task.key] = cached
            else:
                missing.append(task)
        for task, state in zip(missing, self._encode(missing, images), strict=True):
            states[task.key] = state
            if isinstance(state, PreparedImage):
                self.cache.put_disk(self._key(task), state)
        return states

    def _encode(self, tasks: list[ImageTask], images: dict[str, object]) -> list[object]:
        """One encoder batch; when it fails, one image at a time so a bad one fails alone."""
        if not tasks:
            return []
        batch = [_value(images[task.key]) for task in tasks]
        try:
            return list(self.segmenter().prepare(batch))
        except Exception as exc:  # noqa: BLE001 - retried per image below
            if len(tasks) == 1:
                return [exc]
        return [self._encode([task], images)[0] for task in tasks]

    def _key(self, task: ImageTask) -> tuple[str, str]:
        return (self.segmenter().model_id, task.sha256)


def _decode_all(tasks: Sequence[ImageTask], max_pixels: int) -> dict[str, object]:
    """key -> canonical HxWx3 uint8 pixels, or the decoding error."""
    images: dict[str, object] = {}
    for task in tasks:
        try:
            images[task.key] = as_array(canonical_frame(task.data, max_pixels=max_pixels)[0])
        except Exception as exc:  # noqa: BLE001 - recorded as this image's error
            images[task.key] = exc
    return images


def _value(value: Any) -> Any:
    """The value, or raise it when an earlier step stored its error in its place."""
    if isinstance(value, BaseException):
        raise value
    return value


def _outcome(key: str, compute: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(key, compute())
    except Exception as exc:  # noqa: BLE001 - one image fails alone, like the in-process loop
        return Outcome(key, error=f"{type(exc).__name__}: {exc}")
