"""Batch label assignment: all or nothing, version-checked, audited, in one write transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from app.columns import find_sorted, int_columns
from app.errors import Conflict, Invalid, NotFound
from app.history.audit import Actor, record_label_batch
from app.history.block import Changes
from app.idset import id_in
from app.models import Segment
from app.services.labels import get_label


@dataclass(frozen=True)
class Assignment:
    count: int
    batch_id: int  # the audit batch (undo it with the history API)
    versions: dict[int, int]  # segment id -> its new version


def _in_ids(ids: Sequence[int] | np.ndarray) -> ColumnElement[bool]:
    return id_in(Segment.id, ids)


def assign_labels(
    *,
    session: Session,
    project_id: int,
    segment_ids: Sequence[int],
    label_id: int | None,
    expected_versions: dict[int, int] | None = None,
    actor: Actor,
    seen_ids: Sequence[int] = (),
) -> Assignment:
    """Set `label_id` (None clears) on every segment and log it as one audit batch.

    `seen_ids` (a subset of segment_ids) are the ones the person saw in a thumbnail: their
    label is confirmed; every other one is not (a lasso's unseen tail, a bulk accept).

    Every id must belong to the project (else NotFound, nothing written). When
    `expected_versions` is given, a segment changed since the client read it makes the whole
    batch fail with Conflict, naming the changed segments and their current state.
    """
    wanted = _sorted_unique(segment_ids)
    if not len(wanted):
        raise Invalid("segment_ids must not be empty")
    if label_id is not None:
        get_label(session, project_id, label_id)
    segments = _in_ids(wanted)  # one encoding of the ids for every statement below
    current = _current(session, project_id, segments)
    if len(current) != len(wanted):
        missing = np.setdiff1d(wanted, current[:, 0])
        raise NotFound(
            f"{len(missing)} segment(s) not found in project {project_id}",
            detail={"missing": missing[:100].tolist()},
        )
    if expected_versions:
        check_versions(
            current,
            np.fromiter(expected_versions.keys(), np.int64, len(expected_versions)),
            np.fromiter(expected_versions.values(), np.int64, len(expected_versions)),
            why="changed since you loaded them; reload and try again",
        )
    batch_id = _log_assign(session, project_id, actor, current, label_id)
    _write_where(session, segments, label_id, actor.user_id)
    if label_id is not None and len(seen_ids):
        confirm_labels(session, np.intersect1d(_sorted_unique(seen_ids), wanted).tolist())
    versions = dict(zip(wanted.tolist(), (current[:, 1] + 1).tolist(), strict=True))
    return Assignment(len(wanted), batch_id, versions)


def _log_assign(
    session: Session, project_id: int, actor: Actor, current: np.ndarray, label_id: int | None
) -> int:
    """The audit batch of giving every row of `current` ((R, 3) from _current) the label."""
    changes = Changes(
        current[:, 0], current[:, 2], np.full(len(current), label_id or 0), current[:, 1] + 1
    )
    return record_label_batch(
        session, project_id=project_id, actor=actor, kind="assign", changes=changes
    )


def _sorted_unique(ids: Sequence[int]) -> np.ndarray:
    """(K,) int64 ascending without repeats (a sort: np.unique hashes, ~3x slower on 1M)."""
    ordered = np.sort(np.asarray(ids, np.int64))
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def delete_label(session: Session, project_id: int, label_id: int, *, actor: Actor) -> int:
    """Delete a class. Its segments are first unlabelled through the audited, versioned path
    (not left to the foreign key), so the change is in the history and live stream. Set-based:
    the segments are locked (ids as one numpy column) and audited and updated in SQL.
    Returns how many segments lost the label."""
    label = get_label(session, project_id, label_id)
    labelled = Segment.label_class_id == label_id
    locked = _current(session, project_id, labelled)
    if len(locked):
        _log_assign(session, project_id, actor, locked, None)
        _write_where(session, labelled & (Segment.project_id == project_id), None, actor.user_id)
    session.delete(label)
    session.flush()
    return len(locked)


def write_labels(
    session: Session,
    ids: Sequence[int] | np.ndarray,
    label_id: int | None,
    user_id: int | None,
    *,
    unconfirm: bool = True,
) -> None:
    """Set the label and bump the version of every id (no checks: callers check first);
    `unconfirm` False leaves the confirmed flags as they are (an undo)."""
    _write_where(session, _in_ids(ids), label_id, user_id, unconfirm=unconfirm)


def _write_where(
    session: Session,
    segments: ColumnElement[bool],
    label_id: int | None,
    user_id: int | None,
    *,
    unconfirm: bool = True,
) -> None:
    session.execute(
        update(Segment)
        .where(segments)
        .values(
            label_class_id=label_id,
            version=Segment.version + 1,
            updated_at=datetime.now(UTC),
            updated_by=user_id,
            **({"confirmed": False} if unconfirm else {}),
        )
        .execution_options(synchronize_session=False)
    )


def confirm_labels(session: Session, ids: Sequence[int]) -> None:
    """Mark the labels of these segments as seen by a person (unlabelled ones stay as they
    are). Not a label change: no version bump, no audit row."""
    session.execute(
        update(Segment)
        .where(_in_ids(ids), Segment.label_class_id.is_not(None))
        .values(confirmed=True)
        .execution_options(synchronize_session=False)
    )


def current_rows(session: Session, project_id: int, ids: Sequence[int] | np.ndarray) -> np.ndarray:
    """(R, 3) int64 (segment id, version, label id or 0) of the ids that exist in the project,
    by id, row-locked (see _current)."""
    return _current(session, project_id, _in_ids(ids))


def current_versions(
    session: Session, project_id: int, ids: Sequence[int]
) -> dict[int, tuple[int, int | None]]:
    """Segment id -> (version, label id) for the ids that exist in the project (see _current)."""
    return {
        sid: (version, label or None)
        for sid, version, label in _current(session, project_id, _in_ids(ids)).tolist()
    }


def _current(session: Session, project_id: int, segments: ColumnElement[bool]) -> np.ndarray:
    """(R, 3) int64 rows (segment id, version, label id or 0) of the segments matching
    `segments` (an id set) that exist in the project, by id, row-locked until the transaction ends (in id order, so two batches never
    deadlock) where the database has row locks: a racing writer then sees the versions this
    one writes. Read as numpy columns: this runs over every id of a 1M-segment batch."""
    query = (
        select(Segment.id, Segment.version, func.coalesce(Segment.label_class_id, 0))
        .where(Segment.project_id == project_id, segments)
        .order_by(Segment.id)
        .with_for_update()
    )
    return int_columns(session, query, 3)


def check_versions(
    current: np.ndarray,
    ids: np.ndarray,
    expected: np.ndarray,
    *,
    why: str,
    absent_is_stale: bool = False,
) -> None:
    """Conflict (`stale_version`, naming the first 100) unless each of `ids` (K,) has its
    `expected` (K,) version in `current` ((R, 3) from current_rows, by id). An id absent from
    `current` (deleted) is stale when absent_is_stale, else ignored. why: "changed since ..."."""
    at, found = find_sorted(current[:, 0], ids)
    stale = ~found if absent_is_stale else np.zeros(len(ids), bool)
    stale[found] = current[at[found], 1] != expected[found]
    if not stale.any():
        return
    changed = []
    for i in np.flatnonzero(stale)[:100].tolist():
        _, version, label = current[at[i]].tolist() if found[i] else (None, None, None)
        changed.append(
            {
                "segment_id": int(ids[i]),
                "expected_version": int(expected[i]),
                "version": version,
                "label_id": label or None,
            }
        )
    raise Conflict(
        f"{int(stale.sum())} segment(s) {why}",
        code="stale_version",
        detail={"changed": changed, "changed_count": int(stale.sum())},
    )
