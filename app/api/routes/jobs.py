from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from app.deps import ContextDep, IdPath, ProjectDep
from app.schemas.jobs import JobCreate, JobCreated, JobItemList, JobItemRead, JobList, JobRead
from app.services import jobs as service

router = APIRouter(tags=["jobs"])
JobId = IdPath


def _job(ctx: ContextDep, job_id: int) -> JobRead:
    with ctx.db.read() as session:
        return JobRead.model_validate(service.get_job(session, job_id))


@router.post("/api/projects/{project_id}/jobs", response_model=JobCreated, status_code=202)
def create_job(ctx: ContextDep, project: ProjectDep, body: JobCreate) -> JobCreated:
    job = ctx.jobs.create(project_id=project.id, kind=body.kind, params=body.params)
    return JobCreated(id=job.id)


@router.get("/api/projects/{project_id}/jobs", response_model=JobList)
def list_jobs(ctx: ContextDep, project: ProjectDep) -> JobList:
    with ctx.db.read() as session:
        return JobList(
            items=[JobRead.model_validate(j) for j in service.list_jobs(session, project.id)]
        )


def _project_jobs(ctx: ContextDep, project_id: int) -> list[dict]:
    with ctx.db.read() as session:
        jobs = service.list_jobs(session, project_id, limit=50)
        return [JobRead.model_validate(j).model_dump(mode="json") for j in jobs]


# The runner bumps an integer on every change; polling it is cheap and holds no thread.
_POLL_SECONDS = 0.2
_KEEPALIVE_SECONDS = 15.0


async def _job_events(request: Request, ctx: ContextDep, project_id: int) -> AsyncIterator[str]:
    seen, idle = -1, 0.0
    while not await request.is_disconnected():
        revision = ctx.jobs.revision
        if revision != seen:
            jobs = await run_in_threadpool(_project_jobs, ctx, project_id)
            yield f"id: {revision}\nevent: jobs\ndata: {json.dumps({'items': jobs})}\n\n"
            seen, idle = revision, 0.0
        elif idle >= _KEEPALIVE_SECONDS:
            yield ": keepalive\n\n"
            idle = 0.0
        await asyncio.sleep(_POLL_SECONDS)
        idle += _POLL_SECONDS


@router.get(
    "/api/projects/{project_id}/jobs/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def job_events(
    request: Request,
    ctx: ContextDep,
    project: ProjectDep,
) -> StreamingResponse:
    """Server-sent events: the project's jobs (state, done, total, eta) whenever one changes.
    Every event carries the full current state, so a reconnect (Last-Event-ID) catches up."""
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _job_events(request, ctx, project.id), media_type="text/event-stream", headers=headers
    )


@router.get("/api/jobs/{job_id}", response_model=JobRead)
def get_job(ctx: ContextDep, job_id: JobId) -> JobRead:
    return _job(ctx, job_id)


@router.get("/api/jobs/{job_id}/items", response_model=JobItemList)
def list_job_items(
    ctx: ContextDep,
    job_id: JobId,
    failed_only: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JobItemList:
    """Per-item outcome of a job (e.g. which files of a folder import failed and why)."""
    with ctx.db.read() as session:
        rows, total = service.list_job_items(
            session, job_id, failed_only=failed_only, offset=offset, limit=limit
        )
        return JobItemList(items=[JobItemRead.model_validate(r) for r in rows], total=total)


@router.post("/api/jobs/{job_id}/cancel", response_model=JobRead)
def cancel_job(ctx: ContextDep, job_id: JobId) -> JobRead:
    ctx.jobs.cancel(job_id)
    return _job(ctx, job_id)
