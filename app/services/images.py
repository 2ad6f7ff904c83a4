"""Image import (upload and server folder), listing and deletion."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import imaging
from app.db import Database
from app.errors import NotFound
from app.models import Image
from app.services.image_files import ImageFiles


@dataclass(frozen=True)
class NewImage:
    id: int
    filename: str
    width: int
    height: int


@dataclass(frozen=True)
class DuplicateFile:
    filename: str
    existing_id: int  # the image of this project with the same content


@dataclass(frozen=True)
class RejectedFile:
    filename: str
    error: str
    code: str


@dataclass
class ImageImport:
    """What an import did with each file (routes turn it into the ImportReport schema)."""

    imported: list[NewImage] = field(default_factory=list)
    duplicates: list[DuplicateFile] = field(default_factory=list)
    errors: list[RejectedFile] = field(default_factory=list)


@dataclass(frozen=True)
class IncomingFile:
    """One file to import: a display name and a way to read at most `limit` bytes of it."""

    filename: str
    data: bytes
    truncated: bool = False  # more bytes existed than the size cap allowed reading


def clean_filename(name: str) -> str:
    """A safe display name: the basename only, no control characters, at most 255 chars."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable())
    return base.strip()[:255] or "unnamed"


def get_image(session: Session, image_id: int) -> Image:
    image = session.get(Image, image_id)
    if image is None:
        raise NotFound(f"image {image_id} not found")
    return image


def neighbour_ids(session: Session, image: Image, count: int) -> list[int]:
    """Ids of the next `count` images of the same project in list order (for prefetch)."""
    query = (
        select(Image.id)
        .where(Image.project_id == image.project_id, Image.id > image.id)
        .order_by(Image.id)
        .limit(count)
    )
    return list(session.scalars(query))


@dataclass
class PreparedFile:
    """A validated file whose original bytes are already stored (content-addressed)."""

    filename: str
    decoded: imaging.DecodedImage
    byte_size: int
    stored_path: str


def prepare_files(
    files: Iterable[IncomingFile], *, files_store: ImageFiles, max_bytes: int, max_pixels: int
) -> tuple[list[PreparedFile], list[RejectedFile]]:
    """Decode and validate each file (CPU-bound, outside any transaction) and store the good
    ones; returns them and one error per rejected file."""
    prepared: list[PreparedFile] = []
    errors: list[RejectedFile] = []
    for incoming in files:
        name = clean_filename(incoming.filename)
        try:
            if incoming.truncated:
                raise imaging.ImageRejected(
                    "too_large", f"file is larger than the {max_bytes // (1024 * 1024)} MiB limit"
                )
            decoded = imaging.decode_image(
                incoming.data, max_bytes=max_bytes, max_pixels=max_pixels
            )
        except imaging.ImageRejected as exc:
            errors.append(RejectedFile(name, str(exc), exc.code))
            continue
        relative = files_store.save_original(decoded.sha256, decoded.format, incoming.data)
        prepared.append(PreparedFile(name, decoded, len(incoming.data), relative))
    return prepared, errors


def record_images(
    session: Session, *, project_id: int, prepared: list[PreparedFile], report: ImageImport
) -> None:
    """Insert rows for prepared files; content already in the project becomes a duplicate."""
    shas = [item.decoded.sha256 for item in prepared]
    query = select(Image.sha256, Image.id).where(
        Image.project_id == project_id, Image.sha256.in_(shas)
    )
    existing = {sha: image_id for sha, image_id in session.execute(query)}
    for item in prepared:
        sha = item.decoded.sha256
        if sha in existing:
            report.duplicates.append(DuplicateFile(item.filename, existing[sha]))
            continue
        image = Image(
            project_id=project_id,
            sha256=sha,
            filename=item.filename,
            width=item.decoded.width,
            height=item.decoded.height,
            format=item.decoded.format,
            byte_size=item.byte_size,
            stored_path=item.stored_path,
        )
        session.add(image)
        session.flush()
        existing[sha] = image.id
        report.imported.append(NewImage(image.id, image.filename, image.width, image.height))


def import_files(
    *,
    db: Database,
    files_store: ImageFiles,
    project_id: int,
    files: Iterable[IncomingFile],
    max_bytes: int,
    max_pixels: int,
) -> ImageImport:
    """Validate, store and record images. One bad file never aborts the others; a file whose
    content is already in the project is reported as a duplicate, not stored twice."""
    prepared, errors = prepare_files(
        files, files_store=files_store, max_bytes=max_bytes, max_pixels=max_pixels
    )
    report = ImageImport(errors=errors)
    with db.write() as session:
        record_images(session, project_id=project_id, prepared=prepared, report=report)
    return report


def delete_image(*, db: Database, files_store: ImageFiles, image_id: int) -> None:
    """Delete an image row (its segments cascade) and its file unless another row uses it."""
    with db.write() as session:
        image = get_image(session, image_id)
        relative = image.stored_path
        session.delete(image)
    remove_unused_files(db=db, files_store=files_store, paths=[relative])


def remove_unused_files(*, db: Database, files_store: ImageFiles, paths: list[str]) -> None:
    """Remove stored originals that no image row references any more. Checked under the write
    lock so an import recording the same content cannot interleave."""
    with db.write() as session:
        used = set(session.scalars(select(Image.stored_path).where(Image.stored_path.in_(paths))))
        for relative in set(paths) - used:
            files_store.remove_original(relative)


def read_capped(path: Path, max_bytes: int) -> IncomingFile:
    """Read a server file, never more than max_bytes + 1 bytes."""
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    return IncomingFile(path.name, data[:max_bytes], truncated=len(data) > max_bytes)


def iter_folder_files(
    root: Path, folder: Path, *, recursive: bool
) -> Iterator[tuple[str, Path | None]]:
    """(name relative to folder, real path) of each non-hidden file under `folder`; the path is
    None when the file (a symlink) resolves outside `root`, so it is reported, never read."""
    root_real = os.path.realpath(root)
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")) if recursive else []
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            shown = os.path.relpath(os.path.join(dirpath, name), folder)
            real = os.path.realpath(os.path.join(dirpath, name))
            inside = os.path.commonpath([root_real, real]) == root_real
            if not inside:
                yield shown, None
            elif os.path.isfile(real):
                yield shown, Path(real)
