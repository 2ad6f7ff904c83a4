"""Undo one audit batch: by its author or an admin, and only if nothing changed since."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.history.audit import (
    Change,
    batch_changes,
    batch_columns,
    changes_after,
    record_batch,
    record_label_batch,
)
from app.history.block import Changes
from app.history.mask_undo import expects_segment, undo_change
from app.models import AuditBatch, LabelClass, Segment
from app.services.assign import check_versions, current_rows, write_labels

# Mask batches logged before their audit rows kept masks (revision 0009) restore no masks.
_BEFORE = "recorded before the history kept masks:"
NOT_UNDOABLE = {
    "create": f"{_BEFORE} delete the segment instead",
    "delete": f"{_BEFORE} a deleted segment cannot be restored",
    "edit": f"{_BEFORE} undo the mask edit in the annotator (Ctrl+Z)",
    "merge": f"{_BEFORE} undo the merge in the annotator (Ctrl+Z)",
    "split": f"{_BEFORE} undo the split in the annotator (Ctrl+Z)",
}


def get_batch(session: Session, project_id: int, batch_id: int) -> AuditBatch:
    batch = session.get(AuditBatch, batch_id)
    if batch is None or batch.project_id != project_id:
        raise NotFound(f"batch {batch_id} not found")
    return batch


def undo_batch(session: Session, *, project_id: int, batch_id: int, principal: Principal) -> int:
    """Restore every segment of the batch to its previous label (and, for a mask batch, its
    previous mask, deleting what it created and restoring what it deleted), as a new "undo"
    batch.

    Refuses (Conflict `stale_version`) when any of those segments changed since the batch,
    and (Conflict `already_undone`) a batch undone before. Returns the new batch id.
    """
    batch = get_batch(session, project_id, batch_id)
    if not principal.is_admin and batch.user_id != principal.user_id:
        raise Forbidden("only the author of a change or an administrator can undo it")
    # PostgreSQL: two undos of one batch queue here; the second then sees it undone.
    session.refresh(batch, with_for_update=True)
    if batch.undone_by is not None:
        raise Conflict(f"batch {batch_id} was already undone", code="already_undone")
    if batch.masks_kept:
        batch.undone_by = _undo_masks(session, project_id, batch_id, principal)
        return batch.undone_by
    if batch.kind in NOT_UNDOABLE:
        raise Invalid(NOT_UNDOABLE[batch.kind], code="not_undoable")
    # As columns, so a 1M-segment batch never becomes Python objects.
    changes = batch_columns(session, batch_id)
    _check_unchanged(session, project_id, changes)
    _check_labels_exist(session, set(np.unique(changes.old_labels).tolist()) - {0})
    undo_id = record_label_batch(
        session,
        project_id=project_id,
        actor=principal.actor,
        kind="undo",
        changes=changes.inverse(),
        undo_of=batch_id,
    )
    for label in np.unique(changes.old_labels).tolist():
        ids = changes.segment_ids[changes.old_labels == label]
        write_labels(session, ids, label or None, principal.user_id, unconfirm=False)
    batch.undone_by = undo_id
    return undo_id


def _undo_masks(session: Session, project_id: int, batch_id: int, principal: Principal) -> int:
    """A mask batch's undo (a few segments: row by row): every segment checked unchanged (a
    deleted one still absent), then each change's inverse, logged as one "undo" batch."""
    changes = batch_changes(session, batch_id, masks=True)
    ids = sorted(change.segment_id for change in changes)
    # Row locks in id order, as every versioned writer takes them.
    rows = session.scalars(select(Segment).where(Segment.id.in_(ids)).with_for_update())
    current = {segment.id: segment.version for segment in rows}
    expected = _versions_since(session, project_id, batch_id, changes)
    changed = [
        {"segment_id": c.segment_id, "expected_version": expected.get(c.segment_id)}
        for c in changes
        if c.segment_id not in expected or current.get(c.segment_id) != expected[c.segment_id]
    ]
    if changed:
        raise Conflict(
            f"{len(changed)} segment(s) changed since this batch; undo refused",
            code="stale_version",
            detail={"changed": changed, "changed_count": len(changed)},
        )
    _check_labels_exist(session, {c.old_label_id for c in changes} - {None})
    inverse = [undo_change(session, project_id, c, principal.actor) for c in changes]
    return record_batch(
        session,
        project_id=project_id,
        actor=principal.actor,
        kind="undo",
        changes=inverse,
        undo_of=batch_id,
    )


def _versions_since(
    session: Session, project_id: int, batch_id: int, changes: list[Change]
) -> dict[int, int | None]:
    """Segment id -> the version it must have now for the batch to be undone (None: absent),
    for the segments that nothing changed since but steps undone since (a later batch and its
    undo cancel out, so undoing the last steps one by one works); the others are left out."""
    later = changes_after(session, project_id, batch_id, [c.segment_id for c in changes])
    links = {
        row.id: (row.undo_of, row.undone_by)
        for row in session.execute(
            select(AuditBatch.id, AuditBatch.undo_of, AuditBatch.undone_by).where(
                AuditBatch.id.in_({b for b, _, _ in later})
            )
        )
    }
    expected: dict[int, int | None] = {}
    for change in changes:
        mine = [(b, version) for b, sid, version in later if sid == change.segment_id]
        batches = {b for b, _ in mine}
        if all(links[b][0] in batches or links[b][1] in batches for b, _ in mine):
            last = mine[-1][1] if mine else change.new_version
            expected[change.segment_id] = last if expects_segment(change) else None
    return expected


def _check_unchanged(session: Session, project_id: int, changes: Changes) -> None:
    """Conflict unless every segment of the batch still has the version the batch gave it
    (a deleted segment counts as changed). Row-locks the segments (see current_rows)."""
    check_versions(
        current_rows(session, project_id, changes.segment_ids),
        changes.segment_ids,
        changes.new_versions,
        why="changed since this batch; undo refused",
        absent_is_stale=True,
    )


def _check_labels_exist(session: Session, label_ids: set[int | None]) -> None:
    found = set(session.scalars(select(LabelClass.id).where(LabelClass.id.in_(label_ids))))
    if found != label_ids:
        raise Conflict(
            "a label this batch replaced has since been deleted; undo refused",
            code="label_deleted",
            detail={"missing_labels": sorted(i for i in label_ids - found if i is not None)},
        )
