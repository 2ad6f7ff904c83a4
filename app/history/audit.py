"""The audit log: one batch row per change plus one row per segment, in the change's own
transaction (so the log and the labels can never disagree, even across a crash)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import ColumnElement, insert, literal, select, text
from sqlalchemy.orm import Session

from app.models import AuditBatch, AuditChange, Segment

_LOG_LOCKS = 0xA0D17  # advisory-lock namespace of the per-project audit log order


@dataclass(frozen=True)
class Actor:
    """Who made a change, as the history records it: the account (None in single-user mode)
    and the name shown next to the batch."""

    user_id: int | None
    username: str


class Change(NamedTuple):
    segment_id: int
    old_label_id: int | None
    new_label_id: int | None
    new_version: int
    mask_undo: str | None = None  # JSON from app/history/mask_undo.py for a mask change


def record_batch(
    session: Session,
    *,
    project_id: int,
    actor: Actor,
    kind: str,
    changes: Sequence[Change],
    undo_of: int | None = None,
) -> int:
    """Write one batch and its changes (inside the caller's write transaction); returns its id."""
    masks_kept = any(change.mask_undo is not None for change in changes)
    batch_id = _open_batch(session, project_id, actor, kind, len(changes), undo_of, masks_kept)
    # Plain executemany: the ORM's bulk insert costs ~10 us per row, 1 s per 100k-segment assign.
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO {AuditChange.__tablename__} "
        "(batch_id, segment_id, old_label_id, new_label_id, new_version, mask_undo) "
        f"VALUES ({', '.join([mark] * 6)})",
        [(batch_id, *change) for change in changes],
    )
    return batch_id


def record_assign_batch(
    session: Session,
    *,
    project_id: int,
    actor: Actor,
    segments: ColumnElement[bool],
    count: int,
    new_label_id: int | None,
) -> int:
    """The audit batch of giving every segment matching `segments` (`count` of them) one new
    label, copied from the segments table in SQL: call it BEFORE the update writes the label
    and bumps the versions. Returns the batch id."""
    batch_id = _open_batch(session, project_id, actor, "assign", count, None)
    rows = select(
        literal(batch_id),
        Segment.id,
        Segment.label_class_id,
        literal(new_label_id),
        Segment.version + 1,
    ).where(segments)
    columns = ["batch_id", "segment_id", "old_label_id", "new_label_id", "new_version"]
    session.execute(insert(AuditChange).from_select(columns, rows))
    return batch_id


def record_undo_batch(
    session: Session,
    *,
    project_id: int,
    actor: Actor,
    undo_of: int,
    count: int,
) -> int:
    """The "undo" batch of `undo_of` (`count` changes): each change reversed, copied in SQL
    (one INSERT ... SELECT, no row in Python). Returns the new batch id."""
    batch_id = _open_batch(session, project_id, actor, "undo", count, undo_of)
    rows = select(
        literal(batch_id),
        AuditChange.segment_id,
        AuditChange.new_label_id,
        AuditChange.old_label_id,
        AuditChange.new_version + 1,
    ).where(AuditChange.batch_id == undo_of)
    columns = ["batch_id", "segment_id", "old_label_id", "new_label_id", "new_version"]
    session.execute(insert(AuditChange).from_select(columns, rows))
    return batch_id


def _open_batch(
    session: Session,
    project_id: int,
    actor: Actor,
    kind: str,
    count: int,
    undo_of: int | None,
    masks_kept: bool = False,
) -> int:
    _serialise_project_log(session, project_id)
    batch = AuditBatch(
        project_id=project_id,
        user_id=actor.user_id,
        username=actor.username,
        kind=kind,
        undo_of=undo_of,
        segment_count=count,
        masks_kept=masks_kept,
    )
    session.add(batch)
    session.flush()
    return batch.id


def _serialise_project_log(session: Session, project_id: int) -> None:
    """PostgreSQL: a project's batches commit in id order (held to the end of the write).

    Live streams and reconnecting clients read "batches after id N"; with concurrent writers
    a batch could otherwise commit after a higher id was already sent, and be skipped. The
    lock comes after the writer's row locks, as the last step before its changes. (SQLite has
    one writer at a time: ids commit in order anyway.)"""
    if session.get_bind().dialect.name == "postgresql":
        lock = text("SELECT pg_advisory_xact_lock(:namespace, :project)")
        session.execute(lock, {"namespace": _LOG_LOCKS, "project": project_id})


def list_batches(
    session: Session, project_id: int, *, before: int | None, limit: int
) -> list[AuditBatch]:
    """The project's batches newest first, only those with an id below `before` when given."""
    query = select(AuditBatch).where(AuditBatch.project_id == project_id)
    if before is not None:
        query = query.where(AuditBatch.id < before)
    return list(session.scalars(query.order_by(AuditBatch.id.desc()).limit(limit)))


def batch_changes(session: Session, batch_id: int, *, masks: bool = False) -> list[Change]:
    """The batch's changes by segment id; `masks` also reads what undoing their masks needs."""
    query = select(
        AuditChange.segment_id,
        AuditChange.old_label_id,
        AuditChange.new_label_id,
        AuditChange.new_version,
        *([AuditChange.mask_undo] if masks else []),
    ).where(AuditChange.batch_id == batch_id)
    rows = session.execute(query.order_by(AuditChange.segment_id))
    return [Change(*row[:4], mask_undo=row[4] if masks else None) for row in rows]


def replay(session: Session, project_id: int) -> dict[int, tuple[int | None, int]]:
    """Segment id -> (label, version) after applying every logged change in order.

    Segments the log never touched are absent. Equal to the live labels when nothing bypassed
    the log (the property the concurrency and crash tests check).
    """
    query = (
        select(AuditChange.segment_id, AuditChange.new_label_id, AuditChange.new_version)
        .join(AuditBatch, AuditBatch.id == AuditChange.batch_id)
        .where(AuditBatch.project_id == project_id)
        .order_by(AuditChange.batch_id)
    )
    return {sid: (label, version) for sid, label, version in session.execute(query)}
