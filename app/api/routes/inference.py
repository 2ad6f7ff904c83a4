"""Clicks to masks (/predict), prefetch and embeddings, and the segments of an image.

Coordinates are canonical image pixels, XY; boxes XYXY. Masks travel once, as COCO RLE.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field, FiniteFloat, model_validator

from app.context import AppContext
from app.deps import ContextDep, IdPath, ImageDep, PrincipalDep
from app.errors import Invalid, ServiceUnavailable
from app.inference.base import ModelUnavailable, Prompt
from app.inference.handles import HandleStore, MaskHandle
from app.inference.queue import Priority
from app.inference.sam import InferenceOutOfMemory
from app.inference.worker import InferenceWorker, WorkerCrashed
from app.masks import encode_rle, mask_bbox
from app.models import Image, SegmentSource
from app.services import segments as service
from app.services.images import neighbour_ids

router = APIRouter(tags=["inference"])

MAX_POINTS = 64
Point = tuple[FiniteFloat, FiniteFloat]


class PredictRequest(BaseModel):
    points: list[Point] = Field(default_factory=list, max_length=MAX_POINTS)
    point_labels: list[int] = Field(default_factory=list, max_length=MAX_POINTS)
    box: tuple[FiniteFloat, FiniteFloat, FiniteFloat, FiniteFloat] | None = None
    mask_input: str | None = Field(default=None, max_length=64)
    multimask: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> PredictRequest:
        if not self.points and self.box is None:
            raise ValueError("give at least one point or a box")
        if len(self.points) != len(self.point_labels):
            raise ValueError(f"{len(self.points)} points but {len(self.point_labels)} point_labels")
        if any(label not in (0, 1) for label in self.point_labels):
            raise ValueError("point_labels must be 1 (object) or 0 (background)")
        if self.box is not None and not (self.box[0] < self.box[2] and self.box[1] < self.box[3]):
            raise ValueError("box must be [x0, y0, x1, y1] with x0 < x1 and y0 < y1")
        return self


class RleBody(BaseModel):
    size: list[int]
    counts: str | list[int]


class MaskRead(BaseModel):
    rle: RleBody
    bbox: list[float]
    area: int
    score: float
    handle: str


class PredictResponse(BaseModel):
    masks: list[MaskRead]
    mask_input: str
    timing_ms: dict[str, float]


class SegmentCreate(BaseModel):
    rle: RleBody | None = None
    mask_handle: str | None = Field(default=None, max_length=64)
    label_id: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_mask(self) -> SegmentCreate:
        if (self.rle is None) == (self.mask_handle is None):
            raise ValueError("give exactly one of rle or mask_handle")
        return self


class SegmentUpdate(BaseModel):
    label_id: int | None = Field(default=None, ge=1)
    rle: RleBody | None = None
    version: int | None = Field(default=None, ge=1)


class SegmentRead(BaseModel):
    id: int
    image_id: int
    rle: RleBody
    bbox: list[float]
    area: int
    source: str
    score: float | None
    label_id: int | None
    version: int


class SegmentList(BaseModel):
    segments: list[SegmentRead]


def get_worker(ctx: ContextDep) -> InferenceWorker:
    worker = ctx.extras.get("inference")
    if worker is None or not worker.available:
        reason = worker.unavailable_reason if worker is not None else "no inference worker"
        raise ServiceUnavailable(reason, code="model_unavailable")
    return worker


WorkerDep = Annotated[InferenceWorker, Depends(get_worker)]


@router.post("/api/images/{image_id}/predict", response_model=PredictResponse)
async def predict(ctx: ContextDep, image: ImageDep, worker: WorkerDep, body: PredictRequest) -> Any:
    """Masks for points and/or a box (and an optional previous mask), best score first."""
    handles = _handles(ctx)
    prompt = _prompt(body, image, handles, worker.model_id)
    try:
        prediction = await worker.predict(image.sha256, _loader(ctx, image), prompt)
    except (ModelUnavailable, InferenceOutOfMemory, WorkerCrashed) as exc:
        raise ServiceUnavailable(str(exc), code="inference_failed") from None
    if prediction.encode_ms > 50:  # the user opened a new image: warm up the next ones
        _prefetch_neighbours(ctx, worker, image)
    masks = [_mask_read(m, image, worker.model_id, handles) for m in prediction.masks]
    timing = {"encode": round(prediction.encode_ms, 2), "decode": round(prediction.decode_ms, 2)}
    return {"masks": masks, "mask_input": masks[0]["handle"], "timing_ms": timing}


@router.post("/api/images/{image_id}/prefetch", status_code=202)
def prefetch(ctx: ContextDep, image: ImageDep, worker: WorkerDep) -> dict[str, Any]:
    """Encode this image soon (it is being viewed) and the next images of its project later."""
    worker.submit_prepare(image.sha256, _loader(ctx, image), Priority.ENCODE_INTERACTIVE)
    queued = _prefetch_neighbours(ctx, worker, image)
    return {"image_id": image.id, "prefetch": queued}


@router.get("/api/images/{image_id}/embedding")
async def embedding(ctx: ContextDep, image: ImageDep, worker: WorkerDep) -> Response:
    """The image's SAM embedding: raw little-endian float16 bytes, shape in X-Embedding-Shape."""
    state = await worker.prepare(image.sha256, _loader(ctx, image), Priority.ENCODE_INTERACTIVE)
    features = np.ascontiguousarray(state.arrays["features"], dtype="<f2")
    headers = {
        "X-Embedding-Shape": ",".join(str(n) for n in features.shape),
        "X-Embedding-Dtype": "float16",
        "X-Original-Size": f"{state.original_size[0]},{state.original_size[1]}",
        "X-Input-Size": f"{state.input_size[0]},{state.input_size[1]}",
        "X-Model-Id": state.model_id,
        "Cache-Control": "private, max-age=3600",
    }
    return Response(features.tobytes(), media_type="application/octet-stream", headers=headers)


@router.get("/api/images/{image_id}/segments", response_model=SegmentList)
def list_segments(ctx: ContextDep, image: ImageDep) -> Any:
    with ctx.db.read() as session:
        return {
            "segments": [
                _segment_read(s) for s in service.list_segments(session=session, image_id=image.id)
            ]
        }


@router.post("/api/images/{image_id}/segments", response_model=SegmentRead, status_code=201)
def create_segment(
    ctx: ContextDep, image: ImageDep, principal: PrincipalDep, body: SegmentCreate
) -> Any:
    """Save a mask given as an RLE or as the handle of a predicted mask."""
    score = None
    if body.mask_handle is not None:
        entry = _handles(ctx).get(body.mask_handle)
        if entry is None or entry.image_id != image.id:
            raise Invalid("mask_handle is unknown, expired or from another image; predict again")
        rle, score = entry.rle, entry.score
    else:
        assert body.rle is not None
        rle = body.rle.model_dump()
    with ctx.db.write() as session:
        segment = service.create_segment(
            session=session,
            image=image,
            rle=rle,
            label_id=body.label_id,
            source=SegmentSource.manual,
            score=score,
            user_id=principal.user_id,
        )
        return _segment_read(segment)


@router.patch("/api/segments/{segment_id}", response_model=SegmentRead)
def update_segment(
    ctx: ContextDep, segment_id: IdPath, principal: PrincipalDep, body: SegmentUpdate
) -> Any:
    """Change the label (null clears) and/or the mask; send `version` to refuse stale edits."""
    changes = body.model_dump(include=body.model_fields_set & {"label_id", "rle"})
    with ctx.db.write() as session:
        segment = service.update_segment(
            session=session,
            segment_id=segment_id,
            changes=changes,
            expected_version=body.version,
            user_id=principal.user_id,
            username=principal.username,
        )
        return _segment_read(segment)


@router.delete("/api/segments/{segment_id}", status_code=204)
def delete_segment(
    ctx: ContextDep, segment_id: IdPath, version: Annotated[int | None, Query(ge=1)] = None
) -> Response:
    with ctx.db.write() as session:
        service.delete_segment(session=session, segment_id=segment_id, expected_version=version)
    return Response(status_code=204)


def _handles(ctx: AppContext) -> HandleStore:
    return ctx.extras.setdefault("mask_handles", HandleStore())


def _loader(ctx: AppContext, image: Image):  # -> Callable[[], np.ndarray]
    stored_path = image.stored_path
    return lambda: ctx.files.load_array(stored_path)


def _prompt(body: PredictRequest, image: Image, handles: HandleStore, model_id: str) -> Prompt:
    points = np.array(body.points, np.float32).reshape(-1, 2)
    box = np.array(body.box, np.float32) if body.box is not None else None
    corners = np.concatenate([points, box.reshape(2, 2)]) if box is not None else points
    if ((corners < 0) | (corners > [image.width, image.height])).any():
        raise Invalid(
            f"points and box must lie inside the image (0..{image.width}, 0..{image.height})"
        )
    mask_input = None
    if body.mask_input is not None:
        entry = handles.get(body.mask_input)
        if entry is None or entry.image_id != image.id or entry.model_id != model_id:
            raise Invalid("mask_input is unknown, expired or from another image; predict again")
        mask_input = entry.low_res_logits[None]
    return Prompt(
        points=points,
        point_labels=np.array(body.point_labels, np.int32),
        box=box,
        mask_input=mask_input,
        multimask=body.multimask,
    )


def _mask_read(mask: Any, image: Image, model_id: str, handles: HandleStore) -> dict[str, Any]:
    rle = encode_rle(mask.mask)
    area = int(np.count_nonzero(mask.mask))
    handle = handles.add(MaskHandle(image.id, model_id, mask.low_res_logits, rle, mask.score))
    return {
        "rle": rle,
        "area": area,
        "score": mask.score,
        "handle": handle,
        "bbox": mask_bbox(mask.mask),
    }


def _prefetch_neighbours(ctx: AppContext, worker: InferenceWorker, image: Image) -> list[int]:
    count = ctx.settings.prefetch_ahead
    if count <= 0:
        return []
    with ctx.db.read() as session:
        ids = neighbour_ids(session, image, count)
        images = [session.get(Image, i) for i in ids]
    worker.prefetch((i.sha256, _loader(ctx, i)) for i in images if i is not None)
    return ids


def _segment_read(segment: Any) -> dict[str, Any]:
    return {
        "id": segment.id,
        "image_id": segment.image_id,
        "rle": segment.rle,
        "bbox": segment.bbox,
        "area": segment.area,
        "source": segment.source.value if hasattr(segment.source, "value") else segment.source,
        "score": segment.score,
        "label_id": segment.label_class_id,
        "version": segment.version,
    }
