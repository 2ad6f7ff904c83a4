"""Segments of an image: create from an RLE (drawn, predicted or imported), list, edit, delete.

Masks are COCO RLE in the image's canonical frame; bbox (XYWH) and area are derived here,
never trusted from a client. Label changes go through assign_labels (versioned, audited).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.history import mask_undo
from app.history.audit import Actor, Change, record_batch
from app.masks import normalize_rle, rle_area, rle_bbox
from app.models import Image, Segment, SegmentSource
from app.services.assign import assign_labels
from app.services.labels import get_label
from app.services.segment_polygon import polygon_rle


def create_segment(
    *,
    session: Session,
    image: Image,
    rle: dict[str, Any],
    label_id: int | None = None,
    source: SegmentSource = SegmentSource.manual,
    score: float | None = None,
    actor: Actor | None = None,
) -> Segment:
    """A new segment of image; Invalid for a malformed RLE or one of another size.

    With an `actor` (a person's action, not a job or an import) the creation is an audit batch
    of kind "create", so history and other people's live views see it."""
    if label_id is not None:
        get_label(session, image.project_id, label_id)
    segment = Segment(project_id=image.project_id, image_id=image.id, source=source, score=score)
    set_mask(segment, image, rle)
    segment.label_class_id = label_id
    segment.created_by = segment.updated_by = actor.user_id if actor else None
    session.add(segment)
    session.flush()
    if actor is not None:
        change = Change(segment.id, None, label_id, segment.version, mask_undo.created())
        _log(session, image.project_id, actor, "create", change)
    return segment


def list_segments(*, session: Session, image_id: int) -> list[Segment]:
    query = select(Segment).where(Segment.image_id == image_id).order_by(Segment.id)
    return list(session.scalars(query))


def get_segment(session: Session, segment_id: int, *, lock: bool = False) -> Segment:
    """The segment or NotFound; `lock` row-locks it to the end of the write transaction
    (PostgreSQL), so a version check and the write after it cannot interleave with another."""
    segment = session.get(Segment, segment_id, with_for_update=lock)
    if segment is None:
        raise NotFound(f"segment {segment_id} not found")
    return segment


def update_segment(
    *,
    session: Session,
    segment_id: int,
    changes: dict[str, Any],
    expected_version: int | None = None,
    actor: Actor,
) -> Segment:
    """Apply changes ("label_id": id | None, and a new mask as "rle": RLE or "polygon": rings
    of (X, Y) pixel-edge points filled even-odd); Conflict if the version moved on.

    A new mask is an audit batch of kind "edit" (label unchanged), so history lists it and
    other people's annotators reload the mask live."""
    segment = get_segment(session, segment_id, lock=True)
    check_version(segment, expected_version)
    if changes.get("polygon") is not None:
        changes = {**changes, "rle": polygon_rle(changes["polygon"], segment.height, segment.width)}
    if "label_id" in changes:
        assign_labels(
            session=session,
            project_id=segment.project_id,
            segment_ids=[segment.id],
            label_id=changes["label_id"],
            actor=actor,
            seen_ids=[segment.id],  # one segment's label is set looking at it
        )
        session.refresh(segment)
    if changes.get("rle") is not None:
        image = session.get(Image, segment.image_id)
        assert image is not None  # segments cascade with their image
        before = mask_undo.before_edit(segment)
        set_mask(segment, image, changes["rle"])
        segment.version += 1
        segment.updated_at = datetime.now(UTC)
        segment.updated_by = actor.user_id
        label = segment.label_class_id
        change = Change(segment.id, label, label, segment.version, before)
        _log(session, segment.project_id, actor, "edit", change)
    session.flush()
    return segment


def delete_segment(
    *,
    session: Session,
    segment_id: int,
    expected_version: int | None = None,
    actor: Actor | None = None,
) -> None:
    """Delete a segment; with an `actor` logged as an audit batch of kind "delete"."""
    segment = get_segment(session, segment_id, lock=True)
    check_version(segment, expected_version)
    if actor is not None:
        before = mask_undo.before_delete(segment)
        change = Change(segment.id, segment.label_class_id, None, segment.version + 1, before)
        _log(session, segment.project_id, actor, "delete", change)
    session.delete(segment)


def _log(session: Session, project_id: int, actor: Actor, kind: str, change: Change) -> None:
    record_batch(session, project_id=project_id, actor=actor, kind=kind, changes=[change])


def set_mask(segment: Segment, image: Image, rle: dict[str, Any]) -> None:
    try:
        normal = normalize_rle(rle)
    except ValueError as exc:
        raise Invalid(f"invalid mask: {exc}") from None
    if normal["size"] != [image.height, image.width]:
        raise Invalid(
            f"mask size {normal['size']} does not match the image ({image.height}x{image.width}, HxW)"
        )
    segment.height, segment.width = normal["size"]
    segment.rle_counts = normal["counts"]
    segment.bbox_x, segment.bbox_y, segment.bbox_w, segment.bbox_h = rle_bbox(normal)
    segment.area = rle_area(normal)


def check_version(segment: Segment, expected: int | None) -> None:
    if expected is not None and expected != segment.version:
        raise Conflict(
            f"segment {segment.id} changed since you loaded it (version {segment.version}, "
            f"you sent {expected}); reload and try again",
            code="stale_version",
            detail={"segment_id": segment.id, "version": segment.version},
        )
