from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Health(BaseModel):
    status: str
    version: str
    versions: dict[str, str]
    segmenter: dict[str, Any]
