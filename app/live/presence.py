"""Who is on which image: heartbeats with a time-to-live, and the soft lock they imply.

The first person to arrive on an image holds its soft lock until they leave or stop sending
heartbeats for `ttl` seconds; later arrivals are told who holds it (the UI warns them; nothing
is refused, the version checks keep the data correct either way).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class _Visit:
    username: str
    image_id: int | None
    arrived: float  # monotonic seconds; the earliest arrival on an image holds its lock
    seen: float


class Presence:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._visits: dict[int, dict[str, _Visit]] = {}
        self._lock = threading.Lock()

    def beat(self, project_id: int, username: str, image_id: int | None) -> bool:
        """Record a heartbeat; True when what others see changed (arrival, move)."""
        now = time.monotonic()
        with self._lock:
            visits = self._visits.setdefault(project_id, {})
            visit = visits.get(username)
            if visit is not None and visit.image_id == image_id and self._alive(visit, now):
                visit.seen = now
                return False
            visits[username] = _Visit(username, image_id, now, now)
            return True

    def leave(self, project_id: int, username: str) -> bool:
        with self._lock:
            return self._visits.get(project_id, {}).pop(username, None) is not None

    def holder(self, project_id: int, image_id: int) -> str | None:
        """Who holds the soft lock on an image (the earliest live visitor), if anyone."""
        here = [v for v in self._live(project_id) if v.image_id == image_id]
        return min(here, key=lambda v: v.arrived).username if here else None

    def snapshot(self, project_id: int) -> dict[str, Any]:
        """{"users": [{username, image_id}], "locks": {image_id: username}} of live visitors."""
        live = sorted(self._live(project_id), key=lambda v: v.arrived)
        locks: dict[str, str] = {}
        for visit in live:
            if visit.image_id is not None:
                locks.setdefault(str(visit.image_id), visit.username)
        users = [{"username": v.username, "image_id": v.image_id} for v in live]
        return {"users": users, "locks": locks}

    def _alive(self, visit: _Visit, now: float) -> bool:
        return now - visit.seen < self.ttl

    def _live(self, project_id: int) -> list[_Visit]:
        now = time.monotonic()
        with self._lock:
            visits = self._visits.get(project_id, {})
            for name in [n for n, v in visits.items() if not self._alive(v, now)]:
                del visits[name]
            return list(visits.values())
