"""create_app: the ASGI app (routes, middleware, lifespan) around the context that
app/bootstrap.py builds."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

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
    review,
    segments,
    similar,
    suggestions,
    users,
)
from app.auth.accounts import has_admin
from app.auth.guard import authorize
from app.auth.hosts import HostGuard, allowed_hosts, ensure_safe_binding
from app.bootstrap import SegmenterOverride, build_context, start_services, stop_services
from app.config import Settings
from app.context import AppContext
from app.demo import demo_without_jobs, queue_demo_pipeline, seed_demo
from app.errors import install_error_handlers
from app.jobs.runner import Handler
from app.projection.registry import warm_umap_in_background
from app.web import mount_frontend

log = logging.getLogger(__name__)


def _open_first_run_setup(ctx: AppContext) -> None:
    """No administrator yet: print the one-time setup link (there is no default password)."""
    with ctx.db.read() as session:
        if ctx.auth.required and not has_admin(session):
            ctx.auth.open_setup()


def create_app(
    settings: Settings | None = None,
    *,
    segmenter: SegmenterOverride = None,
    job_handlers: Mapping[str, Handler] | None = None,
) -> FastAPI:
    """The ASGI app. `segmenter` and `job_handlers` swap components at construction (tests use
    fakes here); everything else is built by app/bootstrap.py."""
    settings = settings or Settings()
    ensure_safe_binding(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = build_context(settings, segmenter=segmenter, job_handlers=job_handlers)
        app.state.context = ctx
        if settings.seed_demo:
            seed_demo(ctx)
        _open_first_run_setup(ctx)
        await run_in_threadpool(start_services, ctx)
        demo = demo_without_jobs(ctx) if settings.seed_demo else None
        if demo is not None:
            fetcher = ctx.model_fetch
            queue_demo_pipeline(ctx, demo, fetcher.finished if fetcher else None)
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
    for module in (auth, users, history, live, similar, suggestions, review):
        app.include_router(module.router)
    mount_frontend(app)
    return app
