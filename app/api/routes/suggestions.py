"""Suggested labels (from the propagate job): list for review, accept into real labels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import ContextDep, LiveDep, PrincipalDep, ProjectDep
from app.schemas.suggestions import AcceptReceipt, AcceptRequest, SuggestionList, SuggestionRead
from app.similar.suggestions import Order, accept_suggestions, list_suggestions

router = APIRouter(tags=["suggestions"])


@router.get("/api/projects/{project_id}/suggestions", response_model=SuggestionList)
def get_suggestions(
    ctx: ContextDep,
    project: ProjectDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    min_confidence: Annotated[float, Query(ge=0, le=1)] = 0.0,
    order: Order = "confident",
) -> SuggestionList:
    """Suggestions for still-unlabelled segments, most confident first (`order=uncertain`:
    least confident, the most informative to review, first)."""
    with ctx.db.read() as session:
        rows, total = list_suggestions(
            session=session,
            project_id=project.id,
            limit=limit,
            offset=offset,
            min_confidence=min_confidence,
            order=order,
        )
        items = [
            SuggestionRead(
                segment_id=r.segment_id, label_id=r.label_id, confidence=r.confidence, kind=r.kind
            )
            for r in rows
        ]
    return SuggestionList(items=items, total=total)


@router.post("/api/projects/{project_id}/suggestions/accept", response_model=AcceptReceipt)
def accept(
    ctx: ContextDep,
    live: LiveDep,
    project: ProjectDep,
    principal: PrincipalDep,
    body: AcceptRequest,
) -> AcceptReceipt:
    """Turn suggestions into labels (source=propagated), audited like any assign."""
    with ctx.db.write() as session:
        done = accept_suggestions(
            session=session,
            project_id=project.id,
            segment_ids=body.segment_ids,
            min_confidence=body.min_confidence,
            user_id=principal.user_id,
            username=principal.username,
        )
    live.notify()
    return AcceptReceipt(count=done.count, batch_ids=done.batch_ids)
