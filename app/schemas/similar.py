from __future__ import annotations

from pydantic import BaseModel


class SimilarItem(BaseModel):
    segment_id: int
    image_id: int
    label_id: int | None
    # Cosine distance (1 - cosine similarity): 0 for the same direction, up to 2.
    distance: float


class SimilarList(BaseModel):
    segment_id: int
    embedder: str
    items: list[SimilarItem]
