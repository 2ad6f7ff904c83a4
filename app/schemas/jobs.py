from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.models import JobState
from app.schemas.common import ReadModel


class JobCreate(BaseModel):
    kind: str = Field(min_length=1, max_length=32)
    params: dict[str, Any] = {}


class JobCreated(BaseModel):
    id: int


class JobRead(ReadModel):
    id: int
    project_id: int
    kind: str
    params: dict[str, Any]
    state: JobState
    done: int
    total: int
    failed_items: int
    error: str | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobList(BaseModel):
    items: list[JobRead]


class JobItemRead(ReadModel):
    item_key: str
    ok: bool
    error: str | None


class JobItemList(BaseModel):
    items: list[JobItemRead]
    total: int
