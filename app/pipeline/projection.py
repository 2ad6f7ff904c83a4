"""The projection job: 2-D map positions for every embedded segment.

The first run (or `refit`) fits the projector on all vectors; later runs place only the
segments not on the map yet with the fitted projector's `transform`, without a refit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import select

from app.columns import int_columns
from app.context import AppContext
from app.jobs.runner import JobContext
from app.models import Project, Segment
from app.pipeline.params import ProjectionParams
from app.projection.base import Projector, load_projector
from app.projection.registry import build_projector

# Above this share of new points, placing them on the old map distorts it: refit instead.
MAX_NEW_SHARE_FOR_TRANSFORM = 0.5


# The job's progress is its stages: the vectors are read; a fit builds the neighbour graph, then
# lays it out (UMAP's epochs, reported in tenths), or new points are placed on the fitted map;
# the map is written. Only "map" writes; the others are markers.
LAYOUT_STEPS = 10
FIT = ("neighbours", *(f"layout {10 * k}%" for k in range(1, LAYOUT_STEPS + 1)))
PLACE = ("place",)


def run_projection_job(job: JobContext, ctx: AppContext) -> None:
    params = ProjectionParams.model_validate(job.params)
    with ctx.db.read() as session:
        embedder = (
            session.scalar(select(Project.embedder).where(Project.id == job.project_id)) or ""
        )
        live = int_columns(
            session, select(Segment.id).where(Segment.project_id == job.project_id), 1
        )[:, 0]
    store = ctx.vectors.existing(job.project_id, embedder)
    if store is None:
        raise RuntimeError(f"no embeddings for {embedder!r} yet: run the embed job first")
    ids = store.ids()
    ids = ids[np.isin(ids, live)]
    if not len(ids):
        raise RuntimeError("no embedded segments to project: run the segment and embed jobs first")
    projector_path = ctx.maps.path(job.project_id, embedder).with_name("projector.pkl")
    placed, _ = ctx.maps.read(job.project_id, embedder)
    new = ~np.isin(ids, placed)
    refit = params.refit or not projector_path.is_file() or new.mean() > MAX_NEW_SHARE_FOR_TRANSFORM
    job.set_total(len(FIT if refit else PLACE) + 2)
    job.complete_item("vectors")
    if not refit:
        if new.any():
            # Only the new rows are read: all of them are 2.5 GB at 1M x 1280 float16.
            xy = load_projector(projector_path).transform(store.get(ids[new]))
            job.complete_item("place")
            job.complete_item(
                "map", lambda _session: ctx.maps.upsert(job.project_id, embedder, ids[new], xy)
            )
        else:
            job.complete_item("place")
            job.complete_item("map")
        return _warm_map(ctx, job.project_id)
    projector = build_projector(
        params.projector or ctx.settings.projector, **params.projector_args()
    )
    # Read a chunk at a time by the projector: no copy of all of them (2.5 GB at 1M x 1280).
    xy = projector.fit_transform(
        store.rows(ids), progress=lambda done, total: _fit(job, done, total)
    )
    for key in FIT:  # a projector without epochs reports nothing: its fit is done now
        job.complete_item(key)
    job.complete_item(
        "map",
        lambda _session: _save(ctx, job.project_id, embedder, ids, xy, projector, projector_path),
    )
    _warm_map(ctx, job.project_id)


def _warm_map(ctx: AppContext, project_id: int) -> None:
    """Encode the new map now (app/maps/cache.py), so its first open reads no segment rows."""
    with ctx.db.read() as session:
        project = session.get(Project, project_id)
        if project is not None:
            ctx.map_cache.encoded(session, project)


def _fit(job: JobContext, done: int, total: int) -> None:
    """The fit's progress as items (a no-op for those recorded); a cancel stops the fit here,
    between epochs, instead of after it."""
    job.check()
    reached = 1 + (LAYOUT_STEPS * done) // max(total, 1)  # the neighbour graph, then tenths
    for key in FIT[:reached]:
        job.complete_item(key)


def _save(
    ctx: AppContext,
    project_id: int,
    embedder: str,
    ids: np.ndarray,
    xy: np.ndarray,
    projector: Projector,
    path: Path,
) -> None:
    # Written inside the item's transaction callback: if cancel won, nothing is replaced.
    path.parent.mkdir(parents=True, exist_ok=True)
    projector.save(path)
    ctx.maps.write(project_id, embedder, ids, xy)
