"""Labelling effort of a project: simulated clicks per ground-truth object (NoC@85/90)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from sqlalchemy import select

from app.db import Database
from app.evaluation.noc import MAX_CLICKS, NocSummary, box_iou, click_ious, summarize
from app.evaluation.predictors import Predictor
from app.masks import decode_rle
from app.models import GroundTruthSegment


def ground_truth_objects(db: Database, project_id: int) -> Iterator[tuple[int, np.ndarray]]:
    """(image id, HxW bool mask) of every non-crowd ground-truth object, image by image."""
    with db.read() as session:
        query = select(GroundTruthSegment.id, GroundTruthSegment.image_id).where(
            GroundTruthSegment.project_id == project_id, GroundTruthSegment.iscrowd.is_(False)
        )
        rows = list(
            session.execute(query.order_by(GroundTruthSegment.image_id, GroundTruthSegment.id))
        )
    for gt_id, image_id in rows:
        with db.read() as session:
            segment = session.get(GroundTruthSegment, gt_id)
        if segment is not None:  # deleted meanwhile: skip it
            yield image_id, decode_rle(segment.rle)


def measure_effort(
    objects: Iterator[tuple[int, np.ndarray]],
    predictor_for: Callable[[int], Predictor],
    *,
    max_clicks: int = MAX_CLICKS,
    limit: int | None = None,
) -> NocSummary:
    """NoC and box mIoU over (image key, gt mask) pairs; one predictor per image key."""
    traces, boxes = [], []
    current: int | None = None
    predictor: Predictor | None = None
    for count, (key, gt) in enumerate(objects):
        if limit is not None and count >= limit:
            break
        if predictor is None or key != current:
            current, predictor = key, predictor_for(key)
        traces.append(click_ious(predictor, gt, max_clicks))
        boxes.append(box_iou(predictor, gt))
    return summarize(traces, boxes, max_clicks)
