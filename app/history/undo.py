"""Undo one audit batch: by its author or an admin, and only if nothing changed since."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.history.audit import record_undo_batch
from app.models import AuditBatch, AuditChange, LabelClass, Segment

# Undo restores labels; it does not bring back, remove or repaint masks.
NOT_UNDOABLE = {
    "create": "a new segment is not undone from the history: delete the segment instead",
    "delete": "a deleted segment cannot be restored from the history",
    "edit": "a mask edit is undone in the annotator (Ctrl+Z), not from the history",
    "merge": "a merge is undone in the annotator (Ctrl+Z), not from the history",
    "split": "a split is undone in the annotator (Ctrl+Z), not from the history",
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
    count = session.scalar(select(func.count()).where(AuditChange.batch_id == batch_id)) or 0
    _check_unchanged(session, project_id, batch_id)
    replaced = select(AuditChange.old_label_id).where(AuditChange.batch_id == batch_id).distinct()
    _check_labels_exist(session, set(session.scalars(replaced)) - {None})
    # Set-based, so a 1M-segment batch never becomes Python objects: the audit rows first
    # (they read the batch's changes), then the labels from the same rows.
    undo_id = record_undo_batch(
        session,
        project_id=project_id,
        actor=principal.actor,
        undo_of=batch_id,
        count=count,
    )
    _restore_labels(session, batch_id, principal.user_id)
    batch.undone_by = undo_id
    return undo_id


def _restore_labels(session: Session, batch_id: int, user_id: int | None) -> None:
    """Every segment of the batch back to its old label, its version bumped once."""
    mine = AuditChange.batch_id == batch_id
    previous = (
        select(AuditChange.old_label_id)
        .where(mine, AuditChange.segment_id == Segment.id)
        .scalar_subquery()
    )
    session.execute(
        update(Segment)
        .where(Segment.id.in_(select(AuditChange.segment_id).where(mine)))
        .values(
            label_class_id=previous,
            version=Segment.version + 1,
            updated_at=datetime.now(UTC),
            updated_by=user_id,
        )
        .execution_options(synchronize_session=False)
    )


def _check_unchanged(session: Session, project_id: int, batch_id: int) -> None:
    """Conflict unless every segment of the batch still has the version the batch gave it
    (a deleted segment counts as changed)."""
    stale = (
        select(
            AuditChange.segment_id,
            AuditChange.new_version.label("expected_version"),
            Segment.version,
            Segment.label_class_id.label("label_id"),
        )
        .select_from(AuditChange)
        .outerjoin(
            Segment, and_(Segment.id == AuditChange.segment_id, Segment.project_id == project_id)
        )
        .where(
            AuditChange.batch_id == batch_id,
            or_(Segment.id.is_(None), Segment.version != AuditChange.new_version),
        )
    )
    changed_count = session.scalar(select(func.count()).select_from(stale.subquery())) or 0
    if changed_count:
        rows = session.execute(stale.order_by(AuditChange.segment_id).limit(100)).mappings()
        raise Conflict(
            f"{changed_count} segment(s) changed since this batch; undo refused",
            code="stale_version",
            detail={"changed": [dict(row) for row in rows], "changed_count": changed_count},
        )


def _check_labels_exist(session: Session, label_ids: set[int | None]) -> None:
    found = set(session.scalars(select(LabelClass.id).where(LabelClass.id.in_(label_ids))))
    if found != label_ids:
        raise Conflict(
            "a label this batch replaced has since been deleted; undo refused",
            code="label_deleted",
            detail={"missing_labels": sorted(i for i in label_ids - found if i is not None)},
        )
