"""Suggestions: predicted labels stored beside the segments, listed for review, accepted into
real labels through assign_labels (versioned and audited like any other label write), or
rejected. A rejection deletes the row: the next run of its kind recomputes every suggestion
of that kind from scratch (replace_suggestions), so nothing needs to remember it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
from sqlalchemy import Table, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from app.columns import number_columns
from app.history.audit import Actor, record_label_batch
from app.history.block import Changes
from app.idset import id_in
from app.models import Segment, SegmentSource, Suggestion, utcnow
from app.services.assign import current_rows, write_labels
from app.similar.exemplar_store import is_proposal

Order = Literal["confident", "uncertain"]
# SQLite allows 32766 bound variables per statement; stay well below.
_CHUNK = 10_000


@dataclass(frozen=True)
class Accepted:
    count: int  # segments that got their suggested label
    batch_ids: list[int] = field(default_factory=list)  # one audit batch per label


@dataclass(frozen=True)
class Rejected:
    dismissed: int  # suggestion rows deleted
    deleted_segments: list[int] = field(default_factory=list)  # exemplar proposals dropped


@dataclass(frozen=True)
class Listed:
    segment_id: int
    image_id: int
    label_id: int
    confidence: float
    kind: str


def replace_suggestions(
    *,
    session: Session,
    project_id: int,
    kind: str,
    segment_ids: np.ndarray,
    label_ids: np.ndarray,
    confidence: np.ndarray,
) -> int:
    """Drop the project's suggestions of this kind and store (N,) new ones; returns N.
    Core inserts _CHUNK rows at a time: a million ORM rows at once took gigabytes."""
    session.execute(
        delete(Suggestion).where(Suggestion.project_id == project_id, Suggestion.kind == kind)
    )
    table, now = cast(Table, Suggestion.__table__), utcnow()
    for start in range(0, len(segment_ids), _CHUNK):
        rows = slice(start, start + _CHUNK)
        columns = (segment_ids[rows].tolist(), label_ids[rows].tolist(), confidence[rows].tolist())
        session.execute(
            insert(table),
            [
                {
                    "project_id": project_id,
                    "segment_id": s,
                    "kind": kind,
                    "label_id": lab,
                    "confidence": c,
                    "created_at": now,
                }
                for s, lab, c in zip(*columns, strict=True)
            ],
        )
    return len(segment_ids)


def _pending(project_id: int, kind: str | None) -> list[Any]:
    """Suggestions of the project (of one kind) whose segment is still unlabelled: a segment
    labelled since the prediction needs no review, so its suggestion is hidden."""
    where = [Suggestion.project_id == project_id, Segment.label_class_id.is_(None)]
    if kind is not None:
        where.append(Suggestion.kind == kind)
    return where


def list_suggestions(
    *,
    session: Session,
    project_id: int,
    limit: int,
    offset: int = 0,
    min_confidence: float = 0.0,
    order: Order = "confident",
    kind: str | None = None,
) -> tuple[list[Listed], int, int]:
    """(one page of suggestions, total matching, distinct segments among them). `uncertain`
    puts the least confident, i.e. the most informative to review, first."""
    where = [*_pending(project_id, kind), Suggestion.confidence >= min_confidence]
    unlabelled = Segment.id == Suggestion.segment_id
    counts = select(func.count(), func.count(Suggestion.segment_id.distinct()))
    total, segments = session.execute(
        counts.select_from(Suggestion).join(Segment, unlabelled).where(*where)
    ).one()
    by = Suggestion.confidence.desc() if order == "confident" else Suggestion.confidence.asc()
    columns = (Suggestion.segment_id, Segment.image_id, Suggestion.label_id)
    query = (
        select(*columns, Suggestion.confidence, Suggestion.kind)
        .join(Segment, unlabelled)
        .where(*where)
        .order_by(by, Suggestion.id)
    )
    rows = session.execute(query.limit(limit).offset(offset))
    return [Listed(*row) for row in rows], total, segments


def best_suggestions(
    *, session: Session, project_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The most confident suggestion of every still-unlabelled segment (any kind), for the
    map: (segment ids (M,) int64 ascending, label ids (M,) int64, confidence (M,) float32)."""
    return _most_confident(session, _pending(project_id, None))


def _most_confident(
    session: Session, where: list[Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """best_suggestions' columns for the suggestions matching `where` (on Suggestion and
    the joined Segment), read as numpy columns, not rows."""
    rows = number_columns(
        session,
        select(Suggestion.segment_id, Suggestion.label_id, Suggestion.confidence)
        .join(Segment, Segment.id == Suggestion.segment_id)
        .where(*where)
        .order_by(Suggestion.segment_id, Suggestion.confidence),
        3,
        np.float64,  # exact for ids below 2**53
    )
    ids = rows[:, 0].astype(np.int64)
    # The last, most confident, row of each segment; none when there is no row at all.
    best = np.r_[ids[1:] != ids[:-1], True][: len(ids)]
    return ids[best], rows[best, 1].astype(np.int64), rows[best, 2].astype(np.float32)


def accept_suggestions(
    *,
    session: Session,
    project_id: int,
    segment_ids: Sequence[int] | None = None,
    min_confidence: float | None = None,
    kind: str | None = None,
    actor: Actor,
) -> Accepted:
    """Give the listed segments (or every one suggested at >= min_confidence; of one kind when
    given) their suggested label with source=propagated, and drop the accepted suggestions.
    Segments that got a label since the prediction are skipped (their suggestion is dropped
    too). When a segment has several suggestions, the most confident wins."""
    where = [Suggestion.project_id == project_id]
    if segment_ids is not None:
        where.append(id_in(Suggestion.segment_id, segment_ids))
    if min_confidence is not None:
        where.append(Suggestion.confidence >= min_confidence)
    if kind is not None:
        where.append(Suggestion.kind == kind)
    ids, labels, _ = _most_confident(session, [*where, Segment.label_class_id.is_(None)])
    batches = [_accept(session, project_id, ids, labels, actor)] if len(ids) else []
    if len(ids):
        session.execute(
            update(Segment)
            .where(id_in(Segment.id, ids))
            .values(source=SegmentSource.propagated)
            .execution_options(synchronize_session=False)
        )
    session.execute(delete(Suggestion).where(*where).execution_options(synchronize_session=False))
    return Accepted(count=len(ids), batch_ids=batches)


def _accept(
    session: Session, project_id: int, ids: np.ndarray, labels: np.ndarray, actor: Actor
) -> int:
    """Give each segment of ids (K,) ascending its label of labels (K,) as ONE audit batch of
    kind "accept", so a whole "accept all >= t" is undone in one step. Returns the batch id."""
    current = current_rows(session, project_id, ids)
    at = np.searchsorted(current[:, 0], ids)
    changes = Changes(ids, current[at, 2], labels.astype(np.int64), current[at, 1] + 1)
    batch_id = record_label_batch(
        session, project_id=project_id, actor=actor, kind="accept", changes=changes
    )
    for label_id in np.unique(labels).tolist():
        write_labels(session, ids[labels == label_id], label_id, actor.user_id)
    return batch_id


def reject_suggestions(
    *, session: Session, project_id: int, segment_ids: Sequence[int], kind: str | None = None
) -> Rejected:
    """Delete the listed segments' suggestions (of one kind when given). An exemplar proposal
    left unlabelled and without any suggestion is deleted too: it exists only as a proposal
    (the exemplar job's own re-run drops such segments the same way). Segment deletes are not
    label changes, so, like DELETE /api/segments/{id}, they are not audited."""
    dismissed = 0
    doomed: list[int] = []
    for chunk in _chunks(sorted(set(segment_ids))):
        where = [Suggestion.project_id == project_id, Suggestion.segment_id.in_(chunk)]
        if kind is not None:
            where.append(Suggestion.kind == kind)
        dismissed += session.execute(delete(Suggestion).where(*where)).rowcount  # type: ignore[attr-defined]
        # The project is checked outside SQL, which then looks the ids up by primary key
        # (see find_similar: otherwise SQLite walks the project's index for every chunk).
        doomed += [
            row.id
            for row in session.execute(
                select(Segment.id, Segment.project_id).where(
                    Segment.id.in_(chunk),
                    is_proposal(),
                    ~exists().where(Suggestion.segment_id == Segment.id),
                )
            )
            if row.project_id == project_id
        ]
    for chunk in _chunks(doomed):
        session.execute(delete(Segment).where(Segment.id.in_(chunk)))
    return Rejected(dismissed=dismissed, deleted_segments=doomed)


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[start : start + _CHUNK] for start in range(0, len(ids), _CHUNK)]
