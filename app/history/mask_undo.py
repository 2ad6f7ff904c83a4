"""What undoing a mask change needs, kept in its audit row (`audit_changes.mask_undo`, JSON)
by the write path, and undoing it.

Three kinds: `mask` (the mask before an edit, merge or split), `remove` (the change created the
segment) and `restore` (it deleted the segment: its columns). Undoing applies the inverse and
logs the inverse's own undo data, so an undo can be undone in turn."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.errors import Conflict
from app.history.audit import Actor, Change
from app.models import Image, Segment, SegmentSource

MASK_COLUMNS = ("rle_counts", "height", "width", "bbox_x", "bbox_y", "bbox_w", "bbox_h", "area")
ROW_COLUMNS = (*MASK_COLUMNS, "image_id", "score", "predicted_iou", "stability_score", "confirmed")


def before_edit(segment: Segment) -> str:
    """Call before the segment's mask changes."""
    return json.dumps({"op": "mask", **_columns(segment, MASK_COLUMNS)})


def created() -> str:
    return json.dumps({"op": "remove"})


def before_delete(segment: Segment) -> str:
    """Call before the segment is deleted: enough to put it back under the same id."""
    row = _columns(segment, ROW_COLUMNS)
    return json.dumps(
        {"op": "restore", "source": segment.source.value, "parent_id": segment.parent_id, **row}
    )


def expects_segment(change: Change) -> bool:
    """Whether the segment exists right after this change (not after a deletion)."""
    return _op(change) != "restore"


def undo_change(session: Session, project_id: int, change: Change, actor: Actor) -> Change:
    """Apply the inverse of one logged change (its segment checked unchanged by the caller);
    returns the undo batch's row for it. A label-only change gets its old label back."""
    data = json.loads(change.mask_undo) if change.mask_undo else {"op": "label"}
    if data["op"] == "restore":
        return _restore(session, project_id, change, data, actor)
    segment = session.get(Segment, change.segment_id, with_for_update=True)
    assert segment is not None  # checked unchanged
    if data["op"] == "remove":
        snapshot = before_delete(segment)
        session.delete(segment)
        return Change(segment.id, segment.label_class_id, None, segment.version + 1, snapshot)
    inverse = before_edit(segment) if data["op"] == "mask" else None
    for column in MASK_COLUMNS if data["op"] == "mask" else ():
        setattr(segment, column, data[column])
    segment.label_class_id = change.old_label_id
    _bump(segment, actor)
    return Change(segment.id, change.new_label_id, change.old_label_id, segment.version, inverse)


def _restore(
    session: Session, project_id: int, change: Change, data: dict[str, Any], actor: Actor
) -> Change:
    """Put a deleted segment back under its id (without the embedding, map position or
    suggestions its deletion dropped: the next jobs give it new ones)."""
    if session.get(Image, data["image_id"]) is None:
        raise Conflict("the segment's image has been deleted; undo refused", code="image_deleted")
    parent: int | None = data["parent_id"]
    if parent is not None and session.get(Segment, parent) is None:
        parent = None  # its whole is gone too
    segment = Segment(
        id=change.segment_id,
        project_id=project_id,
        source=SegmentSource(data["source"]),
        parent_id=parent,
        label_class_id=change.old_label_id,
        version=change.new_version + 1,
    )
    for column in ROW_COLUMNS:
        setattr(segment, column, data[column])
    _bump(segment, actor, version=False)
    session.add(segment)
    session.flush()
    return Change(segment.id, None, change.old_label_id, segment.version, created())


def _op(change: Change) -> str:
    return json.loads(change.mask_undo)["op"] if change.mask_undo else "label"


def _columns(segment: Segment, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(segment, name) for name in names}


def _bump(segment: Segment, actor: Actor, *, version: bool = True) -> None:
    if version:
        segment.version += 1
    segment.updated_by = actor.user_id
    segment.updated_at = datetime.now(UTC)
