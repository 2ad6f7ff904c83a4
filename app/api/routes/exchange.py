"""Export (a zip in any format), import of existing annotations, and evaluation."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import IO, Annotated

from fastapi import APIRouter, Query, UploadFile
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.deps import ContextDep, ProjectDep
from app.errors import Conflict, PayloadTooLarge
from app.evaluation.project import evaluate_project
from app.evaluation.report import eval_dict
from app.exchange.export import ExportOptions, export_zip
from app.exchange.importer import import_annotations
from app.schemas.exchange import (
    EvalRead,
    ExportFormat,
    ImportFormat,
    ImportReportRead,
    ImportTarget,
)

router = APIRouter(prefix="/api/projects/{project_id}", tags=["exchange"])

_CHUNK = 1024 * 1024


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(_CHUNK):
            yield chunk
    finally:
        spool.close()


@router.get("/export", response_class=StreamingResponse)
def export(
    ctx: ContextDep,
    project: ProjectDep,
    format: ExportFormat,
    include_unlabelled: bool = False,
    include_images: bool = True,
    tolerance: Annotated[float, Query(ge=0, le=50)] = 0.0,
) -> StreamingResponse:
    """The project as a zip; masks and images in the canonical (EXIF-applied) frame."""
    options = ExportOptions(include_unlabelled, tolerance, include_images)
    spool = export_zip(
        db=ctx.db, files=ctx.files, project_id=project.id, fmt=format, options=options
    )
    name = f"lassolabel-project-{project.id}-{format}.zip"
    size = spool.seek(0, 2)  # the length lets the browser show download progress
    spool.seek(0)
    return StreamingResponse(
        _chunks(spool),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(size),
        },
    )


@router.post("/import", response_model=ImportReportRead)
async def import_(
    ctx: ContextDep,
    project: ProjectDep,
    file: UploadFile,
    format: ImportFormat = "coco",
    target: ImportTarget = "labels",
) -> ImportReportRead:
    """COCO instances (JSON, or a zip holding one) or YOLO-seg (zip with data.yaml and
    labels/) as working labels or as the project's ground truth."""
    cap = ctx.settings.max_upload_bytes
    data = await file.read(cap + 1)
    if len(data) > cap:
        raise PayloadTooLarge(f"annotation file is larger than {cap // (1024 * 1024)} MiB")
    # Decoding polygons and writing rows is CPU and disk work: keep it off the event loop.
    report = await run_in_threadpool(
        partial(import_annotations, db=ctx.db, project_id=project.id, fmt=format, target=target),
        payload=data,
    )
    return ImportReportRead.model_validate(report, from_attributes=True)


@router.get("/eval", response_model=EvalRead)
def evaluate(ctx: ContextDep, project: ProjectDep) -> EvalRead:
    """Current labels against the project's imported ground truth (409 when it has none)."""
    result = evaluate_project(db=ctx.db, project_id=project.id)
    if result.images == 0:
        raise Conflict("this project has no ground truth: import one first", code="no_ground_truth")
    return EvalRead.model_validate(eval_dict(result))
