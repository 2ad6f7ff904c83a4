"""Bearer tokens in the database: sessions, API tokens and invites (hashes only at rest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.auth.keys import hash_token, new_token
from app.auth.principal import Principal
from app.errors import NotFound
from app.models import AuthToken, TokenKind, User


def issue_token(
    session: Session, *, user_id: int, kind: TokenKind, name: str = "", ttl: timedelta | None
) -> str:
    """Store a new token's hash; returns the token itself (shown once, never stored)."""
    token = new_token(kind.value)
    expires = datetime.now(UTC) + ttl if ttl is not None else None
    session.add(
        AuthToken(
            user_id=user_id, kind=kind, token_hash=hash_token(token), name=name, expires_at=expires
        )
    )
    session.flush()
    return token


def find_token(session: Session, token: str, kind: TokenKind) -> tuple[AuthToken, User] | None:
    """The live token row and its active user, or None (unknown, expired or user disabled)."""
    query = (
        select(AuthToken, User)
        .join(User, User.id == AuthToken.user_id)
        .where(AuthToken.token_hash == hash_token(token), AuthToken.kind == kind)
    )
    row = session.execute(query).first()
    if row is None:
        return None
    found, user = row
    expired = found.expires_at is not None and found.expires_at <= datetime.now(UTC)
    return None if expired or not user.is_active else (found, user)


def principal_for(session: Session, token: str, kind: TokenKind) -> Principal | None:
    found = find_token(session, token, kind)
    if found is None:
        return None
    row, user = found
    session_hash = row.token_hash if kind == TokenKind.session else None
    return Principal(user.id, user.username, user.role, session_hash)


def revoke_token_hash(session: Session, token_hash: str) -> None:
    session.execute(delete(AuthToken).where(AuthToken.token_hash == token_hash))


def list_api_tokens(session: Session, user_id: int) -> list[AuthToken]:
    query = select(AuthToken).where(AuthToken.user_id == user_id, AuthToken.kind == TokenKind.api)
    return list(session.scalars(query.order_by(AuthToken.id)))


def delete_api_token(session: Session, *, user_id: int, token_id: int) -> None:
    """Only the owner's own API tokens; another user's id answers NotFound."""
    deleted = session.execute(
        delete(AuthToken).where(
            AuthToken.id == token_id,
            AuthToken.user_id == user_id,
            AuthToken.kind == TokenKind.api,
        )
    )
    if not deleted.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"token {token_id} not found")


def revoke_all(session: Session, user_id: int) -> None:
    """Sign a user out everywhere (on password change or deactivation)."""
    session.execute(
        delete(AuthToken).where(AuthToken.user_id == user_id, AuthToken.kind != TokenKind.api)
    )
