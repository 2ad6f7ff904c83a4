from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

# SQLite integers are 64-bit signed: a larger id is a client error, not an overflow.
MAX_ID = 2**63 - 1
SegmentId = Annotated[int, Field(ge=1, le=MAX_ID)]


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Health(BaseModel):
    status: str
    version: str
    versions: dict[str, str]
    segmenter: dict[str, Any]
