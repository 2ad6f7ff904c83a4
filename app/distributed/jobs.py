"""The segment and embed jobs on Ray: actors compute, this process writes the same job items.

Every result comes back to the server, which records it through JobContext.complete_item
exactly as the in-process loop does: progress, cancel (checked after every batch; the actors
are killed) and resume after a restart (finished items are never sent again) are unchanged.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.context import AppContext
from app.distributed.actor import ImageTask, Outcome, RemoteMask
from app.distributed.cluster import RayCluster
from app.distributed.pool import BatchResult, RayPool
from app.embeddings.base import Embedder
from app.embeddings.combined import uses_sam_features
from app.embeddings.store import VectorStore
from app.inference.base import AutoMask
from app.jobs.runner import JobContext
from app.masks import decode_rle
from app.models import Image, Segment
from app.pipeline.segment import image_key, replace_auto_segments

Write = Callable[[Session], object] | None


def segment_on_ray(
    job: JobContext, ctx: AppContext, images: Sequence[Image], params: dict[str, Any]
) -> None:
    """The segment job's per-image work (automatic masks with `params`) on Ray actors."""

    def write(image: Image, masks: list[RemoteMask]) -> Write:
        auto = [AutoMask(decode_rle(m.rle), m.predicted_iou, m.stability_score) for m in masks]
        return partial(replace_auto_segments, image=image, masks=auto, created_by=None)

    run_on_ray(
        job, ctx, images, task=partial(image_task, ctx), method="segment", args=(params,),
        write=write, load_segmenter=True,
    )  # fmt: skip


def embed_on_ray(
    job: JobContext,
    ctx: AppContext,
    images: Sequence[Image],
    embedder: Embedder,
    store: VectorStore,
    todo: Callable[[Image], list[Segment]],
) -> None:
    """The embed job's per-image work on Ray actors; `todo(image)` lists the segments still
    without a vector. Vectors are appended here, in the server's one store."""

    def task(image: Image) -> ImageTask | None:
        segments = tuple((s.id, s.rle) for s in todo(image))
        return replace(image_task(ctx, image), segments=segments) if segments else None

    def write(image: Image, value: tuple[np.ndarray, np.ndarray]) -> Write:
        store.append(*value)
        return None

    run_on_ray(
        job, ctx, images, task=task, method="embed", args=(embedder.name,), write=write,
        load_segmenter=uses_sam_features(embedder),
    )  # fmt: skip


def image_task(ctx: AppContext, image: Image) -> ImageTask:
    """The image's original bytes, read here: actors need no access to the image folder."""
    data = ctx.files.resolve(image.stored_path).read_bytes()
    return ImageTask(image_key(image), image.sha256, data)


def run_on_ray(
    job: JobContext,
    ctx: AppContext,
    images: Sequence[Image],
    *,
    task: Callable[[Image], ImageTask | None],
    method: str,
    args: tuple,
    write: Callable[[Image, Any], Write],
    load_segmenter: bool,
) -> None:
    """Send every unfinished image (task(image); None: nothing to compute) to the actors'
    `method` in batches, and record each result as its job item with write(image, value)."""
    job.set_total(len(images))
    todo = {
        image_key(image): image for image in images if image_key(image) not in job.finished_keys
    }
    if not todo:
        return
    cluster = connect(ctx)
    count, resources, settings = cluster.actor_plan(ctx.settings)
    size = ctx.settings.ray_batch_size
    count = min(count, math.ceil(len(todo) / size))
    name = f"job-{job.job_id}-{uuid.uuid4().hex[:8]}"
    with RayPool(settings, name=name, count=count, resources=resources) as pool:
        if pool.wait_ready(load_segmenter=load_segmenter, stop=job.should_stop):
            batches = _batches(job, list(todo.values()), task, size)
            for batch, result in pool.map(batches, method, args, stop=job.should_stop):
                job.check()
                for outcome in _outcomes(batch, result):
                    _record(job, outcome, partial(write, todo[outcome.key]))
    job.check()


def connect(ctx: AppContext) -> RayCluster:
    """The app's Ray connection (AppContext.ray, made here once, closed by stop_services)."""
    assert ctx.settings.ray_address is not None
    if ctx.ray is None:  # job threads start one at a time: no race on the first connect
        ctx.ray = RayCluster(ctx.settings.ray_address)
    ctx.ray.connect()
    return ctx.ray


def _batches(
    job: JobContext, images: list[Image], task: Callable[[Image], ImageTask | None], size: int
) -> Iterator[list[ImageTask]]:
    """Tasks in batches of `size`, built as the actors need them; an image that cannot be read
    is recorded as a failed item, one with nothing to compute as a finished one."""
    batch: list[ImageTask] = []
    for image in images:
        try:
            ready = task(image)
        except Exception as exc:  # noqa: BLE001 - recorded as this image's error
            job.complete_item(image_key(image), error=f"{type(exc).__name__}: {exc}")
            continue
        if ready is None:
            job.complete_item(image_key(image))
            continue
        batch.append(ready)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _outcomes(batch: list[ImageTask], result: BatchResult) -> list[Outcome]:
    if isinstance(result, str):  # the batch failed as a whole (its actor died past retries)
        return [Outcome(task.key, error=result) for task in batch]
    return result


def _record(job: JobContext, outcome: Outcome, write: Callable[[Any], Write]) -> None:
    if outcome.error is not None:
        job.complete_item(outcome.key, error=outcome.error)
    else:
        job.complete_item(outcome.key, write(outcome.value))
