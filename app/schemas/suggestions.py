from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from app.deps import MAX_ID

SegmentId = Annotated[int, Field(ge=1, le=MAX_ID)]


class SuggestionRead(BaseModel):
    segment_id: int
    label_id: int
    confidence: float
    kind: str


class SuggestionList(BaseModel):
    items: list[SuggestionRead]
    total: int


class AcceptRequest(BaseModel):
    """Either the segments whose suggestion to accept, or a confidence threshold (or both:
    the listed ones at or above it)."""

    segment_ids: Annotated[list[SegmentId], Field(min_length=1, max_length=10_000)] | None = None
    min_confidence: Annotated[float, Field(ge=0, le=1)] | None = None

    @model_validator(mode="after")
    def _one_selector(self) -> AcceptRequest:
        if self.segment_ids is None and self.min_confidence is None:
            raise ValueError("give segment_ids, min_confidence or both")
        return self


class AcceptReceipt(BaseModel):
    count: int
    batch_ids: list[int]
