from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models import Role

Username = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
Password = Annotated[str, Field(min_length=1, max_length=1024)]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    is_active: bool
    created_at: datetime


class Me(BaseModel):
    id: int | None  # None for the implicit local user (LASSOLABEL_AUTH=none)
    username: str
    role: Role


class AuthStatus(BaseModel):
    auth: Literal["required", "none"]
    user: Me | None
    setup_required: bool
    # Send it back as the X-CSRF-Token header on POST/PUT/PATCH/DELETE (also in a cookie).
    csrf_token: str | None


class LoginRequest(BaseModel):
    username: str = Field(max_length=64)
    password: Password


class SetupRequest(BaseModel):
    token: str = Field(max_length=200)
    username: Username
    password: Password


class InviteAccept(BaseModel):
    token: str = Field(max_length=200)
    password: Password


class PasswordChange(BaseModel):
    current_password: Password
    new_password: Password


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None


class TokenCreated(TokenRead):
    token: str  # shown once; only its hash is stored


class TokenList(BaseModel):
    items: list[TokenRead]
