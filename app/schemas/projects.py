from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from app.schemas.common import ReadModel

ProjectName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ProjectCreate(BaseModel):
    name: ProjectName
    description: Annotated[str, StringConstraints(max_length=5000)] = ""


class ProjectUpdate(BaseModel):
    name: ProjectName | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None


class ProjectRead(ReadModel):
    id: int
    name: str
    description: str
    embedder: str
    created_at: datetime
    updated_at: datetime
    image_count: int = 0
    segment_count: int = 0
    labelled_count: int = 0


class ProjectList(BaseModel):
    items: list[ProjectRead]
    total: int
