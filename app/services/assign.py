"""Batch label assignment: all or nothing, version-checked, in one write transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.models import Segment
from app.services.labels import get_label

# SQLite allows 32766 bound variables per statement; stay well below.
_CHUNK = 10_000


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def assign_labels(
    *,
    session: Session,
    project_id: int,
    segment_ids: Sequence[int],
    label_id: int | None,
    expected_versions: dict[int, int] | None = None,
    user_id: int | None = None,
) -> int:
    """Set `label_id` (None clears) on every segment; returns how many were assigned.

    Every id must belong to the project (else NotFound, nothing written). When
    `expected_versions` is given, a segment changed since the client read it makes the whole
    batch fail with Conflict, naming the changed segments and their current state.
    """
    ids = sorted(set(segment_ids))
    if not ids:
        raise Invalid("segment_ids must not be empty")
    if label_id is not None:
        get_label(session, project_id, label_id)
    _check_all_in_project(session, project_id, ids)
    if expected_versions:
        checked = sorted(set(expected_versions) & set(ids))
        _check_versions(_current_versions(session, project_id, checked), expected_versions)
    now = datetime.now(UTC)
    for chunk in _chunks(ids):
        session.execute(
            update(Segment)
            .where(Segment.id.in_(chunk))
            .values(
                label_class_id=label_id,
                version=Segment.version + 1,
                updated_at=now,
                updated_by=user_id,
            )
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def _check_all_in_project(session: Session, project_id: int, ids: list[int]) -> None:
    """Counting is cheap; the missing ids are looked up only when the count is short."""
    in_project = select(Segment.id).where(Segment.project_id == project_id)
    found = sum(
        session.scalar(
            select(func.count()).select_from(in_project.where(Segment.id.in_(chunk)).subquery())
        )
        or 0
        for chunk in _chunks(ids)
    )
    if found != len(ids):
        present = _current_versions(session, project_id, ids)
        missing = [i for i in ids if i not in present]
        raise NotFound(
            f"{len(missing)} segment(s) not found in project {project_id}",
            detail={"missing": missing[:100]},
        )


def _current_versions(
    session: Session, project_id: int, ids: list[int]
) -> dict[int, tuple[int, int | None]]:
    found: dict[int, tuple[int, int | None]] = {}
    for chunk in _chunks(ids):
        query = select(Segment.id, Segment.version, Segment.label_class_id).where(
            Segment.project_id == project_id, Segment.id.in_(chunk)
        )
        found.update({sid: (version, label) for sid, version, label in session.execute(query)})
    return found


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
            detail={"changed": stale[:100]},
        )
