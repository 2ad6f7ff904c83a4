"""What an export reads: a project's label classes and, image by image, its segments.

Images are loaded in small batches so a large project never sits in memory at once. Every
mask is a COCO RLE in the image's canonical frame (EXIF orientation applied).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import select

from app.db import Database
from app.models import Image, ImageStatus, LabelClass, Segment, User

_BATCH = 64


@dataclass(frozen=True)
class ExportClass:
    """A label class; `index` is 1-based and contiguous (semantic PNG value, COCO id)."""

    index: int
    id: int
    name: str
    color: str


@dataclass(frozen=True)
class ExportSegment:
    id: int
    rle: dict[str, Any]
    bbox: list[float]  # XYWH, canonical pixels
    area: int
    label: ExportClass | None
    source: str
    score: float | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ExportImage:
    id: int
    filename: str
    name: str  # unique stem inside the archive
    width: int
    height: int
    stored_path: str
    sha256: str
    format: str
    segments: list[ExportSegment]


def load_classes(db: Database, project_id: int) -> list[ExportClass]:
    with db.read() as session:
        query = select(LabelClass).where(LabelClass.project_id == project_id)
        rows = session.scalars(query.order_by(LabelClass.id))
        return [ExportClass(i, c.id, c.name, c.color) for i, c in enumerate(rows, start=1)]


def unique_stems(images: list[tuple[int, str]]) -> dict[int, str]:
    """Image id -> a file stem unique in the archive (the filename's stem, or stem-id)."""
    stems = {image_id: PurePosixPath(name).stem or "image" for image_id, name in images}
    counts: dict[str, int] = {}
    for stem in stems.values():
        counts[stem] = counts.get(stem, 0) + 1
    return {i: (s if counts[s] == 1 else f"{s}-{i}") for i, s in stems.items()}


def iter_images(
    db: Database, project_id: int, classes: list[ExportClass], *, include_unlabelled: bool
) -> Iterator[ExportImage]:
    """Ready images of the project in id order, each with its exported segments."""
    with db.read() as session:
        query = select(Image.id, Image.filename).where(
            Image.project_id == project_id, Image.status == ImageStatus.ready
        )
        rows = session.execute(query.order_by(Image.id))
        stems = unique_stems([(image_id, name) for image_id, name in rows])
    by_id = {c.id: c for c in classes}
    ids = list(stems)
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        yield from _load_batch(db, batch, stems, by_id, include_unlabelled)


def _load_batch(
    db: Database,
    image_ids: list[int],
    stems: dict[int, str],
    classes: dict[int, ExportClass],
    include_unlabelled: bool,
) -> Iterator[ExportImage]:
    with db.read() as session:
        images = session.scalars(select(Image).where(Image.id.in_(image_ids)).order_by(Image.id))
        query = (
            select(Segment, User.username)
            .outerjoin(User, User.id == Segment.created_by)
            .where(Segment.image_id.in_(image_ids))
            .order_by(Segment.id)
        )
        if not include_unlabelled:
            query = query.where(Segment.label_class_id.is_not(None))
        per_image: dict[int, list[ExportSegment]] = {i: [] for i in image_ids}
        for segment, username in session.execute(query):
            per_image[segment.image_id].append(_segment(segment, username, classes))
        return iter([_image(image, stems[image.id], per_image[image.id]) for image in images])


def _segment(segment: Segment, username: str | None, classes: dict[int, ExportClass]):
    return ExportSegment(
        id=segment.id,
        rle=segment.rle,
        bbox=segment.bbox,
        area=segment.area,
        label=classes.get(segment.label_class_id) if segment.label_class_id else None,
        source=str(segment.source.value),
        score=segment.score,
        created_by=username,
        created_at=segment.created_at,
        updated_at=segment.updated_at,
    )


def _image(image: Image, stem: str, segments: list[ExportSegment]) -> ExportImage:
    return ExportImage(
        id=image.id,
        filename=image.filename,
        name=stem,
        width=image.width,
        height=image.height,
        stored_path=image.stored_path,
        sha256=image.sha256,
        format=image.format,
        segments=segments,
    )
