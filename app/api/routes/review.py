"""Reviewing labels nobody saw: the likely-wrong-first order, and confirming a seen page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import ContextDep, LiveDep, ProjectDep
from app.schemas.review import ConfirmReceipt, ConfirmRequest, DoubtRead, ReviewList
from app.services.assign import confirm_labels, current_versions
from app.similar.review import review_order

router = APIRouter(tags=["review"])


@router.get("/api/projects/{project_id}/review", response_model=ReviewList)
def get_review(
    ctx: ContextDep,
    project: ProjectDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReviewList:
    """Labelled segments nobody has seen, least supported by the confirmed labels first."""
    store = ctx.vectors.existing(project.id, project.embedder)
    with ctx.db.read() as session:
        items, total = review_order(
            session=session, store=store, project_id=project.id, limit=limit, offset=offset
        )
    return ReviewList(items=[DoubtRead(**item.__dict__) for item in items], total=total)


@router.post("/api/projects/{project_id}/confirm", response_model=ConfirmReceipt)
def confirm(
    ctx: ContextDep, live: LiveDep, project: ProjectDep, body: ConfirmRequest
) -> ConfirmReceipt:
    """Mark labels as seen by a person (unlabelled and foreign ids are ignored)."""
    with ctx.db.write() as session:
        ids = [i for i, (_, label) in current_versions(session, project.id, body.segment_ids).items()
               if label is not None]  # fmt: skip
        confirm_labels(session, ids)
    live.notify()
    return ConfirmReceipt(count=len(ids))
