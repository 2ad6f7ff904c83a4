"""More like this: a segment's nearest neighbours in embedding space."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import ContextDep, SegmentDep
from app.models import Project
from app.schemas.similar import SimilarItem, SimilarList
from app.similar.service import find_similar

router = APIRouter(tags=["similar"])


@router.get("/api/segments/{segment_id}/similar", response_model=SimilarList)
def similar_segments(
    ctx: ContextDep,
    segment: SegmentDep,
    k: Annotated[int, Query(ge=1, le=500)] = 24,
    embedder: str | None = None,
) -> SimilarList:
    """The k segments of the same project nearest to this one (cosine), nearest first.
    409 `not_embedded` until the embed job has covered this segment."""
    with ctx.db.read() as session:
        name = embedder or session.get(Project, segment.project_id).embedder  # type: ignore[union-attr]
        hits = find_similar(
            session=session, indexes=ctx.similar, segment=segment, k=k, embedder=name
        )
    items = [SimilarItem(**hit.__dict__) for hit in hits]
    return SimilarList(segment_id=segment.id, embedder=name, items=items)
