"""Requests and responses of the inference routes (/predict, /prefetch, candidate picks).

Coordinates are canonical image pixels, XY; boxes XYXY; bbox in a response is COCO XYWH.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, FiniteFloat, model_validator

from app.schemas.segments import RleBody

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


class PrefetchAccepted(BaseModel):
    image_id: int
    prefetch: list[int]  # the neighbouring images queued for encoding


class CandidatePicksRead(BaseModel):
    """What the in-page decoder needs to rank one-click candidates as /predict does
    (app/inference/candidates.py): predicted IoU + weight * log(share of the token's picks)."""

    weight: float
    counts: list[int]  # saved segments per SAM mask token, index 0..3
