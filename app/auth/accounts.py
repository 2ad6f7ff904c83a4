"""User accounts and project membership: plain functions over a Session."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.auth.passwords import hash_password, verify_password
from app.auth.tokens import revoke_all
from app.errors import Conflict, NotFound
from app.models import ProjectMember, Role, User


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def has_admin(session: Session) -> bool:
    query = select(User.id).where(User.role == Role.admin, User.is_active.is_(True))
    return session.scalar(query.limit(1)) is not None


def create_user(
    session: Session, *, username: str, role: Role, password: str | None = None
) -> User:
    """A new account; without a password it can only be entered through an invite."""
    if find_user(session, username) is not None:
        raise Conflict(f"user {username!r} already exists", code="duplicate_username")
    user = User(
        username=username,
        role=role,
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    session.flush()
    return user


def check_password(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None (same cost either way)."""
    user = find_user(session, username)
    ok = verify_password(user.password_hash if user else None, password)
    return user if ok and user is not None and user.is_active else None


def update_user(
    session: Session,
    user_id: int,
    *,
    role: Role | None = None,
    is_active: bool | None = None,
    password: str | None = None,
) -> User:
    user = get_user(session, user_id)
    if role is not None:
        user.role = role
    if is_active is not None:
        user.is_active = is_active
    if password is not None:
        user.password_hash = hash_password(password)
    if password is not None or is_active is False:
        revoke_all(session, user.id)
    return user


def reset_to_invite(session: Session, user_id: int) -> User:
    """Forget the password and sign the user out everywhere: only a new invite lets them in."""
    user = get_user(session, user_id)
    user.password_hash = None
    revoke_all(session, user.id)
    return user


def list_members(session: Session, project_id: int) -> list[tuple[ProjectMember, User]]:
    query = (
        select(ProjectMember, User)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project_id)
        .order_by(User.username)
    )
    return [(member, user) for member, user in session.execute(query)]


def set_member(session: Session, *, project_id: int, user_id: int, role: Role) -> ProjectMember:
    get_user(session, user_id)
    member = session.get(ProjectMember, (project_id, user_id))
    if member is None:
        member = ProjectMember(project_id=project_id, user_id=user_id)
        session.add(member)
    member.role = role
    session.flush()
    return member


def remove_member(session: Session, *, project_id: int, user_id: int) -> None:
    removed = session.execute(
        delete(ProjectMember).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
        )
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"user {user_id} is not a member of project {project_id}")


def member_project_ids(session: Session, user_id: int) -> set[int]:
    query = select(ProjectMember.project_id).where(ProjectMember.user_id == user_id)
    return set(session.scalars(query))
