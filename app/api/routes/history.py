"""The audit log of label changes, and undo."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.json_body import binary_response
from app.auth.guard import PrincipalDep
from app.deps import ContextDep, IdPath, LiveDep, ProjectDep
from app.history.audit import batch_block, change_page, list_batches
from app.history.undo import get_batch, undo_batch
from app.schemas.history import BatchDetail, BatchList, BatchRead, ChangeRead, UndoResult

router = APIRouter(prefix="/api/projects/{project_id}/history", tags=["history"])


@router.get("", response_model=BatchList)
def list_history(
    ctx: ContextDep,
    project: ProjectDep,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> BatchList:
    """Newest first; page with ?before=<the last id you got>."""
    with ctx.db.read() as session:
        rows = list_batches(session, project.id, before=before, limit=limit)
        return BatchList(items=[BatchRead.model_validate(row) for row in rows])


@router.get("/{batch_id}", response_model=BatchDetail)
def get_history_batch(
    ctx: ContextDep,
    project: ProjectDep,
    batch_id: IdPath,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> BatchDetail:
    """One batch with a page of its segments' labels before and after, by segment id; page
    with ?after=<next_after> (a 1M-segment batch is a million changes)."""
    with ctx.db.read() as session:
        batch = BatchRead.model_validate(get_batch(session, project.id, batch_id))
        page = change_page(session, batch_id, after=after, limit=limit + 1)
    changes = [ChangeRead(**c._asdict()) for c in page[:limit]]
    next_after = changes[-1].segment_id if len(page) > limit else None
    return BatchDetail(**batch.model_dump(), changes=changes, next_after=next_after)


@router.get(
    "/{batch_id}/columns",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_history_columns(ctx: ContextDep, project: ProjectDep, batch_id: IdPath) -> Response:
    """Every change of a batch at once, compactly: one version byte (1), then zlib of the
    (4, K) little-endian int64 table [segment id differences, old label, new label, new
    version] by segment id, label 0 meaning none (app/history/block.py). Live clients read it
    when a `labels` event leaves a big batch's changes out."""
    with ctx.db.read() as session:
        get_batch(session, project.id, batch_id)
        body = batch_block(session, batch_id)
    return binary_response(body)


@router.post("/{batch_id}/undo", response_model=UndoResult)
def undo(
    ctx: ContextDep, live: LiveDep, project: ProjectDep, batch_id: IdPath, principal: PrincipalDep
) -> UndoResult:
    """Put back the labels a batch replaced (its author or an admin). Refused with 409 when any
    of its segments changed since: undo never overwrites someone else's later work."""
    with ctx.db.write() as session:
        undo_id = undo_batch(session, project_id=project.id, batch_id=batch_id, principal=principal)
        count = get_batch(session, project.id, undo_id).segment_count
    live.notify()
    return UndoResult(batch_id=undo_id, count=count)
