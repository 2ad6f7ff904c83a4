"""FastAPI dependencies: the app context, and load-or-404 for path objects, written once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from app.auth.guard import PrincipalDep as PrincipalDep  # re-exported for routes
from app.context import AppContext
from app.live.hub import LiveHub
from app.models import Image, Project, Segment
from app.schemas.common import MAX_ID
from app.services.images import get_image
from app.services.projects import get_project
from app.services.segments import get_segment

# Any other id in a path: `label_id: IdPath`.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def get_context(request: Request) -> AppContext:
    return request.app.state.context


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_live(ctx: ContextDep) -> LiveHub:
    return ctx.live


LiveDep = Annotated[LiveHub, Depends(get_live)]


def load_project(ctx: ContextDep, project_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Project:
    with ctx.db.read() as session:
        return get_project(session, project_id)


def load_image(ctx: ContextDep, image_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Image:
    with ctx.db.read() as session:
        return get_image(session, image_id)


def load_segment(ctx: ContextDep, segment_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Segment:
    with ctx.db.read() as session:
        return get_segment(session, segment_id)


ProjectDep = Annotated[Project, Depends(load_project)]
ImageDep = Annotated[Image, Depends(load_image)]
SegmentDep = Annotated[Segment, Depends(load_segment)]
