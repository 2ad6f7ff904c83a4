"""Undo one audit batch: by its author or an admin, and only if nothing changed since."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.history.audit import Change, batch_changes, record_batch
from app.models import AuditBatch, LabelClass
from app.services.assign import current_versions, write_labels

# Undo restores labels; it does not bring back, remove or repaint masks.
NOT_UNDOABLE = {
    "create": "a new segment is not undone from the history: delete the segment instead",
    "delete": "a deleted segment cannot be restored from the history",
    "edit": "a mask edit is undone in the annotator (Ctrl+Z), not from the history",
}


def get_batch(session: Session, project_id: int, batch_id: int) -> AuditBatch:
    batch = session.get(AuditBatch, batch_id)
    if batch is None or batch.project_id != project_id:
        raise NotFound(f"batch {batch_id} not found")
    return batch


def undo_batch(session: Session, *, project_id: int, batch_id: int, principal: Principal) -> int:
    """Restore every segment of the batch to its previous label, as a new "undo" batch.

    Refuses (Conflict `stale_version`) when any of those segments changed since the batch,
    and (Conflict `already_undone`) a batch undone before. Returns the new batch id.
    """
    batch = get_batch(session, project_id, batch_id)
    if not principal.is_admin and batch.user_id != principal.user_id:
        raise Forbidden("only the author of a change or an administrator can undo it")
    if batch.undone_by is not None:
        raise Conflict(f"batch {batch_id} was already undone", code="already_undone")
    if batch.kind in NOT_UNDOABLE:
        raise Invalid(NOT_UNDOABLE[batch.kind], code="not_undoable")
    changes = batch_changes(session, batch_id)
    _check_unchanged(session, project_id, changes)
    _check_labels_exist(session, {c.old_label_id for c in changes} - {None})
    by_label: defaultdict[int | None, list[int]] = defaultdict(list)
    for change in changes:
        by_label[change.old_label_id].append(change.segment_id)
    for label_id, ids in by_label.items():
        write_labels(session, ids, label_id, principal.user_id)
    undo_id = record_batch(
        session,
        project_id=project_id,
        actor=principal.actor,
        kind="undo",
        undo_of=batch_id,
        changes=[
            Change(c.segment_id, c.new_label_id, c.old_label_id, c.new_version + 1) for c in changes
        ],
    )
    batch.undone_by = undo_id
    return undo_id


def _check_unchanged(session: Session, project_id: int, changes: list[Change]) -> None:
    current = current_versions(session, project_id, [c.segment_id for c in changes])
    changed = [
        {
            "segment_id": c.segment_id,
            "expected_version": c.new_version,
            "version": current[c.segment_id][0] if c.segment_id in current else None,
            "label_id": current[c.segment_id][1] if c.segment_id in current else None,
        }
        for c in changes
        if current.get(c.segment_id, (None, None))[0] != c.new_version
    ]
    if changed:
        raise Conflict(
            f"{len(changed)} segment(s) changed since this batch; undo refused",
            code="stale_version",
            detail={"changed": changed[:100], "changed_count": len(changed)},
        )


def _check_labels_exist(session: Session, label_ids: set[int | None]) -> None:
    found = set(session.scalars(select(LabelClass.id).where(LabelClass.id.in_(label_ids))))
    if found != label_ids:
        raise Conflict(
            "a label this batch replaced has since been deleted; undo refused",
            code="label_deleted",
            detail={"missing_labels": sorted(i for i in label_ids - found if i is not None)},
        )
