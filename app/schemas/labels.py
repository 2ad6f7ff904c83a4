from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

from app.schemas.common import ReadModel

Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Hotkey = Annotated[int, Field(ge=1, le=9)]


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValueError("label name must not be blank")
    if any(ord(ch) < 32 for ch in name):
        raise ValueError("label name must not contain control characters")
    return name


class LabelCreate(BaseModel):
    """A label class. The name is plain text: the UI never renders it as HTML."""

    name: Annotated[str, StringConstraints(max_length=100)]
    color: Color | None = None
    hotkey: Hotkey | None = None

    _name = field_validator("name")(_clean_name)


class LabelUpdate(BaseModel):
    name: Annotated[str, StringConstraints(max_length=100)] | None = None
    color: Color | None = None
    hotkey: Hotkey | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, name: str | None) -> str | None:
        return None if name is None else _clean_name(name)


class LabelRead(ReadModel):
    id: int
    project_id: int
    name: str
    color: str
    hotkey: int | None


class LabelList(BaseModel):
    items: list[LabelRead]
