"""Where lassolabel is built: open and migrate the database, build the AppContext with every
service, register every job kind, start and stop the services.

create_app's lifespan and every CLI command start here; nothing else assembles services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from app.auth.service import AuthService
from app.config import Settings
from app.context import AppContext
from app.db import Database
from app.inference.base import Segmenter
from app.inference.candidates import CandidatePicks
from app.inference.factory import build_inference
from app.inference.handles import HandleStore
from app.jobs.runner import Handler, JobKind, JobRunner
from app.live.hub import LiveHub
from app.maps.cache import MapCache
from app.maps.store import MapStore
from app.migrate import upgrade
from app.pipeline.embed import run_embed_job
from app.pipeline.params import EmbedParams, ProjectionParams, SegmentParams
from app.pipeline.projection import run_projection_job
from app.pipeline.segment import run_segment_job
from app.pipeline.vectors import Embedders, VectorStores
from app.services.folders import run_folder_import_job
from app.services.image_files import ImageFiles
from app.similar.exemplar_job import exemplar_kind
from app.similar.index import SimilarityIndexes
from app.similar.job import PropagateParams, run_propagate_job

SegmenterOverride = Segmenter | Callable[[], Segmenter] | None


def open_database(settings: Settings) -> Database:
    """Create the data directories, migrate the database to head and open it."""
    settings.ensure_dirs()
    upgrade(settings.resolved_database_url)
    return Database(settings.resolved_database_url)


def build_context(
    settings: Settings,
    *,
    segmenter: SegmenterOverride = None,
    job_handlers: Mapping[str, Handler] | None = None,
) -> AppContext:
    """Every long-lived service, built but not started. `segmenter` replaces the configured one
    (an instance or a factory); `job_handlers` add job kinds (tests use both)."""
    db = open_database(settings)
    vectors = VectorStores(settings.data_dir / "vectors")
    worker, fetcher = build_inference(settings, segmenter)
    maps = MapStore(settings.data_dir / "maps")
    ctx = AppContext(
        settings=settings,
        db=db,
        files=ImageFiles(settings),
        jobs=JobRunner(db, {}),
        maps=maps,
        map_cache=MapCache(maps),
        vectors=vectors,
        embedders=Embedders(_embedder_weights(settings)),
        inference=worker,
        model_fetch=fetcher,
        auth=AuthService(settings, db),
        live=LiveHub(db, settings.presence_ttl_seconds, settings.live_inline_changes),
        mask_handles=HandleStore(),
        candidate_picks=CandidatePicks(),
        similar=SimilarityIndexes(vectors),
    )
    ctx.jobs.register(job_kinds(ctx))
    ctx.jobs.register({name: JobKind(run) for name, run in (job_handlers or {}).items()})
    return ctx


def _embedder_weights(settings: Settings) -> dict[str, Path]:
    weights = settings.embedder_weights
    return {settings.embedder: weights} if weights is not None else {}


def job_kinds(ctx: AppContext) -> dict[str, JobKind]:
    """Every kind of job the runner knows, by the name clients send in `kind`."""
    return {
        "import-folder": JobKind(
            partial(run_folder_import_job, settings=ctx.settings, files_store=ctx.files)
        ),
        "segment": JobKind(partial(run_segment_job, ctx=ctx), SegmentParams),
        "embed": JobKind(partial(run_embed_job, ctx=ctx), EmbedParams),
        "projection": JobKind(partial(run_projection_job, ctx=ctx), ProjectionParams),
        "propagate": JobKind(partial(run_propagate_job, ctx=ctx), PropagateParams),
        "exemplar": exemplar_kind(ctx),
    }


def start_services(ctx: AppContext, *, run_jobs: bool = True) -> None:
    """Start the inference worker (returns once the model is loaded or known absent) and any
    fetch of official weights, then the job runner, so a resumed job finds the model ready."""
    ctx.inference.start()
    if ctx.model_fetch is not None:
        ctx.model_fetch.start()
    _link_processes(ctx)
    if run_jobs:
        ctx.jobs.start()


def _link_processes(ctx: AppContext) -> None:
    """On PostgreSQL, a change committed by any server process wakes every process's live
    streams and job runners (LISTEN/NOTIFY)."""
    if not ctx.db.shared:
        return
    from app.live.signal import PgSignal  # psycopg: installed with the postgres extra

    def woken() -> None:
        ctx.live.bump()
        ctx.jobs.bump()

    ctx.signal = PgSignal(ctx.db.url, woken)
    ctx.live.publish = ctx.jobs.publish = ctx.signal.publish
    ctx.signal.start()


def stop_services(ctx: AppContext) -> None:
    ctx.inference.stop()
    ctx.live.close()
    ctx.jobs.stop()
    if ctx.ray is not None:
        ctx.ray.close()
    if ctx.signal is not None:
        ctx.signal.stop()
    ctx.db.dispose()


@contextmanager
def running_context(settings: Settings, *, run_jobs: bool = False) -> Iterator[AppContext]:
    """A built and started context for a CLI command; stopped on the way out."""
    ctx = build_context(settings)
    try:
        start_services(ctx, run_jobs=run_jobs)
        yield ctx
    finally:
        stop_services(ctx)
