"""The audit log: one batch row per change plus what it changed (one compact block for a label
change of any size, one row per segment for a mask change), in the change's own transaction
(so the log and the labels can never disagree, even across a crash)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from app.columns import int_columns
from app.history.block import Changes, decode, encode
from app.models import AuditBatch, AuditBlock, AuditChange

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
    """Write one batch and its changes (inside the caller's write transaction); returns its id.
    Label-only changes are stored as one block (see record_label_batch)."""
    if not any(change.mask_undo is not None for change in changes):
        return record_label_batch(
            session,
            project_id=project_id,
            actor=actor,
            kind=kind,
            changes=_columns(sorted(changes, key=lambda change: change.segment_id)),
            undo_of=undo_of,
        )
    batch_id = _open_batch(session, project_id, actor, kind, len(changes), undo_of, True)
    # Plain executemany: the ORM's bulk insert costs ~10 us per row.
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO {AuditChange.__tablename__} "
        "(batch_id, segment_id, old_label_id, new_label_id, new_version, mask_undo) "
        f"VALUES ({', '.join([mark] * 6)})",
        [(batch_id, *change) for change in changes],
    )
    return batch_id


def record_label_batch(
    session: Session,
    *,
    project_id: int,
    actor: Actor,
    kind: str,
    changes: Changes,
    undo_of: int | None = None,
) -> int:
    """One batch of label changes (`changes` by segment id ascending), logged as one compact
    row whatever its size. Returns the batch id."""
    batch_id = _open_batch(session, project_id, actor, kind, len(changes), undo_of)
    session.execute(insert(AuditBlock).values(batch_id=batch_id, changes=encode(changes)))
    return batch_id


def _columns(changes: Sequence[Change]) -> Changes:
    def column(values: Iterable[int | None]) -> np.ndarray:
        return np.fromiter((value or 0 for value in values), np.int64, len(changes))

    return Changes(
        column(c.segment_id for c in changes),
        column(c.old_label_id for c in changes),
        column(c.new_label_id for c in changes),
        column(c.new_version for c in changes),
    )


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
    block = _block(session, batch_id)
    if block is not None:
        return [Change(*row) for row in block.rows()]
    query = select(
        AuditChange.segment_id,
        AuditChange.old_label_id,
        AuditChange.new_label_id,
        AuditChange.new_version,
        *([AuditChange.mask_undo] if masks else []),
    ).where(AuditChange.batch_id == batch_id)
    rows = session.execute(query.order_by(AuditChange.segment_id))
    return [Change(*row[:4], mask_undo=row[4] if masks else None) for row in rows]


def change_page(session: Session, batch_id: int, *, after: int, limit: int) -> list[Change]:
    """Up to `limit` of the batch's changes to segments with id > `after`, by segment id: a
    keyset page. Only the page becomes Python objects (a block is decoded as columns)."""
    block = _block(session, batch_id)
    if block is not None:
        return [Change(*row) for row in block.page(after, limit).rows()]
    query = select(
        AuditChange.segment_id,
        AuditChange.old_label_id,
        AuditChange.new_label_id,
        AuditChange.new_version,
    ).where(AuditChange.batch_id == batch_id, AuditChange.segment_id > after)
    rows = session.execute(query.order_by(AuditChange.segment_id).limit(limit))
    return [Change(*row) for row in rows]


def batch_columns(session: Session, batch_id: int) -> Changes:
    """The batch's label changes as columns, by segment id (for batches of any size)."""
    block = _block(session, batch_id)
    if block is not None:
        return block
    query = (
        select(
            AuditChange.segment_id,
            func.coalesce(AuditChange.old_label_id, 0),
            func.coalesce(AuditChange.new_label_id, 0),
            AuditChange.new_version,
        )
        .where(AuditChange.batch_id == batch_id)
        .order_by(AuditChange.segment_id)
    )
    return Changes(*int_columns(session, query, 4).T)


def batch_block(session: Session, batch_id: int) -> bytes:
    """The batch's label changes in the block format (app/history/block.py): as stored for a
    block batch, encoded from its rows otherwise."""
    data = _stored_block(session, batch_id)
    return data if data is not None else encode(batch_columns(session, batch_id))


def _block(session: Session, batch_id: int) -> Changes | None:
    data = _stored_block(session, batch_id)
    return None if data is None else decode(data)


def _stored_block(session: Session, batch_id: int) -> bytes | None:
    return session.scalar(select(AuditBlock.changes).where(AuditBlock.batch_id == batch_id))


def changes_after(
    session: Session, project_id: int, batch_id: int, segment_ids: Sequence[int]
) -> list[tuple[int, int, int]]:
    """(batch id, segment id, new version) of every change to these segments logged after
    `batch_id`, in log order."""
    wanted = np.asarray(sorted(segment_ids), np.int64)
    rows = session.execute(
        select(AuditChange.batch_id, AuditChange.segment_id, AuditChange.new_version).where(
            AuditChange.batch_id > batch_id, AuditChange.segment_id.in_(wanted.tolist())
        )
    ).all()
    later = [(b, sid, version) for b, sid, version in rows]
    for later_id, changes in _blocks(session, project_id, after=batch_id):
        hit = np.isin(changes.segment_ids, wanted)
        later += [
            (later_id, sid, version)
            for sid, version in zip(
                changes.segment_ids[hit].tolist(), changes.new_versions[hit].tolist(), strict=True
            )
        ]
    return sorted(later)


def _blocks(
    session: Session, project_id: int, *, after: int = 0, upto: int | None = None
) -> Iterator[tuple[int, Changes]]:
    """(batch id, changes) of the project's blocks after `after` (up to `upto`), oldest first."""
    query = (
        select(AuditBlock.batch_id, AuditBlock.changes)
        .join(AuditBatch, AuditBatch.id == AuditBlock.batch_id)
        .where(AuditBatch.project_id == project_id, AuditBlock.batch_id > after)
        .order_by(AuditBlock.batch_id)
    )
    if upto is not None:
        query = query.where(AuditBlock.batch_id <= upto)
    for batch_id, data in session.execute(query):
        yield batch_id, decode(data)


def changes_between(session: Session, project_id: int, after: int, upto: int) -> np.ndarray:
    """(R, 3) int64 [segment id, new label (0 none), new version] of every change the
    project's batches after `after` up to `upto` logged, oldest batch first."""
    batches = (AuditBatch.project_id == project_id) & AuditBatch.id.between(after + 1, upto)
    rows = select(
        AuditChange.batch_id,
        AuditChange.segment_id,
        func.coalesce(AuditChange.new_label_id, 0),
        AuditChange.new_version,
    ).join(AuditBatch, AuditBatch.id == AuditChange.batch_id)
    parts = [int_columns(session, rows.where(batches), 4)]
    for batch_id, changes in _blocks(session, project_id, after=after, upto=upto):
        batch = np.full(len(changes), batch_id)
        parts.append(
            np.column_stack([batch, changes.segment_ids, changes.new_labels, changes.new_versions])
        )
    logged = np.concatenate(parts)
    return logged[np.argsort(logged[:, 0], kind="stable"), 1:]


def replay(session: Session, project_id: int) -> dict[int, tuple[int | None, int]]:
    """Segment id -> (label, version) after applying every logged change in order.

    Segments the log never touched are absent. Equal to the live labels when nothing bypassed
    the log (the property the concurrency and crash tests check).
    """
    query = (
        select(
            AuditChange.batch_id,
            AuditChange.segment_id,
            AuditChange.new_label_id,
            AuditChange.new_version,
        )
        .join(AuditBatch, AuditBatch.id == AuditChange.batch_id)
        .where(AuditBatch.project_id == project_id)
    )
    logged = [(b, sid, label, version) for b, sid, label, version in session.execute(query)]
    for batch_id, changes in _blocks(session, project_id):
        logged += [(batch_id, sid, new, version) for sid, _, new, version in changes.rows()]
    logged.sort(key=lambda change: (change[0], change[1]))
    return {sid: (label, version) for _, sid, label, version in logged}
