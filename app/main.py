"""create_app: the only place where lassolabel is assembled."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware

from app.api.routes import (
    auth,
    exchange,
    health,
    history,
    images,
    inference,
    jobs,
    labels,
    live,
    maps,
    projects,
    segments,
    similar,
    suggestions,
    users,
)
from app.auth.accounts import has_admin
from app.auth.guard import authorize
from app.auth.hosts import HostGuard, allowed_hosts, ensure_safe_binding
from app.auth.service import AuthService
from app.config import Settings
from app.context import AppContext
from app.db import Database
from app.demo import seed_demo
from app.errors import install_error_handlers
from app.inference.factory import start_inference
from app.inference.handles import HandleStore
from app.jobs.runner import Handler, JobRunner
from app.live.hub import LiveHub
from app.maps.store import MapStore
from app.migrate import upgrade
from app.pipeline.jobs import pipeline_kinds
from app.pipeline.vectors import Embedders, VectorStores
from app.projection.registry import warm_umap_in_background
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
    extras = {
        "auth": AuthService(settings, db),
        "live": LiveHub(db, settings.presence_ttl_seconds),
        "mask_handles": HandleStore(),
        **overrides,
    }
    ctx = AppContext(
        settings=settings,
        db=db,
        files=files,
        jobs=runner,
        maps=maps,
        vectors=VectorStores(settings.data_dir / "vectors"),
        embedders=Embedders(),
        extras=extras,
    )
    runner.register(pipeline_kinds(ctx))
    return ctx


def start_services(ctx: AppContext, *, run_jobs: bool = True) -> None:
    """Start the inference worker (returns once the model is loaded or known absent), then the
    job runner, so a resumed job finds the model ready."""
    worker, fetcher = start_inference(ctx.settings, ctx.extras.get("segmenter"))
    ctx.extras["inference"] = worker
    ctx.extras["model_fetch"] = fetcher
    _link_processes(ctx)
    if run_jobs:
        ctx.jobs.start()


def _link_processes(ctx: AppContext) -> None:
    """On PostgreSQL, a change committed by any server process wakes every process's live
    streams and job runners (LISTEN/NOTIFY)."""
    if not ctx.db.shared:
        return
    from app.live.signal import PgSignal  # psycopg: installed with the postgres extra

    live: LiveHub = ctx.extras["live"]

    def woken() -> None:
        live.bump()
        ctx.jobs.bump()

    signal = PgSignal(ctx.db.url, woken)
    live.publish = ctx.jobs.publish = signal.publish
    ctx.extras["signal"] = signal
    signal.start()


def stop_services(ctx: AppContext) -> None:
    worker = ctx.extras.get("inference")
    if worker is not None:
        worker.stop()
    ctx.extras["live"].close()
    ctx.jobs.stop()
    if (ray_cluster := ctx.extras.get("ray")) is not None:
        ray_cluster.close()
    if "signal" in ctx.extras:
        ctx.extras["signal"].stop()
    ctx.db.dispose()


def _open_first_run_setup(ctx: AppContext) -> None:
    """No administrator yet: print the one-time setup link (there is no default password)."""
    auth: AuthService = ctx.extras["auth"]
    with ctx.db.read() as session:
        if auth.required and not has_admin(session):
            auth.open_setup()


def create_app(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """The ASGI app. `overrides` swap components at construction (tests use fakes here)."""
    settings = settings or Settings()
    ensure_safe_binding(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = build_context(settings, dict(overrides))
        app.state.context = ctx
        if settings.seed_demo:
            seed_demo(ctx)
        _open_first_run_setup(ctx)
        await run_in_threadpool(start_services, ctx)
        if settings.warm_numba_at_startup:
            warm_umap_in_background()  # numba's compile never lands on a user's job
        try:
            yield
        finally:
            stop_services(ctx)

    app = FastAPI(
        title="lassolabel",
        summary="Label image segmentation data fast: SAM clicks, UMAP lasso, batch labels.",
        lifespan=lifespan,
        # Every route passes the one access check (app/auth/guard.py) before anything else.
        dependencies=[Depends(authorize)],
    )
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Content-Type", "Authorization", "X-CSRF-Token"],
        )
    # Outermost: unknown Host headers (DNS rebinding) never reach the app.
    app.add_middleware(
        HostGuard, allowed=allowed_hosts(settings), origins=frozenset(settings.cors_origins)
    )
    for module in (health, projects, labels, images, inference, segments, jobs, maps, exchange):
        app.include_router(module.router)
    for module in (auth, users, history, live, similar, suggestions):
        app.include_router(module.router)
    mount_frontend(app)
    return app
