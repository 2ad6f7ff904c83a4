from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from app.schemas.common import SegmentId


class AssignRequest(BaseModel):
    segment_ids: Annotated[list[SegmentId], Field(min_length=1, max_length=2_000_000)]
    label_id: SegmentId | None
    # segment id -> the version the client saw; a stale one fails the whole batch with 409.
    expected_versions: dict[SegmentId, int] | None = None
    # The ones the person saw in the gallery: their labels are confirmed (trusted by
    # propagation and skipped by the review queue); the rest of the selection is not.
    seen_ids: Annotated[list[SegmentId], Field(max_length=2_000_000)] = []


class AssignResult(BaseModel):
    count: int


class MapPoint(BaseModel):
    segment_id: int
    x: float
    y: float
    label_id: int | None
    version: int  # send it back in an assign's expected_versions


class MapJson(BaseModel):
    header: dict[str, Any]
    points: list[MapPoint]


class LabelCount(BaseModel):
    label_id: int
    name: str
    color: str
    count: int


class ProjectStats(BaseModel):
    """Labelling progress: every segment of the project, placed on the map or not."""

    segments_total: int
    labelled: int
    unlabelled: int
    per_label: list[LabelCount]
