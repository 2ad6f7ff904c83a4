"""Batch label assignment: all or nothing, version-checked, audited, in one write transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.history.audit import Actor, record_assign_batch
from app.idset import id_in
from app.models import Segment
from app.services.labels import get_label


@dataclass(frozen=True)
class Assignment:
    count: int
    batch_id: int  # the audit batch (undo it with the history API)
    versions: dict[int, int]  # segment id -> its new version


def _in_ids(ids: Sequence[int]) -> ColumnElement[bool]:
    return id_in(Segment.id, ids)


def assign_labels(
    *,
    session: Session,
    project_id: int,
    segment_ids: Sequence[int],
    label_id: int | None,
    expected_versions: dict[int, int] | None = None,
    actor: Actor,
) -> Assignment:
    """Set `label_id` (None clears) on every segment and log it as one audit batch.

    Every id must belong to the project (else NotFound, nothing written). When
    `expected_versions` is given, a segment changed since the client read it makes the whole
    batch fail with Conflict, naming the changed segments and their current state.
    """
    ids = sorted(set(segment_ids))
    if not ids:
        raise Invalid("segment_ids must not be empty")
    if label_id is not None:
        get_label(session, project_id, label_id)
    current = current_versions(session, project_id, ids)
    if len(current) != len(ids):
        missing = [i for i in ids if i not in current]
        raise NotFound(
            f"{len(missing)} segment(s) not found in project {project_id}",
            detail={"missing": missing[:100]},
        )
    if expected_versions:
        _check_versions(current, expected_versions)
    batch_id = record_assign_batch(
        session,
        project_id=project_id,
        actor=actor,
        segments=_in_ids(ids),
        count=len(ids),
        new_label_id=label_id,
    )
    write_labels(session, ids, label_id, actor.user_id)
    return Assignment(len(ids), batch_id, {sid: current[sid][0] + 1 for sid in ids})


def delete_label(session: Session, project_id: int, label_id: int, *, actor: Actor) -> int:
    """Delete a class. Its segments are first unlabelled through the audited, versioned assign
    path (not left to the foreign key), so the change is in the history and live stream.
    Returns how many segments lost the label."""
    label = get_label(session, project_id, label_id)
    labelled = list(session.scalars(select(Segment.id).where(Segment.label_class_id == label_id)))
    if labelled:
        assign_labels(
            session=session,
            project_id=project_id,
            segment_ids=labelled,
            label_id=None,
            actor=actor,
        )
    session.delete(label)
    session.flush()
    return len(labelled)


def write_labels(
    session: Session, ids: Sequence[int], label_id: int | None, user_id: int | None
) -> None:
    """Set the label and bump the version of every id (no checks: callers check first)."""
    session.execute(
        update(Segment)
        .where(_in_ids(ids))
        .values(
            label_class_id=label_id,
            version=Segment.version + 1,
            updated_at=datetime.now(UTC),
            updated_by=user_id,
        )
        .execution_options(synchronize_session=False)
    )


def current_versions(
    session: Session, project_id: int, ids: Sequence[int]
) -> dict[int, tuple[int, int | None]]:
    """Segment id -> (version, label id) for the ids that exist in the project, row-locked
    until the transaction ends (in id order, so two batches never deadlock) where the
    database has row locks: a racing writer then sees the versions this one writes."""
    query = (
        select(Segment.id, Segment.version, Segment.label_class_id)
        .where(Segment.project_id == project_id, _in_ids(ids))
        .order_by(Segment.id)
        .with_for_update()
    )
    # Core execution (no ORM row loading): this runs over every id of a 100k-segment batch.
    rows = session.connection().execute(query).all()
    return {sid: (version, label) for sid, version, label in rows}


def _check_versions(current: dict[int, tuple[int, int | None]], expected: dict[int, int]) -> None:
    stale = [
        {
            "segment_id": sid,
            "expected_version": want,
            "version": current[sid][0],
            "label_id": current[sid][1],
        }
        for sid, want in expected.items()
        if sid in current and current[sid][0] != want
    ]
    if stale:
        raise Conflict(
            f"{len(stale)} segment(s) changed since you loaded them; reload and try again",
            code="stale_version",
            detail={"changed": stale[:100], "changed_count": len(stale)},
        )
