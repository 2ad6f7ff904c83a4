from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, computed_field, field_validator

from app.models import JobState
from app.schemas.common import ReadModel

# Earlier job kind names the API still accepts.
KIND_ALIASES = {"project": "projection"}


class JobCreate(BaseModel):
    kind: str = Field(min_length=1, max_length=32)
    params: dict[str, Any] = {}

    @field_validator("kind")
    @classmethod
    def _current_name(cls, kind: str) -> str:
        return KIND_ALIASES.get(kind, kind)


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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_seconds(self) -> float | None:
        """How long it ran: start to finish, or to now while running (None before it starts)."""
        if not self.started_at:
            return None
        end = self.finished_at or datetime.now(UTC)
        return max(0.0, (end - self.started_at).total_seconds())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def eta_seconds(self) -> float | None:
        """Remaining seconds at the average pace so far (None until something is done)."""
        if self.state.finished or not self.started_at or self.done <= 0 or self.total <= 0:
            return None
        elapsed = (datetime.now(UTC) - self.started_at).total_seconds()
        return max(0.0, elapsed / self.done * (self.total - self.done))


class JobList(BaseModel):
    items: list[JobRead]


class JobItemRead(ReadModel):
    item_key: str
    ok: bool
    error: str | None


class JobItemList(BaseModel):
    items: list[JobItemRead]
    total: int
