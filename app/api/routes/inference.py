"""Clicks to masks (/predict), prefetch, the cached image embedding, and what the in-page
decoder needs to rank candidates as /predict does.

Coordinates are canonical image pixels, XY; boxes XYXY. Masks travel once, as COCO RLE.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse

from app.context import AppContext
from app.deps import ContextDep, ImageDep, ProjectDep
from app.errors import Invalid, NotFound, ServiceUnavailable
from app.inference.base import InferenceOutOfMemory, ModelUnavailable, PredictedMask, Prompt
from app.inference.candidates import CandidatePicks
from app.inference.decoder_files import DECODER_GRAPH, graph_path
from app.inference.handles import HandleStore, MaskHandle
from app.inference.queue import Priority
from app.inference.worker import InferenceWorker, WorkerCrashed
from app.masks import encode_rle, mask_xywh
from app.models import Image
from app.pipeline.worker import image_loader
from app.schemas.inference import (
    CandidatePicksRead,
    MaskRead,
    PredictRequest,
    PredictResponse,
    PrefetchAccepted,
)
from app.schemas.segments import RleBody
from app.services.images import neighbour_ids

router = APIRouter(tags=["inference"])


def get_worker(ctx: ContextDep) -> InferenceWorker:
    return ctx.require_model()


WorkerDep = Annotated[InferenceWorker, Depends(get_worker)]


@router.post("/api/images/{image_id}/predict", response_model=PredictResponse)
async def predict(
    ctx: ContextDep, image: ImageDep, worker: WorkerDep, body: PredictRequest
) -> PredictResponse:
    """Masks for points and/or a box (and an optional previous mask), best first: by predicted
    IoU and the candidates this project's annotators kept before (candidates.py)."""
    handles = ctx.mask_handles
    prompt = _prompt(body, image, handles, worker.model_id)
    try:
        prediction = await worker.predict(image.sha256, image_loader(ctx, image), prompt)
    except (ModelUnavailable, InferenceOutOfMemory, WorkerCrashed) as exc:
        raise ServiceUnavailable(str(exc), code="inference_failed") from None
    if prediction.encode_ms > 50:  # the user opened a new image: warm up the next ones
        _prefetch_neighbours(ctx, worker, image)
    picks: CandidatePicks = ctx.candidate_picks
    chosen = picks.order(image.project_id, prediction.masks)
    masks = [
        _mask_read(m, image, worker.model_id, handles, _chain(m, chosen, prompt)) for m in chosen
    ]
    if body.box is None and body.mask_input is None:  # one-click candidates: learn the pick
        picks.offered(image.id, chosen, [m.rle.model_dump() for m in masks])
    timing = {"encode": round(prediction.encode_ms, 2), "decode": round(prediction.decode_ms, 2)}
    return PredictResponse(masks=masks, mask_input=masks[0].handle, timing_ms=timing)


@router.get("/api/projects/{project_id}/candidate-picks", response_model=CandidatePicksRead)
def candidate_picks(ctx: ContextDep, project: ProjectDep) -> CandidatePicksRead:
    """The project's kept one-click candidates per token, and the weight /predict ranks by."""
    picks = ctx.candidate_picks
    return CandidatePicksRead(weight=picks.weight, counts=picks.counts(project.id))


@router.post("/api/images/{image_id}/prefetch", response_model=PrefetchAccepted, status_code=202)
def prefetch(ctx: ContextDep, image: ImageDep, worker: WorkerDep) -> PrefetchAccepted:
    """Encode this image soon (it is being viewed) and the next images of its project later."""
    worker.submit_prepare(image.sha256, image_loader(ctx, image), Priority.ENCODE_INTERACTIVE)
    queued = _prefetch_neighbours(ctx, worker, image)
    return PrefetchAccepted(image_id=image.id, prefetch=queued)


@router.get("/api/images/{image_id}/embedding")
async def embedding(ctx: ContextDep, image: ImageDep, worker: WorkerDep) -> Response:
    """The image's SAM embedding: raw little-endian float16 bytes, shape in X-Embedding-Shape."""
    state = await worker.prepare(
        image.sha256, image_loader(ctx, image), Priority.ENCODE_INTERACTIVE
    )
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


@router.get("/api/models/{model_id}/decoder.onnx")
def decoder_onnx(
    ctx: ContextDep,
    worker: WorkerDep,
    model_id: str,
    request: Request,
    part: Literal["full", "image", "prompt"] = "full",
) -> Response:
    """The active model's prompt encoder + mask decoder as ONNX (app/inference/decoder.py I/O);
    part=image|prompt: the same decoder split at the image (split_decoder.py).

    Strong ETag (sha256 of the file) so browsers revalidate for free; 404 when this model
    is not the active one or has no export (the browser then falls back to /predict).
    """
    full = ctx.settings.models_dir / "onnx" / f"{worker.model_id}.{DECODER_GRAPH}.onnx"
    path = graph_path(full, part)
    if model_id != worker.model_id or not path.is_file():
        raise NotFound(f"no ONNX decoder for model {model_id!r}")
    stat = path.stat()
    etag = f'"{_file_sha256(path, stat.st_mtime_ns, stat.st_size)}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type="application/octet-stream", headers=headers)


@lru_cache(maxsize=8)
def _file_sha256(path: Path, mtime_ns: int, size: int) -> str:
    """Hex sha256 of a file; mtime and size are part of the cache key only."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _prompt(body: PredictRequest, image: Image, handles: HandleStore, model_id: str) -> Prompt:
    points = np.array(body.points, np.float32).reshape(-1, 2)
    box = np.array(body.box, np.float32) if body.box is not None else None
    corners = np.concatenate([points, box.reshape(2, 2)]) if box is not None else points
    if ((corners < 0) | (corners > [image.width, image.height])).any():
        raise Invalid(
            f"points and box must lie inside the image (0..{image.width}, 0..{image.height})"
        )
    entry = None
    if body.mask_input is not None:
        entry = handles.require(body.mask_input, "mask_input", image.id, model_id=model_id)
    return Prompt(
        points=points,
        point_labels=np.array(body.point_labels, np.int32),
        box=box,
        mask_input=None if entry is None else entry.low_res_logits[None],
        multimask=body.multimask,
        previous_score=None if entry is None else entry.score,
        candidate=None if entry is None else entry.candidate,
    )


def _chain(mask: PredictedMask, answer: list[PredictedMask], prompt: Prompt) -> int | None:
    """The candidate token a mask's refinements keep to (refinement.py): its own when it is
    one of several candidates, else that of the chain the prompt refined, if any."""
    return mask.token if len(answer) > 1 and mask.token > 0 else prompt.candidate


def _mask_read(
    mask: PredictedMask, image: Image, model_id: str, handles: HandleStore, candidate: int | None
) -> MaskRead:
    rle = encode_rle(mask.mask)
    entry = MaskHandle(image.id, model_id, mask.low_res_logits, rle, mask.score, candidate)
    handle = handles.add(entry)
    return MaskRead(
        rle=RleBody.model_validate(rle),
        area=int(np.count_nonzero(mask.mask)),
        score=mask.score,
        handle=handle,
        bbox=mask_xywh(mask.mask),
    )


def _prefetch_neighbours(ctx: AppContext, worker: InferenceWorker, image: Image) -> list[int]:
    count = ctx.settings.prefetch_ahead
    if count <= 0:
        return []
    with ctx.db.read() as session:
        ids = neighbour_ids(session, image, count)
        images = [session.get(Image, i) for i in ids]
    worker.prefetch((i.sha256, image_loader(ctx, i)) for i in images if i is not None)
    return ids
