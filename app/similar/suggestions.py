"""Suggestions: predicted labels stored beside the segments, listed for review, accepted into
real labels through assign_labels (versioned and audited like any other label write)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from app.models import Segment, SegmentSource, Suggestion
from app.services.assign import assign_labels

Order = Literal["confident", "uncertain"]
# SQLite allows 32766 bound variables per statement; stay well below.
_CHUNK = 10_000


@dataclass(frozen=True)
class Accepted:
    count: int  # segments that got their suggested label
    batch_ids: list[int] = field(default_factory=list)  # one audit batch per label


def replace_suggestions(
    *,
    session: Session,
    project_id: int,
    kind: str,
    segment_ids: np.ndarray,
    label_ids: np.ndarray,
    confidence: np.ndarray,
) -> int:
    """Drop the project's suggestions of this kind and store (N,) new ones; returns N."""
    session.execute(
        delete(Suggestion).where(Suggestion.project_id == project_id, Suggestion.kind == kind)
    )
    rows = [
        {"project_id": project_id, "segment_id": s, "kind": kind, "label_id": lab, "confidence": c}
        for s, lab, c in zip(
            segment_ids.tolist(), label_ids.tolist(), confidence.tolist(), strict=True
        )
    ]
    if rows:
        session.execute(insert(Suggestion), rows)
    return len(rows)


def list_suggestions(
    *,
    session: Session,
    project_id: int,
    limit: int,
    offset: int = 0,
    min_confidence: float = 0.0,
    order: Order = "confident",
) -> tuple[list[Suggestion], int]:
    """(one page of suggestions, total matching). `uncertain` puts the least confident, i.e.
    the most informative to review, first."""
    # A segment labelled since the prediction needs no review: hide its suggestion.
    where = (
        Suggestion.project_id == project_id,
        Suggestion.confidence >= min_confidence,
        Segment.label_class_id.is_(None),
    )
    unlabelled = Segment.id == Suggestion.segment_id
    count = select(func.count()).select_from(Suggestion).join(Segment, unlabelled)
    total = session.scalar(count.where(*where)) or 0
    by = Suggestion.confidence.desc() if order == "confident" else Suggestion.confidence.asc()
    query = select(Suggestion).join(Segment, unlabelled).where(*where).order_by(by, Suggestion.id)
    return list(session.scalars(query.limit(limit).offset(offset))), total


def accept_suggestions(
    *,
    session: Session,
    project_id: int,
    segment_ids: Sequence[int] | None = None,
    min_confidence: float | None = None,
    user_id: int | None = None,
    username: str = "local",
) -> Accepted:
    """Give the listed segments (or every one suggested at >= min_confidence) their suggested
    label with source=propagated, and drop the accepted suggestions. Segments that got a label
    since the prediction are skipped (their suggestion is dropped too). When a segment has
    several suggestions, the most confident wins."""
    where = [Suggestion.project_id == project_id]
    if segment_ids is not None:
        where.append(Suggestion.segment_id.in_(list(segment_ids)))
    if min_confidence is not None:
        where.append(Suggestion.confidence >= min_confidence)
    rows = session.execute(
        select(Suggestion.segment_id, Suggestion.label_id)
        .join(Segment, Segment.id == Suggestion.segment_id)
        .where(*where, Segment.label_class_id.is_(None))
        .order_by(Suggestion.confidence)
    ).all()
    chosen = {row.segment_id: row.label_id for row in rows}  # the most confident wins
    unlabelled = sorted(chosen)
    by_label: dict[int, list[int]] = defaultdict(list)
    for segment_id in unlabelled:
        by_label[chosen[segment_id]].append(segment_id)
    batches = [
        assign_labels(
            session=session,
            project_id=project_id,
            segment_ids=ids,
            label_id=label_id,
            user_id=user_id,
            username=username,
        ).batch_id
        for label_id, ids in sorted(by_label.items())
    ]
    for start in range(0, len(unlabelled), _CHUNK):
        chunk = unlabelled[start : start + _CHUNK]
        session.execute(
            update(Segment).where(Segment.id.in_(chunk)).values(source=SegmentSource.propagated)
        )
    session.execute(delete(Suggestion).where(*where))
    return Accepted(count=len(unlabelled), batch_ids=batches)
