"""LiveHub: a revision counter writers bump after commit, so streams wake without polling
the database, plus the presence table. One per app (AppContext.extras["live"])."""

from __future__ import annotations

import threading

from app.live.presence import Presence


class LiveHub:
    def __init__(self, presence_ttl: float) -> None:
        self.presence = Presence(presence_ttl)
        self.revision = 0
        self.closing = threading.Event()
        self._lock = threading.Lock()

    def notify(self) -> None:
        """Call after a label change or presence change committed."""
        with self._lock:
            self.revision += 1

    def close(self) -> None:
        self.closing.set()
