"""The embed job: one vector per segment, in the project's vector store.

Images are the items. Vectors are keyed by segment id, so re-running only fills the gaps,
and a resumed job skips finished images. Embedding runs on the inference worker's thread at
background priority when a worker is up, so clicks never wait for more than one image.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from sqlalchemy import select, update

from app.context import AppContext
from app.embeddings.base import AUTO_EMBEDDER, DEFAULT_EMBEDDER, Embedder
from app.embeddings.combined import embed_masks, uses_sam_features
from app.embeddings.sam_pool import SamPoolEmbedder
from app.inference.queue import Priority
from app.jobs.runner import JobContext
from app.masks import decode_rle
from app.models import Image, Project, Segment
from app.pipeline.params import EmbedParams
from app.pipeline.segment import image_key, project_images
from app.pipeline.worker import image_loader


def run_embed_job(job: JobContext, ctx: AppContext) -> None:
    params = EmbedParams.model_validate(job.params)
    name = params.embedder or _project_embedder(ctx, job.project_id)
    embedder = ctx.embedders.get(resolve_embedder(ctx, name))
    if embedder.name != _project_embedder(ctx, job.project_id):
        _set_project_embedder(ctx, job.project_id, embedder.name)
    store = ctx.vectors.get(job.project_id, embedder.name, embedder.dim)
    images = project_images(ctx, job.project_id, None)
    if ctx.settings.ray_address:
        from app.distributed.jobs import embed_on_ray  # Ray is imported only when configured

        todo = partial(_todo_segments, ctx, known=store.contains)
        embed_on_ray(job, ctx, images, embedder, store, todo)
        return

    def embed(image: Image) -> None:
        ids, vectors = _embed_image(ctx, embedder, image, store.contains)
        if len(ids):
            store.append(ids, vectors)

    job.for_each(images, image_key, embed)


def resolve_embedder(ctx: AppContext, name: str) -> str:
    """`name`, with "auto" made concrete: sam-pool when the worker serves SAM (its image
    embedding is already cached for the masks), else the timm default."""
    if name != AUTO_EMBEDDER:
        return name
    sam = ctx.inference.available and ctx.inference.segmenter_name == "sam"
    return SamPoolEmbedder.name if sam else DEFAULT_EMBEDDER


def _embed_image(
    ctx: AppContext, embedder: Embedder, image: Image, known
) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """(segment ids, vectors) for the image's segments that have no vector yet."""
    todo = _todo_segments(ctx, image, known)
    if not todo:
        return np.zeros(0, np.int64), np.zeros((0, embedder.dim), np.float32)
    masks = [decode_rle(s.rle) for s in todo]
    load = image_loader(ctx, image)
    state = None
    if uses_sam_features(embedder):
        state = ctx.require_model().prepare_blocking(image.sha256, load, Priority.BACKGROUND)

    def compute() -> np.ndarray:
        return embed_masks(embedder, masks, load, state)

    # sam-pool alone is numpy over the cached state: no model run to queue on the worker.
    vectors = compute() if isinstance(embedder, SamPoolEmbedder) else _on_worker(ctx, compute)
    return np.array([s.id for s in todo], np.int64), vectors


def _todo_segments(ctx: AppContext, image: Image, known) -> list[Segment]:  # type: ignore[no-untyped-def]
    """The image's segments that have no vector yet; known(ids int64 (N,)) -> bool (N,)."""
    with ctx.db.read() as session:
        segments = list(
            session.scalars(
                select(Segment).where(Segment.image_id == image.id).order_by(Segment.id)
            )
        )
    ids = np.array([s.id for s in segments], np.int64)
    return [s for s, have in zip(segments, known(ids), strict=True) if not have] if len(ids) else []


def _on_worker(ctx: AppContext, fn):  # type: ignore[no-untyped-def]
    if not ctx.inference.available:
        return fn()
    return ctx.inference.submit_call(lambda _segmenter: fn(), Priority.BACKGROUND).result()


def _project_embedder(ctx: AppContext, project_id: int) -> str:
    with ctx.db.read() as session:
        return session.scalar(select(Project.embedder).where(Project.id == project_id)) or ""


def _set_project_embedder(ctx: AppContext, project_id: int, name: str) -> None:
    with ctx.db.write() as session:
        session.execute(update(Project).where(Project.id == project_id).values(embedder=name))
