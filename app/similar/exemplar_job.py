"""The exemplar job: from a few segments labelled with one class, propose that class's
objects in every other image (PerSAM prompting on cached SAM embeddings), as suggestions.

One job item per image, written with its proposals in one transaction (exactly once,
resumable, cancellable between images). Images are encoded only when their embedding is in
no cache, at background priority; an image is never encoded twice.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.context import AppContext
from app.errors import Conflict, Invalid
from app.inference.base import PreparedImage
from app.inference.queue import Priority
from app.inference.worker import InferenceWorker
from app.jobs.runner import JobContext, JobKind
from app.masks import decode_rle
from app.models import Image, LabelClass, Segment
from app.pipeline.segment import image_key, project_images
from app.pipeline.worker import image_loader
from app.similar.exemplar import Proposal, propose, target_feature
from app.similar.exemplar_store import store_proposals

DEFAULT_EXEMPLARS = 8
# bench/exemplar_min_score.py (MobileSAM, nuclei): 0.7 gives the best F1 of correct proposals;
# below it precision falls faster than recall rises.
DEFAULT_MIN_SCORE = 0.7
NEEDS_SAM = (
    "exemplar prompting needs a SAM checkpoint (it prompts SAM's decoder with SAM's image "
    "embeddings); the running segmenter is {name!r}: set LASSOLABEL_SAM_CHECKPOINT"
)


class ExemplarParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label_id: int = Field(ge=1, description="the class to find more of")
    exemplar_segment_ids: list[int] | None = Field(
        None,
        min_length=1,
        max_length=64,
        description=f"segments labelled label_id (default: the first {DEFAULT_EXEMPLARS})",
    )
    max_per_image: int = Field(1, ge=1, le=16, description="proposals per image, one per peak")
    min_score: float = Field(
        DEFAULT_MIN_SCORE,
        ge=0,
        le=1,
        description="drop proposals scored lower (predicted IoU x similarity)",
    )
    image_ids: list[int] | None = Field(None, description="only these images (default: all)")


def exemplar_kind(ctx: AppContext) -> JobKind:
    """The job kind, its params checked against the database and the model at creation."""

    class CheckedParams(ExemplarParams):
        @model_validator(mode="after")
        def _usable(self, info: ValidationInfo) -> CheckedParams:
            require_sam(ctx)
            project_id = (info.context or {}).get("project_id")
            with ctx.db.read() as session:
                label = session.get(LabelClass, self.label_id)
                if label is None or project_id not in (None, label.project_id):
                    raise Invalid(
                        f"label {self.label_id} not found in project {project_id}",
                        code="unknown_label",
                    )
                load_exemplars(session, label, self.exemplar_segment_ids)
            return self

    return JobKind(partial(run_exemplar_job, ctx=ctx), CheckedParams)


def require_sam(ctx: AppContext) -> InferenceWorker:
    """The worker, when it serves SAM; Conflict `needs_sam` for any other segmenter."""
    worker = ctx.require_model()
    if worker.segmenter_name != "sam":
        raise Conflict(NEEDS_SAM.format(name=worker.segmenter_name), code="needs_sam")
    return worker


def load_exemplars(session: Session, label: LabelClass, ids: list[int] | None) -> list[Segment]:
    """The exemplar segments: `ids` (each must carry the label), or the label's first
    DEFAULT_EXEMPLARS segments. Invalid when there are none or some do not qualify."""
    query = select(Segment).where(
        Segment.project_id == label.project_id, Segment.label_class_id == label.id
    )
    if ids is None:
        found = list(session.scalars(query.order_by(Segment.id).limit(DEFAULT_EXEMPLARS)))
        if not found:
            raise Invalid(
                f"no segment is labelled {label.name!r} yet: label one or more examples first",
                code="no_exemplars",
            )
        return found
    found = list(session.scalars(query.where(Segment.id.in_(ids))))
    missing = sorted(set(ids) - {s.id for s in found})
    if missing:
        raise Invalid(
            f"exemplar segments {missing} are not labelled {label.name!r} in this project",
            code="not_exemplars",
            detail={"segment_ids": missing},
        )
    return found


def run_exemplar_job(job: JobContext, ctx: AppContext) -> None:
    params = ExemplarParams.model_validate(job.params)
    worker = require_sam(ctx)
    label, exemplars, sources = _load_exemplars(ctx, job.project_id, params)
    target = _target(worker, ctx, exemplars, sources)

    def propose_in(image: Image) -> Callable[[Session], int]:
        # An exemplar's own image is only cleared: its prior peaks on the exemplar.
        found = [] if image.id in sources else _proposals(worker, ctx, image, target, params)
        return partial(store_proposals, image=image, label_id=label.id, proposals=found)

    job.for_each(project_images(ctx, job.project_id, params.image_ids), image_key, propose_in)


def _load_exemplars(
    ctx: AppContext, project_id: int, params: ExemplarParams
) -> tuple[LabelClass, list[Segment], dict[int, Image]]:
    """(label, exemplar segments, their images by id); Invalid if the label is gone."""
    with ctx.db.read() as session:
        label = session.get(LabelClass, params.label_id)
        if label is None or label.project_id != project_id:
            raise Invalid(f"label {params.label_id} not found in project {project_id}")
        exemplars = load_exemplars(session, label, params.exemplar_segment_ids)
        ids = {s.image_id for s in exemplars}
        images = session.scalars(select(Image).where(Image.id.in_(ids)))
        return label, exemplars, {image.id: image for image in images}


def _target(
    worker: InferenceWorker, ctx: AppContext, exemplars: list[Segment], images: dict[int, Image]
) -> np.ndarray:
    """(256,) unit target feature from the exemplars' cached image embeddings."""
    states = {i: _prepared(worker, ctx, image) for i, image in images.items()}
    masks = [decode_rle(s.rle) for s in exemplars]
    return target_feature([states[s.image_id] for s in exemplars], masks)


def _prepared(worker: InferenceWorker, ctx: AppContext, image: Image) -> PreparedImage:
    """The cached embedding (memory, then disk); encoded in the background only if absent."""
    return worker.prepare_blocking(image.sha256, image_loader(ctx, image), Priority.BACKGROUND)


def _proposals(
    worker: InferenceWorker,
    ctx: AppContext,
    image: Image,
    target: np.ndarray,
    params: ExemplarParams,
) -> list[Proposal]:
    state = _prepared(worker, ctx, image)
    found: list[Proposal] = worker.submit_call(
        lambda segmenter: propose(segmenter, state, target, params.max_per_image),
        Priority.BACKGROUND,
    ).result()
    return [p for p in found if p.score >= params.min_score]
