"""The propagate job: embed what is missing, then store a suggested label for every
unlabelled segment that has a vector, predicted from the labelled ones."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Integer, cast, func, select

from app.columns import int_columns
from app.context import AppContext
from app.jobs.runner import JobContext
from app.models import Project, Segment
from app.pipeline.embed import run_embed_job
from app.similar.ann import normalise
from app.similar.parts import PART_CONFIDENCE, inherited_labels
from app.similar.propagate import fit_predictor
from app.similar.suggestions import replace_suggestions

KIND = "propagate"
# Confidence factor of suggestions learnt from labels nobody saw: below the usual 0.9
# accept-all threshold, so they wait for review.
UNSEEN_TRUST = 0.5


class PropagateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    embedder: str | None = Field(None, description="default: the project's embedder")
    method: Literal["auto", "knn", "logistic"] = "auto"
    seeds: Literal["confirmed", "all"] = Field(
        "confirmed",
        description="learn from labels a person saw (falls back to every label, at reduced "
        "confidence, until two classes are confirmed) or from every label",
    )
    parts: bool = Field(True, description="parts inherit the confirmed label of their whole")
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
    """(segment ids (M,), label ids (M,), confidence (M,)) for the unlabelled segments:
    predicted from the labelled segments' vectors, or inherited from a confirmed whole."""
    with ctx.db.read() as session:
        project = session.get(Project, project_id)
        embedder = params.embedder or (project.embedder if project else "")
        columns = int_columns(
            session,
            select(
                Segment.id,
                func.coalesce(Segment.label_class_id, 0),
                cast(Segment.confirmed, Integer),
                func.coalesce(Segment.parent_id, 0),
            ).where(Segment.project_id == project_id),
            4,
        )
    store = ctx.vectors.existing(project_id, embedder)
    ids, labels, confirmed = columns[:, 0], columns[:, 1], columns[:, 2].astype(bool)
    have = store.contains(ids) if store is not None and len(ids) else np.zeros(len(ids), bool)
    train, trust = seed_rows(have & (labels > 0), confirmed, labels, params.seeds)
    query = have & (labels == 0)
    out, confidence = np.zeros(len(ids), np.int64), np.zeros(len(ids), np.float32)
    if store is not None and train.any() and query.any():
        fitted = fit_predictor(store.get(ids[train]), labels[train], params.method)
        # Query vectors are read a chunk at a time: all of them are 2.5 GB at 1M x 1280.
        at = np.flatnonzero(query)
        for start in range(0, len(at), fitted.chunk_rows):
            rows = at[start : start + fitted.chunk_rows]
            out[rows], confidence[rows] = fitted.predict(normalise(store.get(ids[rows])))
        confidence[at] *= trust
    if params.parts:
        whole = inherited_labels(ids, columns[:, 3], labels, confirmed)
        take = (labels == 0) & (whole > 0)
        out[take] = whole[take]
        confidence[take] = np.maximum(confidence[take], PART_CONFIDENCE)
    keep = out > 0
    return ids[keep], out[keep], confidence[keep]


def seed_rows(
    labelled: np.ndarray, confirmed: np.ndarray, labels: np.ndarray, seeds: str
) -> tuple[np.ndarray, float]:
    """(which rows to learn from (N,) bool, factor on the confidence). A lasso's unseen tail
    is often wrong with nothing to show it, so with seeds="confirmed" only labels a person
    saw are learnt from; until they span two classes every label is, and the suggestions'
    confidence says they rest on unseen labels."""
    seen = labelled & confirmed
    if seeds == "all" or len(np.unique(labels[seen])) >= 2:
        return (labelled if seeds == "all" else seen), 1.0
    return labelled, UNSEEN_TRUST
