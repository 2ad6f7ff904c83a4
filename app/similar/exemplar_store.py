"""Storing exemplar proposals: one image's masks become segments plus exemplar suggestions.

A proposal that overlaps an existing segment of the image (IoU >= SAME_OBJECT_IOU) is that
segment: the suggestion is attached to it (or dropped when it is labelled already). Otherwise
a new unlabelled segment is created, so it gets a thumbnail, a vector and a map position like
any automatic mask. A re-run replaces the label's previous suggestions in the image and
deletes the proposal segments nobody suggests anything for any more.
"""

from __future__ import annotations

import numpy as np
from pycocotools import mask as coco_mask
from sqlalchemy import ColumnElement, and_, delete, exists, select
from sqlalchemy.orm import Session

from app.masks import encode_rle
from app.models import Image, Segment, SegmentSource, Suggestion
from app.services.segments import create_segment
from app.similar.exemplar import Proposal

KIND = "exemplar"
# Looser than the segment job's duplicate test (0.9): a proposal is reviewed, not stored as a
# label, so a near-copy of a segment the user already sees should be that segment.
SAME_OBJECT_IOU = 0.8
PROPOSAL_SOURCE = SegmentSource.exemplar


def is_proposal() -> ColumnElement[bool]:
    """Segments created by the exemplar job and not labelled since."""
    return and_(
        Segment.source == PROPOSAL_SOURCE,
        Segment.label_class_id.is_(None),
    )


def store_proposals(
    session: Session, *, image: Image, label_id: int, proposals: list[Proposal]
) -> int:
    """Replace the image's exemplar suggestions for label_id by `proposals` (best first
    wins a segment); returns how many suggestions were stored."""
    _drop_suggestions(session, image.id, label_id)
    segments = list(session.scalars(select(Segment).where(Segment.image_id == image.id)))
    stored = 0
    for proposal in sorted(proposals, key=lambda p: -p.score):
        rle = encode_rle(proposal.mask)
        at, overlap = _best_overlap(rle, [s.rle for s in segments])
        if overlap >= SAME_OBJECT_IOU:
            segment = segments[at]
            if segment.label_class_id is not None:
                continue  # already labelled: nothing to suggest
        else:
            segment = _new_segment(session, image, rle, proposal)
            segments.append(segment)
        stored += _suggest(session, segment, label_id, proposal.score)
    session.flush()
    _drop_orphans(session, image.id)
    return stored


def _new_segment(session: Session, image: Image, rle: dict, proposal: Proposal) -> Segment:
    segment = create_segment(
        session=session, image=image, rle=rle, source=PROPOSAL_SOURCE, score=proposal.score
    )
    segment.predicted_iou = proposal.predicted_iou
    return segment


def _suggest(session: Session, segment: Segment, label_id: int, confidence: float) -> int:
    """Add the suggestion; a segment holds one per kind, so against another label's exemplar
    suggestion the more confident one stays. Returns 1 if stored."""
    held = session.scalar(
        select(Suggestion).where(Suggestion.segment_id == segment.id, Suggestion.kind == KIND)
    )
    if held is None:
        session.add(
            Suggestion(
                project_id=segment.project_id,
                segment_id=segment.id,
                kind=KIND,
                label_id=label_id,
                confidence=confidence,
            )
        )
        return 1
    if held.confidence >= confidence:
        return 0
    held.label_id, held.confidence = label_id, confidence
    return 1


def _drop_suggestions(session: Session, image_id: int, label_id: int) -> None:
    in_image = select(Segment.id).where(Segment.image_id == image_id)
    session.execute(
        delete(Suggestion).where(
            Suggestion.kind == KIND,
            Suggestion.label_id == label_id,
            Suggestion.segment_id.in_(in_image),
        )
    )


def _drop_orphans(session: Session, image_id: int) -> None:
    suggested = exists().where(Suggestion.segment_id == Segment.id)
    session.execute(delete(Segment).where(Segment.image_id == image_id, is_proposal(), ~suggested))


def _best_overlap(rle: dict, others: list[dict]) -> tuple[int, float]:
    """(index, IoU) of the other RLE (same size, compact string counts) overlapping most;
    (-1, 0.0) when there are none."""
    if not others:
        return -1, 0.0
    as_coco = [{"size": r["size"], "counts": r["counts"].encode()} for r in [rle, *others]]
    iou = np.asarray(coco_mask.iou(as_coco[:1], as_coco[1:], [0] * len(others)))[0]
    at = int(np.argmax(iou))
    return at, float(iou[at])
