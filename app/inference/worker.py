"""InferenceWorker: one thread owns the segmenter; everyone else submits work to it.

Encodes are deduplicated per image and batched; clicks (decodes) jump the queue; cache lookups
and image loading happen on a small I/O pool so the model thread only runs the model. A long
automatic-mask job lets queued clicks and interactive encodes run between its point batches.
Callers in asyncio await `asyncio.wrap_future(...)`; each caller gets its own future, so a
client that disconnects cancels only its own wait, never a shared encode.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.inference.auto_run import auto_until
from app.inference.base import (
    AutoMask,
    ModelUnavailable,
    PredictedMask,
    PreparedImage,
    Prompt,
    Segmenter,
)
from app.inference.cache import CacheKey, EmbeddingCache
from app.inference.futures import done_future, follow, settle
from app.inference.queue import CallTask, EncodeTask, Priority, Task, TaskQueue

log = logging.getLogger(__name__)

ImageLoader = Callable[[], np.ndarray]  # returns the canonical HxWx3 uint8 RGB image


class WorkerCrashed(RuntimeError):
    """The worker thread failed outside any one request; it restarts with a fresh model."""


@dataclass
class WorkerStats:
    encoded: int = 0
    encode_batches: int = 0
    decoded: int = 0
    restarts: int = 0
    largest_batch: int = 0


@dataclass(frozen=True)
class Prediction:
    """masks best first; encode_ms: time to obtain the embedding (about 0 when cached)."""

    masks: list[PredictedMask]
    encode_ms: float
    decode_ms: float


@dataclass(eq=False)
class _Pending:
    future: Future
    priority: Priority
    task: EncodeTask | None = None


class InferenceWorker:
    """Owns one segmenter built by segmenter_factory on its own thread."""

    def __init__(
        self,
        segmenter_factory: Callable[[], Segmenter],
        cache: EmbeddingCache,
        *,
        max_batch: int = 4,
        io_threads: int = 2,
    ) -> None:
        self.stats = WorkerStats()
        self.cache = cache
        self.max_batch = max(1, max_batch)
        self._factory = segmenter_factory
        self._segmenter: Segmenter | None = None
        self._unavailable: str | None = None
        self._queue = TaskQueue()
        self._io = ThreadPoolExecutor(io_threads, thread_name_prefix="inference-io")
        self._lock = threading.Lock()
        self._pending: dict[CacheKey, _Pending] = {}
        self._ready = threading.Event()
        self._stopping = False
        self._running: list[Task] = []
        self._thread = self._new_thread()
        self.why = ""  # why this segmenter answers (build_inference sets it; /api/health shows it)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the thread and wait until the model is loaded (or known to be unavailable)."""
        self._thread.start()
        self._ready.wait()

    def switch(self, segmenter: Segmenter, rebuild: Callable[[], Segmenter]) -> None:
        """Serve with segmenter from now on (after the running task); rebuild makes it again
        after a crash. Embeddings are keyed by model id, so none of the old model's is used."""
        if self._stopping:
            return
        if self.available:
            swap = self.submit_call(lambda _old: self._install(segmenter, rebuild), Priority.DECODE)
            swap.result()
            return
        self._thread.join()  # no model: the thread ended after start; serve on a fresh one
        self._install(segmenter, rebuild)
        self._unavailable = None
        self._thread = self._new_thread()
        self._thread.start()

    def _install(self, segmenter: Segmenter, rebuild: Callable[[], Segmenter]) -> None:
        self._factory = rebuild
        self._segmenter = segmenter

    def _new_thread(self) -> threading.Thread:
        return threading.Thread(target=self._run, name="inference-worker", daemon=True)

    def stop(self) -> None:
        """Finish the running task, fail the queued ones, flush disk writes, end the thread."""
        self._stopping = True
        for task in self._queue.close():
            self._fail([task], ModelUnavailable("the inference worker is shutting down"))
        if self._thread.is_alive():
            self._thread.join()
        self._io.shutdown(wait=True)
        with self._lock:
            leftovers, self._pending = list(self._pending.values()), {}
        for pending in leftovers:
            settle(pending.future, error=ModelUnavailable("the inference worker stopped"))

    @property
    def available(self) -> bool:
        return self._segmenter is not None and self._unavailable is None

    @property
    def unavailable_reason(self) -> str:
        return self._unavailable or "the inference worker is not running"

    @property
    def model_id(self) -> str:
        self._require()
        assert self._segmenter is not None
        return self._segmenter.model_id

    @property
    def segmenter_name(self) -> str:
        self._require()
        assert self._segmenter is not None
        return self._segmenter.name

    def describe(self) -> dict[str, Any]:
        """For /api/health: which segmenter serves, or why none does."""
        if not self.available:
            return {"available": False, "reason": self.unavailable_reason, "why": self.why}
        decoder = getattr(getattr(self._segmenter, "decoder", None), "name", None)
        return {
            "available": True,
            "name": self.segmenter_name,
            "model_id": self.model_id,
            "decoder": decoder,
            "encoded": self.stats.encoded,
            "notice": getattr(self._segmenter, "notice", None),
            "why": self.why,
        }

    # -- public API ------------------------------------------------------------------------
    def submit_prepare(
        self, image_sha: str, load_image: ImageLoader, priority: Priority
    ) -> Future[PreparedImage]:
        """A future for the image's PreparedImage; the encoder runs at most once per image."""
        key = (self.model_id, image_sha)
        state = self.cache.get_memory(key)
        if state is not None:
            return done_future(state)
        with self._lock:
            pending = self._pending.get(key)
            if pending is None:
                pending = self._pending[key] = _Pending(Future(), priority)
                self._io.submit(self._load, key, load_image, pending)
            elif priority < pending.priority:
                pending.priority = priority
                if pending.task is not None:
                    self._queue.raise_priority(pending.task, priority)
        return follow(pending.future)

    async def prepare(
        self,
        image_sha: str,
        load_image: ImageLoader,
        priority: Priority = Priority.ENCODE_INTERACTIVE,
    ) -> PreparedImage:
        return await asyncio.wrap_future(self.submit_prepare(image_sha, load_image, priority))

    async def predict(self, image_sha: str, load_image: ImageLoader, prompt: Prompt) -> Prediction:
        """Masks for a click: encode if needed (interactive priority), then decode first in line."""
        started = time.perf_counter()
        state = await self.prepare(image_sha, load_image, Priority.ENCODE_INTERACTIVE)
        encoded = time.perf_counter()
        masks = await asyncio.wrap_future(
            self.submit_call(lambda s: s.predict(state, prompt), Priority.DECODE)
        )
        return Prediction(masks, (encoded - started) * 1000, (time.perf_counter() - encoded) * 1000)

    def prepare_blocking(
        self, image_sha: str, load_image: ImageLoader, priority: Priority = Priority.BACKGROUND
    ) -> PreparedImage:
        """For job threads: the PreparedImage, waiting as long as it takes."""
        return self.submit_prepare(image_sha, load_image, priority).result()

    def auto_blocking(
        self,
        image_sha: str,
        load_image: ImageLoader,
        params: dict[str, Any],
        priority: Priority = Priority.BACKGROUND,
        stop: Callable[[], bool] | None = None,
    ) -> list[AutoMask]:
        """For job threads: automatic masks of a whole image (encoding it if needed).
        `stop` is polled between point batches; when it says so, AutoStopped is raised."""
        state = self.prepare_blocking(image_sha, load_image, priority)
        image = load_image()
        return self.submit_call(
            lambda s: auto_until(
                s, state, image, params, between_batches=self._run_urgent, stop=stop
            ),
            priority,
        ).result()

    def prefetch(self, items: Iterable[tuple[str, ImageLoader]]) -> None:
        """Fire-and-forget encodes at PREFETCH priority, for (image sha256, loader) pairs."""
        if not self.available:
            return
        for image_sha, load_image in items:
            self.submit_prepare(image_sha, load_image, Priority.PREFETCH)

    def submit_call(self, fn: Callable[[Segmenter], Any], priority: Priority) -> Future:
        """Run fn(segmenter) on the worker thread; the future is the caller's to cancel."""
        self._require()
        future: Future = Future()
        self._queue.push(CallTask(fn, future, priority))
        return future

    # -- I/O pool --------------------------------------------------------------------------
    def _load(self, key: CacheKey, load_image: ImageLoader, pending: _Pending) -> None:
        try:
            state = self.cache.get(key)
            if state is not None:
                self._resolve(key, state=state)
                return
            image = load_image()
        except Exception as exc:  # noqa: BLE001 - the caller gets the loader's error
            self._resolve(key, error=exc)
            return
        with self._lock:
            pending.task = EncodeTask(key, image, pending.priority)
            self._queue.push(pending.task)

    def _resolve(
        self,
        key: CacheKey,
        *,
        state: PreparedImage | None = None,
        error: BaseException | None = None,
    ) -> None:
        with self._lock:
            pending = self._pending.pop(key, None)
        if pending is not None:
            settle(pending.future, state, error)

    # -- worker thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping:
            try:
                if self._segmenter is None:
                    self._segmenter = self._build()
                self._ready.set()
                if self._segmenter is None:
                    return
                self._serve()
            except BaseException as exc:  # noqa: BLE001 - a crash must not kill the worker
                log.exception("inference worker crashed; restarting with a fresh model")
                self.stats.restarts += 1
                self._fail(self._running, WorkerCrashed(f"the inference worker crashed: {exc!r}"))
                self._segmenter = None

    def _build(self) -> Segmenter | None:
        try:
            return self._factory()
        except ModelUnavailable as exc:
            self._unavailable = str(exc)
        except Exception as exc:  # noqa: BLE001 - any load failure becomes a 503 with the reason
            log.exception("could not load the segmentation model")
            self._unavailable = f"the segmentation model failed to load: {exc}"
        return None

    def _serve(self, most_urgent: Priority | None = None) -> None:
        """Run tasks until the queue closes (or, with most_urgent, until none that urgent)."""
        while batch := self._queue.pop_batch(self.max_batch, most_urgent=most_urgent):
            self._running = batch
            if isinstance(batch[0], CallTask):
                self._call(batch[0])
            else:
                self._encode([t for t in batch if isinstance(t, EncodeTask)])
            self._running = []

    def _run_urgent(self) -> None:
        outer = self._running
        self._serve(most_urgent=Priority.ENCODE_INTERACTIVE)
        self._running = outer

    def _call(self, task: CallTask) -> None:
        if not task.future.set_running_or_notify_cancel():
            return  # the caller went away before its turn
        try:
            result = task.fn(self._segmenter)
        except Exception as exc:  # noqa: BLE001 - one bad request fails only itself
            task.future.set_exception(exc)
            return
        if task.priority == Priority.DECODE:
            self.stats.decoded += 1
        task.future.set_result(result)

    def _encode(self, tasks: list[EncodeTask]) -> None:
        assert self._segmenter is not None
        try:
            states = self._segmenter.prepare([t.image for t in tasks])
        except Exception as exc:  # noqa: BLE001
            if len(tasks) == 1:
                self._fail(tasks, exc)
            else:  # retry one by one so one bad image (or an OOM batch) fails alone
                for task in tasks:
                    self._encode([task])
            return
        self.stats.encoded += len(tasks)
        self.stats.encode_batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(tasks))
        for task, state in zip(tasks, states, strict=True):
            self.cache.put_memory(task.key, state)
            self._io.submit(self.cache.put_disk, task.key, state)
            self._resolve(task.key, state=state)

    def _fail(self, tasks: Sequence[Task], error: BaseException) -> None:
        for task in tasks:
            if isinstance(task, CallTask):
                settle(task.future, error=error)
            else:
                self._resolve(task.key, error=error)

    def _require(self) -> None:
        if not self.available:
            raise ModelUnavailable(self.unavailable_reason)
