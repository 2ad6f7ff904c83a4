"""find_similar: a segment's nearest live segments, with their label and image."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.models import Segment
from app.similar.index import SimilarityIndexes

# Vectors of deleted segments linger in the store until re-embedding: over-fetch to fill k.
OVERFETCH = 2


@dataclass(frozen=True)
class SimilarSegment:
    segment_id: int
    image_id: int
    label_id: int | None
    distance: float  # cosine distance, 0 = same direction


def find_similar(
    *,
    session: Session,
    indexes: SimilarityIndexes,
    segment: Segment,
    k: int,
    embedder: str,
) -> list[SimilarSegment]:
    """Up to k segments of the same project nearest to segment (cosine), nearest first.

    Conflict `not_embedded` when the segment has no vector for the embedder: run the embed
    job first.
    """
    index = indexes.get(segment.project_id, embedder)
    found = index.nearest(segment.id, k * OVERFETCH + 8) if index else None
    if found is None:
        raise Conflict(
            f"segment {segment.id} has no {embedder} embedding yet: run the embed job",
            code="not_embedded",
        )
    # By primary key alone: with the project in the WHERE clause SQLite walks the project's
    # (project, label) index instead, 76 ms at 1M segments against 0.5 ms.
    rows = session.execute(
        select(Segment.id, Segment.project_id, Segment.image_id, Segment.label_class_id).where(
            Segment.id.in_(found.ids.tolist())
        )
    ).all()
    live = {row.id: row for row in rows if row.project_id == segment.project_id}
    hits = [
        SimilarSegment(int(i), live[i].image_id, live[i].label_class_id, float(d))
        for i, d in zip(found.ids.tolist(), found.distances.tolist(), strict=True)
        if i in live
    ]
    return hits[:k]
