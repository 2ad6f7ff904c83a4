"""Suggested labels (propagate and exemplar jobs): list for review, colour the map, accept
into real labels, reject."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.api.json_body import binary_response
from app.deps import ContextDep, LiveDep, PrincipalDep, ProjectDep
from app.maps.wire import encode_columns
from app.schemas.suggestions import (
    AcceptReceipt,
    AcceptRequest,
    Kind,
    RejectReceipt,
    RejectRequest,
    SuggestionList,
    SuggestionMap,
    SuggestionRead,
)
from app.similar.suggestions import (
    Order,
    accept_suggestions,
    best_suggestions,
    list_suggestions,
    reject_suggestions,
)

router = APIRouter(tags=["suggestions"])
# Map colours need no more precision than this; it keeps 100k points' JSON small.
_CONFIDENCE_DIGITS = 3


@router.get("/api/projects/{project_id}/suggestions", response_model=SuggestionList)
def get_suggestions(
    ctx: ContextDep,
    project: ProjectDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    min_confidence: Annotated[float, Query(ge=0, le=1)] = 0.0,
    order: Order = "confident",
    kind: Annotated[Kind | None, Query()] = None,
) -> SuggestionList:
    """Suggestions for still-unlabelled segments, most confident first (`order=uncertain`:
    least confident, the most informative to review, first); `kind` keeps one predictor's."""
    with ctx.db.read() as session:
        rows, total, segments = list_suggestions(
            session=session,
            project_id=project.id,
            limit=limit,
            offset=offset,
            min_confidence=min_confidence,
            order=order,
            kind=kind,
        )
    items = [SuggestionRead(**row.__dict__) for row in rows]
    return SuggestionList(items=items, total=total, segments=segments)


@router.get(
    "/api/projects/{project_id}/suggestions/map",
    response_model=SuggestionMap,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_suggestion_map(
    ctx: ContextDep, project: ProjectDep, format: Literal["binary", "json"] = "json"
) -> Response | SuggestionMap:
    """The most confident suggestion of every still-unlabelled segment, as columns.
    `?format=binary` (what the map page reads: no Python object per suggestion) is the map's
    layout (app/maps/wire.py) with columns segment_id:uint32, label_id:uint32,
    confidence:float32."""
    with ctx.db.read() as session:
        ids, labels, confidence = best_suggestions(session=session, project_id=project.id)
    if format == "binary":
        columns = {
            "segment_id": ids.astype("<u4"),
            "label_id": labels.astype("<u4"),
            "confidence": confidence.astype("<f4"),
        }
        return binary_response(encode_columns({}, columns))
    return SuggestionMap(
        segment_ids=ids.tolist(),
        label_ids=labels.tolist(),
        confidence=[round(c, _CONFIDENCE_DIGITS) for c in confidence.tolist()],
    )


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
            kind=body.kind,
            actor=principal.actor,
        )
    live.notify()
    return AcceptReceipt(count=done.count, batch_ids=done.batch_ids)


@router.post("/api/projects/{project_id}/suggestions/reject", response_model=RejectReceipt)
def reject(
    ctx: ContextDep, live: LiveDep, project: ProjectDep, body: RejectRequest
) -> RejectReceipt:
    """Dismiss suggestions (until the next run of their job recomputes them); an exemplar
    proposal left unlabelled and unsuggested is deleted with them."""
    with ctx.db.write() as session:
        done = reject_suggestions(
            session=session, project_id=project.id, segment_ids=body.segment_ids, kind=body.kind
        )
    live.notify()
    return RejectReceipt(dismissed=done.dismissed, deleted_segments=done.deleted_segments)
