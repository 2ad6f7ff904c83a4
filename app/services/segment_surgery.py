"""Merging two segments into one and splitting one along a drawn line: versioned (a stale
version is a Conflict), written with their audit batch in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.history import mask_undo
from app.history.audit import Actor, Change, record_batch
from app.masks import decode_rle, encode_rle
from app.models import Image, Segment, SegmentSource
from app.services.segments import check_version, get_segment, set_mask

CUT_PX = 2  # the split line's thickness in image pixels: thin, but never leaks diagonally


def _mask(segment: Segment) -> np.ndarray:
    """(H, W) bool in canonical image pixels."""
    size = [segment.height, segment.width]
    return decode_rle({"size": size, "counts": segment.rle_counts}).astype(bool)


def _image(session: Session, segment: Segment) -> Image:
    image = session.get(Image, segment.image_id)
    assert image is not None  # segments cascade with their image
    return image


def _bump(segment: Segment, actor: Actor) -> None:
    segment.version += 1
    segment.updated_by = actor.user_id


def merge_segments(
    *,
    session: Session,
    keep_id: int,
    other_id: int,
    versions: dict[int, int] | None,
    actor: Actor,
) -> Segment:
    """Add `other`'s pixels to `keep` and delete `other` (same image only); one "merge" batch.
    `versions`: {segment id: the version the client saw} for either or both."""
    # Row locks in id order, so two merges of the same pair never deadlock.
    locked = {i: get_segment(session, i, lock=True) for i in sorted({keep_id, other_id})}
    keep, other = locked[keep_id], locked[other_id]
    if keep.id == other.id or keep.image_id != other.image_id:
        raise Invalid("merge needs two different segments of the same image")
    for segment in (keep, other):
        check_version(segment, (versions or {}).get(segment.id))
    kept, gone = mask_undo.before_edit(keep), mask_undo.before_delete(other)
    set_mask(keep, _image(session, keep), encode_rle(_mask(keep) | _mask(other)))
    _bump(keep, actor)
    changes = [
        Change(keep.id, keep.label_class_id, keep.label_class_id, keep.version, kept),
        Change(other.id, other.label_class_id, None, other.version + 1, gone),
    ]
    _record(session, keep.project_id, actor, "merge", changes)
    session.delete(other)
    session.flush()
    return keep


def split_segment(
    *,
    session: Session,
    segment_id: int,
    line: Sequence[tuple[float, float]],
    version: int | None,
    actor: Actor,
) -> list[Segment]:
    """Cut a segment along `line` (a polyline of (X, Y) canonical pixels): the largest piece
    stays in the segment, every other piece becomes one new segment with the same label.
    Invalid when the line does not cut it in two. Returns [the segment, the new one]."""
    segment = get_segment(session, segment_id, lock=True)
    check_version(segment, version)
    mask = _mask(segment)
    cut = np.zeros(mask.shape, np.uint8)
    points = np.round(np.asarray(line, np.float64)).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(cut, [points], isClosed=False, color=1, thickness=CUT_PX)
    count, pieces = cv2.connectedComponents(
        (mask & ~cut.astype(bool)).astype(np.uint8), connectivity=4
    )
    if count < 3:  # background plus at least two pieces
        raise Invalid("the line does not cut this segment in two", code="no_split")
    sizes = np.bincount(pieces.ravel(), minlength=count)[1:]
    largest = int(np.argmax(sizes)) + 1
    image = _image(session, segment)
    before = mask_undo.before_edit(segment)
    set_mask(segment, image, encode_rle(pieces == largest))
    _bump(segment, actor)
    piece = Segment(
        project_id=segment.project_id,
        image_id=segment.image_id,
        source=SegmentSource.manual,
        label_class_id=segment.label_class_id,
        created_by=actor.user_id,
        updated_by=actor.user_id,
    )
    set_mask(piece, image, encode_rle((pieces > 0) & (pieces != largest)))
    session.add(piece)
    session.flush()
    label = segment.label_class_id
    changes = [
        Change(segment.id, label, label, segment.version, before),
        Change(piece.id, None, label, piece.version, mask_undo.created()),
    ]
    _record(session, segment.project_id, actor, "split", changes)
    return [segment, piece]


def _record(
    session: Session, project_id: int, actor: Actor, kind: str, changes: list[Change]
) -> None:
    record_batch(session, project_id=project_id, actor=actor, kind=kind, changes=changes)
