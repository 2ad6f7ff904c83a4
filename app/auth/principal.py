"""Who is making a request, and what their role allows."""

from __future__ import annotations

from dataclasses import dataclass

from app.history.audit import Actor
from app.models import Role

# Higher rank includes the lower ones.
RANK = {Role.viewer: 0, Role.annotator: 1, Role.admin: 2}


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    username: str
    role: Role
    # Set only when the request was authenticated by the session cookie (so CSRF applies).
    session_hash: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def actor(self) -> Actor:
        """This principal as the history records it."""
        return Actor(self.user_id, self.username)


# Single-user mode (LASSOLABEL_AUTH=none): every request acts as this local administrator.
LOCAL_ADMIN = Principal(user_id=None, username="local", role=Role.admin)


def weaker(a: Role, b: Role) -> Role:
    return a if RANK[a] <= RANK[b] else b
