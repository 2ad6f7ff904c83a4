from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from app.schemas.common import SegmentId

SegmentIds = Annotated[list[SegmentId], Field(min_length=1, max_length=10_000)]
# The predictor that made a suggestion: "propagate" or "exemplar".
Kind = Annotated[str, Field(min_length=1, max_length=16)]


class SuggestionRead(BaseModel):
    segment_id: int
    image_id: int
    label_id: int
    confidence: float
    kind: str


class SuggestionList(BaseModel):
    items: list[SuggestionRead]
    total: int  # suggestions matching (pages through items)
    segments: int  # distinct segments among them: what accepting them all would label


class SuggestionMap(BaseModel):
    """The best suggestion of every still-unlabelled segment, as parallel columns (compact
    enough for 100k points): segment ids ascending, label ids, confidence in [0, 1]."""

    segment_ids: list[int]
    label_ids: list[int]
    confidence: list[float]


class AcceptRequest(BaseModel):
    """Either the segments whose suggestion to accept, or a confidence threshold (or both:
    the listed ones at or above it); `kind` limits it to one predictor's suggestions."""

    segment_ids: SegmentIds | None = None
    min_confidence: Annotated[float, Field(ge=0, le=1)] | None = None
    kind: Kind | None = None

    @model_validator(mode="after")
    def _one_selector(self) -> AcceptRequest:
        if self.segment_ids is None and self.min_confidence is None:
            raise ValueError("give segment_ids, min_confidence or both")
        return self


class AcceptReceipt(BaseModel):
    count: int
    batch_ids: list[int]


class RejectRequest(BaseModel):
    """Dismiss these segments' suggestions (only those of `kind` when given)."""

    segment_ids: SegmentIds
    kind: Kind | None = None


class RejectReceipt(BaseModel):
    dismissed: int  # suggestion rows deleted
    deleted_segments: list[int]  # exemplar proposals deleted with their last suggestion
