"""Import from server folders, confined to the configured import roots."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from app.config import Settings
from app.db import Database
from app.errors import Forbidden, Invalid, NotFound
from app.jobs.runner import JobContext
from app.services.image_files import ImageFiles
from app.services.images import (
    ImageImport,
    IncomingFile,
    RejectedFile,
    import_files,
    iter_folder_files,
    prepare_files,
    read_capped,
    record_images,
)


def resolve_import_folder(settings: Settings, requested: str) -> tuple[Path, Path]:
    """(root, folder) for a requested path: absolute, or relative to an import root.

    Both are real paths (symlinks resolved) and the folder is inside the root by commonpath,
    so `..`, absolute escapes and symlinks out of a root are refused with Forbidden.
    """
    if not settings.import_roots:
        raise Forbidden(
            "folder import is disabled: set LASSOLABEL_IMPORT_ROOTS to the folders users may import from",
            code="folder_import_disabled",
        )
    if "\x00" in requested:
        raise Invalid("path contains a NUL byte")
    for root in settings.import_roots:
        root_real = Path(os.path.realpath(root))
        candidate = Path(os.path.realpath(root_real / requested))  # absolute `requested` wins
        if os.path.commonpath([root_real, candidate]) != str(root_real):
            continue
        if not candidate.exists():
            raise NotFound(f"folder {requested!r} does not exist")
        if not candidate.is_dir():
            raise Invalid(f"{requested!r} is not a folder")
        return root_real, candidate
    raise Forbidden(
        f"{requested!r} is outside the allowed import roots", code="outside_import_roots"
    )


def list_folder(
    root: Path, folder: Path, *, recursive: bool
) -> tuple[list[tuple[str, Path]], list[RejectedFile]]:
    """Files to import and the entries refused for pointing outside the root."""
    files: list[tuple[str, Path]] = []
    refused: list[RejectedFile] = []
    for shown, real in iter_folder_files(root, folder, recursive=recursive):
        if real is None:
            refused.append(
                RejectedFile(shown, "links outside the import root", "outside_import_roots")
            )
        else:
            files.append((shown, real))
    return files, refused


def incoming(shown: str, real: Path, max_bytes: int) -> IncomingFile:
    read = read_capped(real, max_bytes)
    return IncomingFile(shown, read.data, read.truncated)


def import_folder_now(
    *,
    db: Database,
    files_store: ImageFiles,
    settings: Settings,
    project_id: int,
    files: list[tuple[str, Path]],
    refused: list[RejectedFile],
) -> ImageImport:
    """Import a small folder inside this request."""
    report = import_files(
        db=db,
        files_store=files_store,
        project_id=project_id,
        files=(incoming(shown, real, settings.max_upload_bytes) for shown, real in files),
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_image_pixels,
    )
    report.errors.extend(refused)
    return report


def run_folder_import_job(job: JobContext, *, settings: Settings, files_store: ImageFiles) -> None:
    """Job handler for kind "import-folder": one item per file, each recorded exactly once,
    so a resumed or re-run job never imports a file twice (content hash dedupe covers re-runs)."""
    root, folder = resolve_import_folder(settings, str(job.params["path"]))
    files, refused = list_folder(root, folder, recursive=bool(job.params.get("recursive", True)))
    job.set_total(len(files) + len(refused))
    for error in refused:
        job.check()
        job.complete_item(error.filename, error=error.error)
    for shown, real in files:
        job.check()
        if shown in job.finished_keys:
            continue
        prepared, errors = prepare_files(
            [incoming(shown, real, settings.max_upload_bytes)],
            files_store=files_store,
            max_bytes=settings.max_upload_bytes,
            max_pixels=settings.max_image_pixels,
        )
        if errors:
            job.complete_item(shown, error=errors[0].error)
            continue
        job.complete_item(
            shown,
            partial(
                record_images, project_id=job.project_id, prepared=prepared, report=ImageImport()
            ),
        )
