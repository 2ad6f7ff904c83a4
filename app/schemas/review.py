from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from app.deps import MAX_ID

SegmentId = Annotated[int, Field(ge=1, le=MAX_ID)]


class DoubtRead(BaseModel):
    segment_id: int
    image_id: int
    label_id: int
    support: float | None  # share of confirmed neighbours agreeing; null: not checked yet


class ReviewList(BaseModel):
    items: list[DoubtRead]
    total: int  # labelled segments nobody has seen


class ConfirmRequest(BaseModel):
    """Segments whose labels the person has seen (a gallery page) and left as they are."""

    segment_ids: Annotated[list[SegmentId], Field(min_length=1, max_length=10_000)]


class ConfirmReceipt(BaseModel):
    count: int
