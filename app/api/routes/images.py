from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from app.deps import ContextDep, ImageDep, ProjectDep
from app.imaging import DEFAULT_THUMBNAIL_SIZE, THUMBNAIL_MAX_SIZE, THUMBNAIL_MIN_SIZE
from app.models import Image
from app.schemas.images import (
    FolderImportRequest,
    FolderImportResult,
    ImageList,
    ImageRead,
    ImportReport,
)
from app.services import folders
from app.services import images as service
from app.services.image_status import ImageCounts, Progress, find_images, image_counts

router = APIRouter(tags=["images"])

# Served bytes are immutable per image id (content-addressed), but an id can be deleted.
_CACHE = "private, max-age=3600"
_NOSNIFF = {"X-Content-Type-Options": "nosniff", "Cache-Control": _CACHE}


@router.post("/api/projects/{project_id}/images", response_model=ImportReport)
async def upload_images(
    ctx: ContextDep, project: ProjectDep, files: list[UploadFile]
) -> ImportReport:
    """Multipart upload (field `files`, many at once). Each file succeeds or fails alone."""
    cap = ctx.settings.max_upload_bytes
    incoming = []
    for upload in files:
        data = await upload.read(cap + 1)
        incoming.append(
            service.IncomingFile(upload.filename or "unnamed", data[:cap], len(data) > cap)
        )
        await upload.close()
    report = await run_in_threadpool(
        service.import_files,
        db=ctx.db,
        files_store=ctx.files,
        project_id=project.id,
        files=incoming,
        max_bytes=cap,
        max_pixels=ctx.settings.max_image_pixels,
    )
    return ImportReport.model_validate(report, from_attributes=True)


@router.post("/api/projects/{project_id}/images/import-folder", response_model=FolderImportResult)
def import_folder(
    ctx: ContextDep, project: ProjectDep, body: FolderImportRequest
) -> FolderImportResult:
    """Import a server folder inside an import root: at once when small, else as a job."""
    root, folder = folders.resolve_import_folder(ctx.settings, body.path)
    files, refused = folders.list_folder(root, folder, recursive=body.recursive)
    count = len(files) + len(refused)
    if count > ctx.settings.folder_import_job_threshold:
        params = {"path": str(folder), "recursive": body.recursive}
        job = ctx.jobs.create(project_id=project.id, kind="import-folder", params=params)
        return FolderImportResult(job_id=job.id, file_count=count)
    report = folders.import_folder_now(
        db=ctx.db,
        files_store=ctx.files,
        settings=ctx.settings,
        project_id=project.id,
        files=files,
        refused=refused,
    )
    return FolderImportResult(
        report=ImportReport.model_validate(report, from_attributes=True), file_count=count
    )


def _with_counts(image: Image, counts: ImageCounts) -> ImageRead:
    read = ImageRead.model_validate(image)
    return read.model_copy(
        update={"segment_count": counts.segments, "labelled_count": counts.labelled}
    )


@router.get("/api/projects/{project_id}/images", response_model=ImageList)
def list_images(
    ctx: ContextDep,
    project: ProjectDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    name: Annotated[str | None, Query(max_length=200)] = None,
    progress: Progress | None = None,
) -> ImageList:
    """Images in import order with their segment and labelled counts; `name` filters by a
    part of the filename, `progress` by labelled (every segment) / unlabelled (any open)."""
    with ctx.db.read() as session:
        items, total = find_images(
            session, project.id, offset=offset, limit=limit, name=name, progress=progress
        )
        counts = image_counts(session, [i.id for i in items])
        return ImageList(
            items=[_with_counts(i, counts.get(i.id, ImageCounts())) for i in items],
            total=total,
            offset=offset,
            limit=limit,
        )


@router.get("/api/images/{image_id}", response_model=ImageRead)
def get_image(image: ImageDep) -> ImageRead:
    return ImageRead.model_validate(image)


@router.delete("/api/images/{image_id}", status_code=204, response_class=Response)
def delete_image(ctx: ContextDep, image: ImageDep) -> Response:
    service.delete_image(db=ctx.db, files_store=ctx.files, image_id=image.id)
    return Response(status_code=204)


@router.get(
    "/api/images/{image_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
def image_file(ctx: ContextDep, image: ImageDep) -> FileResponse:
    """The canonical image (EXIF applied, RGB), re-encoded by the server."""
    path, media_type = ctx.files.display(image.stored_path, image.sha256, image.format)
    return FileResponse(path, media_type=media_type, headers=_NOSNIFF)


@router.get(
    "/api/images/{image_id}/thumbnail",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def image_thumbnail(
    ctx: ContextDep,
    image: ImageDep,
    size: Annotated[
        int, Query(ge=THUMBNAIL_MIN_SIZE, le=THUMBNAIL_MAX_SIZE)
    ] = DEFAULT_THUMBNAIL_SIZE,
) -> FileResponse:
    path = ctx.files.thumbnail(image.stored_path, image.sha256, size)
    return FileResponse(path, media_type="image/jpeg", headers=_NOSNIFF)
