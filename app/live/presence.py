"""Who is on which image: heartbeats with a time-to-live, and the soft lock they imply.

The first person to arrive on an image holds its soft lock until they leave or stop sending
heartbeats for `ttl` seconds; later arrivals are told who holds it (the UI warns them; nothing
is refused, the version checks keep the data correct either way). Visits live in the
database (table `presence`), so every server process on one database sees the same ones.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import Database
from app.models import PresenceVisit


class Presence:
    def __init__(self, db: Database, ttl: float) -> None:
        self.db = db
        self.ttl = ttl

    def beat(self, project_id: int, username: str, image_id: int | None) -> bool:
        """Record a heartbeat; True when what others see changed (arrival, move)."""
        try:
            return self._beat(project_id, username, image_id)
        except IntegrityError:  # the same person arrived through another process just now
            return self._beat(project_id, username, image_id)

    def _beat(self, project_id: int, username: str, image_id: int | None) -> bool:
        now = time.time()
        with self.db.write() as session:
            self._forget_lapsed(session, project_id, now)
            visit = session.get(PresenceVisit, (project_id, username), with_for_update=True)
            if visit is not None and visit.image_id == image_id:
                visit.seen_at = now
                return False
            if visit is None:
                session.add(PresenceVisit(project_id=project_id, username=username,
                                          image_id=image_id, arrived_at=now, seen_at=now))  # fmt: skip
            else:
                visit.image_id, visit.arrived_at, visit.seen_at = image_id, now, now
            return True

    def leave(self, project_id: int, username: str) -> bool:
        with self.db.write() as session:
            gone = delete(PresenceVisit).where(
                PresenceVisit.project_id == project_id, PresenceVisit.username == username
            )
            return bool(session.execute(gone).rowcount)  # type: ignore[attr-defined]

    def holder(self, project_id: int, image_id: int) -> str | None:
        """Who holds the soft lock on an image (the earliest live visitor), if anyone."""
        here = [v for v in self._live(project_id) if v.image_id == image_id]
        return here[0].username if here else None

    def snapshot(self, project_id: int) -> dict[str, Any]:
        """{"users": [{username, image_id}], "locks": {image_id: username}} of live visitors."""
        live = self._live(project_id)
        locks: dict[str, str] = {}
        for visit in live:
            if visit.image_id is not None:
                locks.setdefault(str(visit.image_id), visit.username)
        users = [{"username": v.username, "image_id": v.image_id} for v in live]
        return {"users": users, "locks": locks}

    def _forget_lapsed(self, session: Session, project_id: int, now: float) -> None:
        session.execute(
            delete(PresenceVisit).where(
                PresenceVisit.project_id == project_id, PresenceVisit.seen_at <= now - self.ttl
            )
        )

    def _live(self, project_id: int) -> list[PresenceVisit]:
        """Live visits, earliest arrival first."""
        query = (
            select(PresenceVisit)
            .where(
                PresenceVisit.project_id == project_id,
                PresenceVisit.seen_at > time.time() - self.ttl,
            )
            .order_by(PresenceVisit.arrived_at, PresenceVisit.username)
        )
        with self.db.read() as session:
            return list(session.scalars(query))
