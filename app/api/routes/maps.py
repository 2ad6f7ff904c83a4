from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, Response
from fastapi.responses import StreamingResponse

from app.api.json_body import binary_response, documented, json_body, json_response
from app.deps import ContextDep, LiveDep, PrincipalDep, ProjectDep
from app.maps.service import build_map, labelled_counts
from app.maps.wire import json_points
from app.schemas.history import AssignReceipt
from app.schemas.maps import AssignRequest, LabelCount, MapJson, ProjectStats
from app.services.assign import assign_labels
from app.services.labels import list_labels

router = APIRouter(tags=["map"])


@router.get(
    "/api/projects/{project_id}/map",
    response_model=MapJson,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_map(
    ctx: ContextDep, project: ProjectDep, format: Literal["binary", "json"] = "binary"
) -> Response | MapJson:
    """Every placed segment's map position, label and version. Binary by default
    (app/maps/wire.py: 25 bytes a point; cached, app/maps/cache.py); `?format=json` for
    scripts (streamed in chunks, never a Python object per point at once)."""
    with ctx.db.read() as session:
        if format == "binary":
            return binary_response(ctx.map_cache.encoded(session, project))
        data = build_map(session, project, ctx.maps)
    label_ids = np.array([0] + [label["id"] for label in data.header["labels"]], np.int64)
    points = json_points(
        data.header, data.segment_ids, data.xy, label_ids[data.label_index + 1], data.versions
    )
    return StreamingResponse(points, media_type="application/json")


@router.post(
    "/api/projects/{project_id}/assign",
    response_model=AssignReceipt,
    openapi_extra=documented(AssignRequest),
)
def assign(
    ctx: ContextDep,
    live: LiveDep,
    project: ProjectDep,
    principal: PrincipalDep,
    body: Annotated[AssignRequest, Depends(json_body(AssignRequest))],
) -> Response:
    """Give one label (or none) to every listed segment: all or nothing, logged as one audit
    batch in the same transaction. With `expected_versions`, a segment someone else changed
    meanwhile fails the whole batch with 409 `stale_version` naming what changed."""
    with ctx.db.write() as session:
        done = assign_labels(
            session=session,
            project_id=project.id,
            segment_ids=body.segment_ids,
            label_id=body.label_id,
            expected_versions=body.expected_versions,
            actor=principal.actor,
            seen_ids=body.seen_ids,
        )
    live.notify()
    return json_response(
        AssignReceipt(count=done.count, batch_id=done.batch_id, versions=done.versions)
    )


@router.get("/api/projects/{project_id}/stats", response_model=ProjectStats)
def project_stats(ctx: ContextDep, project: ProjectDep) -> ProjectStats:
    """Labelled / total segments, and the count per label class."""
    with ctx.db.read() as session:
        counts = labelled_counts(session, project.id)
        labels = list_labels(session, project.id)
    per_label = [
        LabelCount(
            label_id=label.id, name=label.name, color=label.color, count=counts.get(label.id, 0)
        )
        for label in labels
    ]
    total = sum(counts.values())
    unlabelled = counts.get(None, 0)
    return ProjectStats(
        segments_total=total,
        labelled=total - unlabelled,
        unlabelled=unlabelled,
        per_label=per_label,
    )
