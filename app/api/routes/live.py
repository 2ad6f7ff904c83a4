"""Live updates (server-sent events) and presence with soft locks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.auth.guard import PrincipalDep
from app.deps import ContextDep, LiveDep, ProjectDep
from app.errors import NotFound
from app.live.stream import project_events
from app.models import Image
from app.schemas.history import PresenceBeat, PresenceRead

router = APIRouter(prefix="/api/projects/{project_id}", tags=["live"])


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def events(
    request: Request,
    ctx: ContextDep,
    live: LiveDep,
    project: ProjectDep,
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
    since: Annotated[int | None, Query(ge=0)] = None,
) -> StreamingResponse:
    """Server-sent events: `labels` (one per audit batch, id = batch id), `presence`
    snapshots, `suggestions` ({count, latest}) when the project's suggestions change, `hello`
    on connect, `reset` when a reconnecting client is too far behind. EventSource resends
    Last-Event-ID on reconnect; `?since=` does the same by hand."""
    after = last_event_id if last_event_id is not None else since
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        project_events(
            request, ctx.db, live, project.id, after, job_revision=lambda: ctx.jobs.revision
        ),
        media_type="text/event-stream",
        headers=headers,
    )


def _presence(live: LiveDep, project_id: int, held_by: str | None = None) -> PresenceRead:
    return PresenceRead.model_validate({**live.presence.snapshot(project_id), "held_by": held_by})


@router.get("/presence", response_model=PresenceRead)
def get_presence(live: LiveDep, project: ProjectDep) -> PresenceRead:
    return _presence(live, project.id)


@router.post("/presence", response_model=PresenceRead)
def beat(
    ctx: ContextDep, live: LiveDep, project: ProjectDep, principal: PrincipalDep, body: PresenceBeat
) -> PresenceRead:
    """Heartbeat (every ~10 s) saying which image you are on; `held_by` names whoever holds
    that image's soft lock when it is not you. The lock lapses after presence_ttl_seconds."""
    if body.image_id is not None:
        with ctx.db.read() as session:
            image = session.get(Image, body.image_id)
            if image is None or image.project_id != project.id:
                raise NotFound(f"image {body.image_id} not found")
    if live.presence.beat(project.id, principal.username, body.image_id):
        live.notify()
    holder = live.presence.holder(project.id, body.image_id) if body.image_id else None
    return _presence(live, project.id, holder if holder != principal.username else None)


@router.delete("/presence", status_code=204, response_class=Response)
def leave(live: LiveDep, project: ProjectDep, principal: PrincipalDep) -> Response:
    if live.presence.leave(project.id, principal.username):
        live.notify()
    return Response(status_code=204)
