"""The demo project seeded on first start: real photographs that ship inside scikit-image."""

from __future__ import annotations

import importlib.util
import logging
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.context import AppContext
from app.models import Job, Project
from app.services import labels as label_service
from app.services import projects as project_service
from app.services.images import IncomingFile, import_files

log = logging.getLogger(__name__)

DEMO_NAME = "Demo: scikit-image photographs"
DEMO_FILES = (
    "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
    "hubble_deep_field.jpg", "ihc.png", "retina.jpg", "coins.png", "camera.png",
)  # fmt: skip
DEMO_LABELS = ("person", "animal", "vehicle", "food", "cell", "object", "background")
# Automatic masks, embeddings, then the map: ordinary jobs, run in this order by the runner.
# A coarse point grid keeps the first map minutes away on a CPU with SAM's eager generator.
DEMO_PIPELINE: tuple[tuple[str, dict[str, Any]], ...] = (
    ("segment", {"points_per_side": 8}),
    ("embed", {}),
    ("projection", {}),
)


def demo_image_dir() -> Path | None:
    """scikit-image's bundled data folder, found without importing scikit-image."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if folder.is_dir() else None


def seed_demo(ctx: AppContext) -> int | None:
    """Create the demo project once, when the database has no project at all."""
    folder = demo_image_dir()
    with ctx.db.read() as session:
        if session.scalar(select(func.count()).select_from(Project)):
            return None
    if folder is None:
        log.warning("scikit-image is not installed: no demo project")
        return None
    with ctx.db.write() as session:
        project = project_service.create_project(
            session,
            name=DEMO_NAME,
            description="Photographs bundled with scikit-image, to try lassolabel right away.",
            embedder=ctx.settings.embedder,
        )
        for name in DEMO_LABELS:
            label_service.create_label(session, project.id, name=name, color=None, hotkey=None)
    files = [
        IncomingFile(name, (folder / name).read_bytes())
        for name in DEMO_FILES
        if (folder / name).is_file()
    ]
    report = import_files(
        db=ctx.db,
        files_store=ctx.files,
        project_id=project.id,
        files=files,
        max_bytes=ctx.settings.max_upload_bytes,
        max_pixels=ctx.settings.max_image_pixels,
    )
    log.info("demo project %s: %d images", project.id, len(report.imported))
    return project.id


def demo_without_jobs(ctx: AppContext) -> int | None:
    """The demo project's id while no job ever ran on it (its pipeline is still to queue)."""
    with ctx.db.read() as session:
        project_id = session.scalar(select(Project.id).where(Project.name == DEMO_NAME))
        if project_id is None:
            return None
        has_jobs = session.scalar(select(func.count()).where(Job.project_id == project_id))
        return None if has_jobs else project_id


def queue_demo_pipeline(
    ctx: AppContext, project_id: int, model_ready: threading.Event | None = None
) -> threading.Thread:
    """Queue the demo's segment -> embed -> project jobs once model_ready is set (the SAM
    weights are being fetched: segmenting with the stand-in would waste the first map)."""

    def queue() -> None:
        while model_ready is not None and not model_ready.wait(1.0):
            if ctx.jobs.stopping.is_set():
                return
        for kind, params in DEMO_PIPELINE:
            ctx.jobs.create(project_id=project_id, kind=kind, params=params)
        log.info("demo project %s: segment, embed and map jobs queued", project_id)

    thread = threading.Thread(target=queue, name="demo-pipeline", daemon=True)
    thread.start()
    return thread
