"""Accounts (admins create or invite; there is no self-signup) and project membership."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from app.auth import accounts
from app.auth.scope import role_in_project
from app.auth.tokens import issue_token
from app.deps import ContextDep, IdPath, PrincipalDep, ProjectDep
from app.models import TokenKind
from app.schemas.auth import UserRead
from app.schemas.users import (
    MemberList,
    MemberRead,
    MemberSet,
    MyRole,
    UserCreate,
    UserCreated,
    UserList,
    UserUpdate,
)

router = APIRouter(tags=["users"])


@router.get("/api/users", response_model=UserList)
def list_users(ctx: ContextDep) -> UserList:
    with ctx.db.read() as session:
        return UserList(items=[UserRead.model_validate(u) for u in accounts.list_users(session)])


@router.post("/api/users", response_model=UserCreated, status_code=201)
def create_user(ctx: ContextDep, body: UserCreate) -> UserCreated:
    """Create an account with a password, or (no password) get a one-time invite link."""
    with ctx.db.write() as session:
        user = accounts.create_user(
            session, username=body.username, role=body.role, password=body.password
        )
        invite_url = _invite(ctx, session, user.id) if body.password is None else None
        return UserCreated(**UserRead.model_validate(user).model_dump(), invite_url=invite_url)


def _invite(ctx: ContextDep, session: Session, user_id: int) -> str:
    ttl = timedelta(days=ctx.settings.invite_days)
    return f"/login?invite={issue_token(session, user_id=user_id, kind=TokenKind.invite, ttl=ttl)}"


@router.post("/api/users/{user_id}/invite", response_model=UserCreated)
def reset_by_invite(ctx: ContextDep, user_id: IdPath) -> UserCreated:
    """Reset an account: its password stops working, its sessions end, a new invite link."""
    with ctx.db.write() as session:
        user = accounts.reset_to_invite(session, user_id)
        invite_url = _invite(ctx, session, user.id)
        return UserCreated(**UserRead.model_validate(user).model_dump(), invite_url=invite_url)


@router.patch("/api/users/{user_id}", response_model=UserRead)
def update_user(ctx: ContextDep, user_id: IdPath, body: UserUpdate) -> UserRead:
    """Change role, (de)activate, or reset the password; the last two sign the user out."""
    with ctx.db.write() as session:
        user = accounts.update_user(
            session, user_id, role=body.role, is_active=body.is_active, password=body.password
        )
        return UserRead.model_validate(user)


@router.get("/api/projects/{project_id}/members", response_model=MemberList)
def list_members(ctx: ContextDep, project: ProjectDep) -> MemberList:
    with ctx.db.read() as session:
        rows = accounts.list_members(session, project.id)
    return MemberList(
        items=[MemberRead(user_id=u.id, username=u.username, role=m.role) for m, u in rows]
    )


@router.get("/api/projects/{project_id}/me", response_model=MyRole)
def my_role(ctx: ContextDep, project: ProjectDep, principal: PrincipalDep) -> MyRole:
    """Your effective role in this project (what the pages enable for you)."""
    with ctx.db.read() as session:
        return MyRole(
            username=principal.username, role=role_in_project(session, principal, project.id)
        )


@router.put("/api/projects/{project_id}/members/{user_id}", response_model=MemberRead)
def set_member(
    ctx: ContextDep, project: ProjectDep, user_id: IdPath, body: MemberSet
) -> MemberRead:
    """Add a user to the project (or change their role in it)."""
    with ctx.db.write() as session:
        member = accounts.set_member(
            session, project_id=project.id, user_id=user_id, role=body.role
        )
        user = accounts.get_user(session, user_id)
        return MemberRead(user_id=user.id, username=user.username, role=member.role)


@router.delete(
    "/api/projects/{project_id}/members/{user_id}", status_code=204, response_class=Response
)
def remove_member(ctx: ContextDep, project: ProjectDep, user_id: IdPath) -> Response:
    with ctx.db.write() as session:
        accounts.remove_member(session, project_id=project.id, user_id=user_id)
    return Response(status_code=204)
