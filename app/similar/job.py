"""The propagate job: embed what is missing, then store a suggested label for every
unlabelled segment that has a vector, predicted from the labelled ones."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from app.columns import int_columns
from app.context import AppContext
from app.jobs.runner import JobContext
from app.models import Project, Segment
from app.pipeline.embed import run_embed_job
from app.similar.propagate import predict_labels
from app.similar.suggestions import replace_suggestions

KIND = "propagate"


class PropagateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    embedder: str | None = Field(None, description="default: the project's embedder")
    method: Literal["auto", "knn", "logistic"] = "auto"
    embed_missing: bool = Field(True, description="run the embed step first for new segments")


def run_propagate_job(job: JobContext, ctx: AppContext) -> None:
    params = PropagateParams.model_validate(job.params)
    if params.embed_missing:
        # The embed job reads its params from the job: hand it only the ones it knows.
        job.params = {"embedder": params.embedder} if params.embedder else {}
        run_embed_job(job, ctx)  # one item per image, keyed image:<id>
    job.set_total(sum(key.startswith("image:") for key in job.finished_keys) + 1)
    job.check()
    ids, labels, confidence = predict_unlabelled(ctx, job.project_id, params)
    job.complete_item(
        KIND,
        lambda session: replace_suggestions(
            session=session,
            project_id=job.project_id,
            kind=KIND,
            segment_ids=ids,
            label_ids=labels,
            confidence=confidence,
        ),
    )


def predict_unlabelled(
    ctx: AppContext, project_id: int, params: PropagateParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(segment ids (M,), label ids (M,), confidence (M,)) for every unlabelled segment with a
    vector, predicted from the labelled segments' vectors; empty when either side is."""
    with ctx.db.read() as session:
        project = session.get(Project, project_id)
        embedder = params.embedder or (project.embedder if project else "")
        columns = int_columns(
            session,
            select(Segment.id, func.coalesce(Segment.label_class_id, 0)).where(
                Segment.project_id == project_id
            ),
            2,
        )
    store = ctx.vectors.existing(project_id, embedder)
    ids, labels = columns[:, 0], columns[:, 1]
    have = store.contains(ids) if store is not None and len(ids) else np.zeros(len(ids), bool)
    train, query = have & (labels > 0), have & (labels == 0)
    if store is None or not train.any() or not query.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    # float16 rows (2.5 GB at 1M x 1280); predict_labels normalises them a chunk at a time.
    found = predict_labels(
        store.get(ids[train]), labels[train], store.get(ids[query]), params.method
    )
    return ids[query], found.labels, found.confidence
