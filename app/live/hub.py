"""LiveHub: a revision counter writers bump after commit, so streams wake without polling
the database, plus the presence table and the suggestion watch. One per app
(AppContext.live). On PostgreSQL the bump also reaches the other server processes
(live/signal.py), whose streams then wake as if the write were theirs."""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.db import Database
from app.live.presence import Presence
from app.live.suggestions import SuggestionWatch

# Writers in other processes (the CLI) do not bump the hub: streams look at the database this
# often anyway.
FALLBACK_POLL = 1.0


class LiveHub:
    def __init__(self, db: Database, presence_ttl: float, inline_changes: int = 10_000) -> None:
        self.presence = Presence(db, presence_ttl)
        self.inline_changes = inline_changes  # Settings.live_inline_changes
        self.suggestions = SuggestionWatch(max_age=FALLBACK_POLL)
        self.revision = 0
        self.closing = threading.Event()
        self._lock = threading.Lock()
        # Tells the other processes that something changed (set by the app on PostgreSQL).
        self.publish: Callable[[], None] = lambda: None

    def notify(self) -> None:
        """Call after a label, suggestion or presence change committed."""
        self.bump()
        self.publish()

    def bump(self) -> None:
        """Wake this process's streams (no publishing)."""
        with self._lock:
            self.revision += 1

    def close(self) -> None:
        self.closing.set()
