from __future__ import annotations

from pydantic import BaseModel

from app.models import Role
from app.schemas.auth import Password, Username, UserRead


class UserCreate(BaseModel):
    username: Username
    role: Role = Role.annotator
    # Without a password the answer carries a one-time invite link instead.
    password: Password | None = None


class UserCreated(UserRead):
    invite_url: str | None = None


class UserUpdate(BaseModel):
    role: Role | None = None
    is_active: bool | None = None
    password: Password | None = None


class UserList(BaseModel):
    items: list[UserRead]


class MemberSet(BaseModel):
    role: Role = Role.annotator


class MemberRead(BaseModel):
    user_id: int
    username: str
    role: Role


class MemberList(BaseModel):
    items: list[MemberRead]


class MyRole(BaseModel):
    username: str
    role: Role
