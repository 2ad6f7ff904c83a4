"""The segment job: automatic masks for every image, stored as auto segments.

Each image is one job item: its new masks replace its unlabelled auto segments in the same
transaction that records the item, so a resumed or re-run job never leaves two sets.
Labelled and manual segments are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from pycocotools import mask as coco_mask
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.context import AppContext
from app.inference.base import AutoMask
from app.jobs.runner import JobContext
from app.masks import decode_rle, encode_rle, mask_xywh
from app.models import Image, Segment, SegmentSource
from app.pipeline.params import SegmentParams
from app.pipeline.worker import image_loader

# A part is inside a whole when this share of its pixels lies in it.
CONTAINMENT = 0.9
# A new auto mask this close to an existing labelled auto segment is the same object.
DUPLICATE_IOU = 0.9


def run_segment_job(job: JobContext, ctx: AppContext) -> None:
    params = SegmentParams.model_validate(job.params)
    images = project_images(ctx, job.project_id, params.image_ids)
    if ctx.settings.ray_address:
        from app.distributed.jobs import segment_on_ray  # Ray is imported only when configured

        segment_on_ray(job, ctx, images, params.generator_args())
        return
    worker = ctx.require_model()

    def segment(image: Image) -> Callable[[Session], None]:
        # A cancel stops SAM between point batches (AutoStopped); for_each sees the stop.
        masks = worker.auto_blocking(
            image.sha256, image_loader(ctx, image), params.generator_args(), stop=job.should_stop
        )
        return partial(_store_masks, image=image, masks=masks)

    job.for_each(images, image_key, segment)


def image_key(image: Image) -> str:
    """The job item key of one image, shared by every per-image job."""
    return f"image:{image.id}"


def _store_masks(session: Session, *, image: Image, masks: list[AutoMask]) -> None:
    replace_auto_segments(session, image=image, masks=masks, created_by=None)


def project_images(ctx: AppContext, project_id: int, only: list[int] | None) -> list[Image]:
    with ctx.db.read() as session:
        query = select(Image).where(Image.project_id == project_id).order_by(Image.id)
        if only is not None:
            query = query.where(Image.id.in_(only))
        return list(session.scalars(query))


def replace_auto_segments(
    session: Session, *, image: Image, masks: list[AutoMask], created_by: int | None
) -> list[int]:
    """Delete the image's unlabelled auto segments and insert `masks` (minus duplicates of
    labelled ones), with containment parents. Returns the new segment ids."""
    session.execute(
        delete(Segment).where(
            Segment.image_id == image.id,
            Segment.source == SegmentSource.auto,
            Segment.label_class_id.is_(None),
        )
    )
    kept = _kept_auto_masks(session, image.id)
    fresh = [m for m in masks if m.mask.any() and not _duplicates(m.mask, kept)]
    fresh.sort(key=lambda m: -int(m.mask.sum()))  # wholes before parts
    rles = [encode_rle(m.mask) for m in fresh]
    rows = [_segment_row(image, m, rle, created_by) for m, rle in zip(fresh, rles, strict=True)]
    session.add_all(rows)
    session.flush()
    for child, parent in containment_parents(rles).items():
        rows[child].parent_id = rows[parent].id
    return [row.id for row in rows]


def containment_parents(rles: list[dict]) -> dict[int, int]:
    """For masks sorted by area (largest first): child index -> index of the smallest larger
    mask holding >= CONTAINMENT of the child's pixels."""
    if len(rles) < 2:
        return {}
    coco = [{"size": r["size"], "counts": r["counts"].encode()} for r in rles]
    areas = coco_mask.area(coco)
    # With the "crowd" flag on the second argument, pycocotools divides the intersection by
    # the first argument's area: exactly "share of the child inside the parent".
    share = coco_mask.iou(coco, coco, [1] * len(coco))
    parents = {}
    for child in range(1, len(rles)):
        larger = [
            p for p in range(child) if areas[p] > areas[child] and share[child, p] >= CONTAINMENT
        ]
        if larger:
            parents[child] = min(larger, key=lambda p: areas[p])
    return parents


def _kept_auto_masks(session: Session, image_id: int) -> list[np.ndarray]:
    query = select(Segment).where(
        Segment.image_id == image_id, Segment.source == SegmentSource.auto
    )
    return [decode_rle(segment.rle) for segment in session.scalars(query)]


def _duplicates(mask: np.ndarray, kept: list[np.ndarray]) -> bool:
    for other in kept:
        union = np.logical_or(mask, other).sum()
        if union and np.logical_and(mask, other).sum() / union >= DUPLICATE_IOU:
            return True
    return False


def _segment_row(image: Image, mask: AutoMask, rle: dict, created_by: int | None) -> Segment:
    x, y, w, h = mask_xywh(mask.mask)
    return Segment(
        project_id=image.project_id,
        image_id=image.id,
        rle_counts=rle["counts"],
        height=rle["size"][0],
        width=rle["size"][1],
        bbox_x=x,
        bbox_y=y,
        bbox_w=w,
        bbox_h=h,
        area=int(mask.mask.sum()),
        source=SegmentSource.auto,
        score=mask.predicted_iou,
        predicted_iou=mask.predicted_iou,
        stability_score=mask.stability_score,
        created_by=created_by,
    )
