"""Per-image labelling status (segments, how many labelled) and the image list's filters."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from app.models import Image, Segment


class Progress(enum.StrEnum):
    labelled = "labelled"  # has segments, every one labelled
    unlabelled = "unlabelled"  # no segments yet, or some still unlabelled


@dataclass(frozen=True)
class ImageCounts:
    segments: int = 0
    labelled: int = 0


def _fully_labelled() -> ColumnElement[bool]:
    has_any = exists().where(Segment.image_id == Image.id)
    has_open = exists().where(Segment.image_id == Image.id, Segment.label_class_id.is_(None))
    return has_any & ~has_open


def find_images(
    session: Session,
    project_id: int,
    *,
    offset: int,
    limit: int,
    name: str | None = None,
    progress: Progress | None = None,
) -> tuple[list[Image], int]:
    """A page of the project's images in import order, and how many match the filters:
    `name` (case-insensitive substring of the filename), `progress`."""
    where = [Image.project_id == project_id]
    if name:
        escaped = name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(func.lower(Image.filename).like(f"%{escaped}%", escape="\\"))
    if progress is not None:
        labelled = _fully_labelled()
        where.append(labelled if progress is Progress.labelled else ~labelled)
    total = session.scalar(select(func.count()).select_from(Image).where(*where)) or 0
    query = select(Image).where(*where).order_by(Image.id).offset(offset).limit(limit)
    return list(session.scalars(query)), total


def image_counts(session: Session, image_ids: list[int]) -> dict[int, ImageCounts]:
    """Segments and labelled segments per image id (images without segments are absent)."""
    query = (
        select(Segment.image_id, func.count(), func.count(Segment.label_class_id))
        .where(Segment.image_id.in_(image_ids))
        .group_by(Segment.image_id)
    )
    return {image_id: ImageCounts(n, labelled) for image_id, n, labelled in session.execute(query)}
