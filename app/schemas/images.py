from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.models import ImageStatus
from app.schemas.common import ReadModel


class ImageRead(ReadModel):
    id: int
    project_id: int
    filename: str
    width: int
    height: int
    format: str
    byte_size: int
    sha256: str
    status: ImageStatus
    error: str | None
    created_at: datetime
    segment_count: int = 0
    labelled_count: int = 0


class ImageList(BaseModel):
    items: list[ImageRead]
    total: int
    offset: int
    limit: int


class ImportedImage(BaseModel):
    id: int
    filename: str
    width: int
    height: int


class DuplicateImage(BaseModel):
    filename: str
    existing_id: int


class ImportFailure(BaseModel):
    filename: str
    error: str
    code: str


class ImportReport(BaseModel):
    imported: list[ImportedImage] = []
    duplicates: list[DuplicateImage] = []
    errors: list[ImportFailure] = []


class FolderImportRequest(BaseModel):
    path: str = Field(min_length=1, max_length=4096)
    recursive: bool = True


class FolderImportResult(BaseModel):
    """Small folders are imported at once (`report`); large ones become a job (`job_id`)."""

    job_id: int | None = None
    report: ImportReport | None = None
    file_count: int
