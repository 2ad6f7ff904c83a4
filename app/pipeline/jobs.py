"""The pipeline's job kinds, registered with the runner in create_app."""

from __future__ import annotations

from functools import partial

from app.context import AppContext
from app.jobs.runner import JobKind
from app.pipeline.embed import run_embed_job
from app.pipeline.params import EmbedParams, ProjectParams, SegmentParams
from app.pipeline.project import run_project_job
from app.pipeline.segment import run_segment_job
from app.similar.exemplar_job import exemplar_kind
from app.similar.job import PropagateParams, run_propagate_job


def pipeline_kinds(app: AppContext) -> dict[str, JobKind]:
    return {
        "segment": JobKind(partial(run_segment_job, app=app), SegmentParams),
        "embed": JobKind(partial(run_embed_job, app=app), EmbedParams),
        "project": JobKind(partial(run_project_job, app=app), ProjectParams),
        "propagate": JobKind(partial(run_propagate_job, app=app), PropagateParams),
        "exemplar": exemplar_kind(app),
    }
