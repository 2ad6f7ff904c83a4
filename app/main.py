"""create_app: the only place where lassolabel is assembled."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.api.routes import health, images, jobs, labels, maps, projects
from app.config import Settings
from app.context import AppContext
from app.db import Database
from app.demo import seed_demo
from app.errors import install_error_handlers
from app.jobs.runner import Handler, JobRunner
from app.maps.store import MapStore
from app.migrate import upgrade
from app.services.folders import run_folder_import_job
from app.services.image_files import ImageFiles
from app.web import mount_frontend

log = logging.getLogger(__name__)


def build_context(settings: Settings, overrides: dict[str, Any]) -> AppContext:
    """Create the data directory, migrate the database and build the long-lived services."""
    settings.ensure_dirs()
    upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    files = ImageFiles(settings)
    handlers: dict[str, Handler] = {
        "import-folder": partial(run_folder_import_job, settings=settings, files_store=files),
        **overrides.pop("job_handlers", {}),
    }
    runner = JobRunner(db, handlers)
    maps = MapStore(settings.data_dir / "maps")
    return AppContext(
        settings=settings, db=db, files=files, jobs=runner, maps=maps, extras=dict(overrides)
    )


def create_app(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """The ASGI app. `overrides` swap components at construction (tests use fakes here)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = build_context(settings, dict(overrides))
        app.state.context = ctx
        if settings.seed_demo:
            seed_demo(ctx)
        ctx.jobs.start()
        try:
            yield
        finally:
            ctx.jobs.stop()
            ctx.db.dispose()

    app = FastAPI(
        title="lassolabel",
        summary="Label image segmentation data fast: SAM clicks, UMAP lasso, batch labels.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Content-Type", "Authorization", "X-CSRF-Token"],
        )
    for module in (health, projects, labels, images, jobs, maps):
        app.include_router(module.router)
    mount_frontend(app)
    return app
