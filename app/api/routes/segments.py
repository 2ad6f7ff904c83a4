"""The segments of an image: list, save (from an RLE or a predicted mask), edit, delete, and
one segment's details and picture (map hover cards and galleries)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse

from app.auth.principal import Principal
from app.context import AppContext
from app.deps import ContextDep, IdPath, ImageDep, PrincipalDep, SegmentDep
from app.models import Image, SegmentSource
from app.schemas.segments import (
    SegmentCreate,
    SegmentDetail,
    SegmentList,
    SegmentMerge,
    SegmentPolygon,
    SegmentRead,
    SegmentSplit,
    SegmentUpdate,
)
from app.services import segments as service
from app.services.segment_polygon import segment_polygon
from app.services.segment_surgery import merge_segments, split_segment
from app.services.segment_thumbnails import segment_thumbnail

router = APIRouter(tags=["segments"])

Changed = TypeVar("Changed")
Read = TypeVar("Read")


def _edit(
    ctx: AppContext,
    principal: Principal,
    change: Callable[..., Changed],
    read: Callable[[Changed], Read],
    **params: Any,
) -> Read:
    """Run one segment service `change(session=, actor=, **params)` in a write transaction,
    `read` its result there (rows detach after it), then wake the live streams."""
    with ctx.db.write() as session:
        result = read(change(session=session, actor=principal.actor, **params))
    ctx.live.notify()
    return result


@router.get("/api/images/{image_id}/segments", response_model=SegmentList)
def list_segments(ctx: ContextDep, image: ImageDep) -> SegmentList:
    with ctx.db.read() as session:
        rows = service.list_segments(session=session, image_id=image.id)
        return SegmentList(segments=[SegmentRead.of(s) for s in rows])


@router.post("/api/images/{image_id}/segments", response_model=SegmentRead, status_code=201)
def create_segment(
    ctx: ContextDep, image: ImageDep, principal: PrincipalDep, body: SegmentCreate
) -> SegmentRead:
    """Save a mask given as an RLE or as the handle of a predicted mask."""
    score = None
    if body.mask_handle is not None:
        entry = ctx.mask_handles.require(body.mask_handle, "mask_handle", image.id)
        rle, score = entry.rle, entry.score
    else:
        assert body.rle is not None
        rle = body.rle.model_dump()
    created = _edit(
        ctx,
        principal,
        service.create_segment,
        SegmentRead.of,
        image=image,
        rle=rle,
        label_id=body.label_id,
        source=SegmentSource.manual,
        score=score,
    )
    ctx.candidate_picks.kept(image.project_id, image.id, rle, body.candidate_token)
    return created


@router.get("/api/segments/{segment_id}", response_model=SegmentDetail)
def get_segment(ctx: ContextDep, segment: SegmentDep) -> SegmentDetail:
    with ctx.db.read() as session:
        image = session.get(Image, segment.image_id)
        assert image is not None  # the foreign key cascades
        return SegmentDetail(
            **SegmentRead.of(segment).model_dump(),
            image_filename=image.filename,
            image_width=image.width,
            image_height=image.height,
        )


@router.get(
    "/api/segments/{segment_id}/thumbnail",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def get_segment_thumbnail(
    ctx: ContextDep, segment: SegmentDep, size: Annotated[int, Query(ge=32, le=512)] = 128
) -> FileResponse:
    """The segment's masked crop (its box with some context, the rest dimmed), JPEG."""
    with ctx.db.read() as session:
        image = session.get(Image, segment.image_id)
    assert image is not None
    path = segment_thumbnail(ctx.files, segment, image, size)
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
    return FileResponse(path, media_type="image/jpeg", headers=headers)


@router.get("/api/segments/{segment_id}/polygon", response_model=SegmentPolygon)
def get_segment_polygon(
    segment: SegmentDep,
    tolerance: Annotated[float, Query(ge=0, le=50)] = 1.0,
    max_vertices: Annotated[int, Query(ge=16, le=20_000)] = 1000,
) -> SegmentPolygon:
    """The mask as polygon rings to edit vertex by vertex: every outer boundary and hole,
    simplified within `tolerance` px (raised until at most `max_vertices` vertices remain)."""
    polygon = segment_polygon(segment, tolerance=tolerance, max_vertices=max_vertices)
    return SegmentPolygon(
        segment_id=segment.id,
        version=segment.version,
        tolerance=polygon.tolerance,
        rings=[ring.round(3).tolist() for ring in polygon.rings],
    )


@router.patch("/api/segments/{segment_id}", response_model=SegmentRead)
def update_segment(
    ctx: ContextDep, segment_id: IdPath, principal: PrincipalDep, body: SegmentUpdate
) -> SegmentRead:
    """Change the label (null clears) and/or the mask (an RLE, or polygon rings the server
    rasterises); send `version` to refuse stale edits."""
    changes = body.model_dump(include=body.model_fields_set & {"label_id", "rle", "polygon"})
    return _edit(
        ctx,
        principal,
        service.update_segment,
        SegmentRead.of,
        segment_id=segment_id,
        changes=changes,
        expected_version=body.version,
    )


@router.post("/api/segments/{segment_id}/merge", response_model=SegmentRead)
def merge_segment(
    ctx: ContextDep, segment_id: IdPath, principal: PrincipalDep, body: SegmentMerge
) -> SegmentRead:
    """Add another segment of the same image to this one (the other is deleted)."""
    return _edit(
        ctx,
        principal,
        merge_segments,
        SegmentRead.of,
        keep_id=segment_id,
        other_id=body.other_id,
        versions=body.versions,
    )


@router.post("/api/segments/{segment_id}/split", response_model=SegmentList)
def split(
    ctx: ContextDep, segment_id: IdPath, principal: PrincipalDep, body: SegmentSplit
) -> SegmentList:
    """Cut along a line: the largest piece keeps the segment, the rest is one new segment."""
    return _edit(
        ctx,
        principal,
        split_segment,
        lambda parts: SegmentList(segments=[SegmentRead.of(s) for s in parts]),
        segment_id=segment_id,
        line=body.line,
        version=body.version,
    )


@router.delete("/api/segments/{segment_id}", status_code=204, response_class=Response)
def delete_segment(
    ctx: ContextDep,
    segment_id: IdPath,
    principal: PrincipalDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Delete a segment; with `?version=` a segment changed since is refused (409)."""
    return _edit(
        ctx,
        principal,
        service.delete_segment,
        lambda _: Response(status_code=204),
        segment_id=segment_id,
        expected_version=version,
    )
