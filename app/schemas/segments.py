from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from app.models import Segment


class RleBody(BaseModel):
    """COCO RLE in canonical image pixels: counts as the compact string or a list of runs."""

    size: list[int]
    counts: str | list[int]


class SegmentCreate(BaseModel):
    """`candidate_token`: the SAM multimask token (1..3) of the one-click candidate this mask
    came from, when the page decoded the candidates itself (app/inference/candidates.py)."""

    rle: RleBody | None = None
    mask_handle: str | None = Field(default=None, max_length=64)
    label_id: int | None = Field(default=None, ge=1)
    candidate_token: int | None = Field(default=None, ge=1, le=3)

    @model_validator(mode="after")
    def _one_mask(self) -> SegmentCreate:
        if (self.rle is None) == (self.mask_handle is None):
            raise ValueError("give exactly one of rle or mask_handle")
        return self


Coordinate = Annotated[float, Field(allow_inf_nan=False, ge=-1e6, le=1e6)]
Ring = Annotated[list[tuple[Coordinate, Coordinate]], Field(min_length=3, max_length=20_000)]


class SegmentUpdate(BaseModel):
    """Only the fields sent change; `label_id: null` clears the label. A new mask is either
    `rle` or `polygon`: rings of (X, Y) pixel-edge points, filled even-odd (a ring inside a
    ring is a hole), rasterised by the server."""

    label_id: int | None = Field(default=None, ge=1)
    rle: RleBody | None = None
    polygon: list[Ring] | None = Field(default=None, min_length=1, max_length=2_000)
    version: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_mask(self) -> SegmentUpdate:
        if self.rle is not None and self.polygon is not None:
            raise ValueError("give rle or polygon, not both")
        return self


class SegmentPolygon(BaseModel):
    """A segment's mask as rings (see SegmentUpdate.polygon), simplified within `tolerance` px."""

    segment_id: int
    version: int
    tolerance: float
    fill_rule: str = "evenodd"
    rings: list[list[tuple[float, float]]]


class SegmentMerge(BaseModel):
    """Merge segment `other_id` into the one in the path (same image); `versions` maps either
    id to the version the client saw (a stale one is a 409)."""

    other_id: int = Field(ge=1)
    versions: dict[int, Annotated[int, Field(ge=1)]] | None = None


class SegmentSplit(BaseModel):
    """Cut along a polyline of (X, Y) canonical image pixels."""

    line: list[tuple[float, float]] = Field(min_length=2, max_length=2000)
    version: int | None = Field(default=None, ge=1)


class SegmentRead(BaseModel):
    id: int
    image_id: int
    rle: RleBody
    bbox: list[float]
    area: int
    source: str
    score: float | None
    predicted_iou: float | None
    stability_score: float | None
    parent_id: int | None
    label_id: int | None
    confirmed: bool  # the label was seen by a person, not only given in bulk
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, segment: Segment) -> SegmentRead:
        return cls(
            id=segment.id,
            image_id=segment.image_id,
            rle=RleBody(**segment.rle),
            bbox=segment.bbox,
            area=segment.area,
            source=segment.source.value,
            score=segment.score,
            predicted_iou=segment.predicted_iou,
            stability_score=segment.stability_score,
            parent_id=segment.parent_id,
            label_id=segment.label_class_id,
            confirmed=bool(segment.confirmed),
            version=segment.version,
            updated_at=segment.updated_at,
        )


class SegmentDetail(SegmentRead):
    """One segment with what a hover card shows: its image's name and size."""

    image_filename: str
    image_width: int
    image_height: int


class SegmentList(BaseModel):
    segments: list[SegmentRead]
