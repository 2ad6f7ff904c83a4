"""LiveHub: a revision counter writers bump after commit, so streams wake without polling
the database, plus the presence table and the suggestion watch. One per app
(AppContext.live)."""

from __future__ import annotations

import threading

from app.live.presence import Presence
from app.live.suggestions import SuggestionWatch

# Writers in other processes (the CLI) do not bump the hub: streams look at the database this
# often anyway.
FALLBACK_POLL = 1.0


class LiveHub:
    def __init__(self, presence_ttl: float) -> None:
        self.presence = Presence(presence_ttl)
        self.suggestions = SuggestionWatch(max_age=FALLBACK_POLL)
        self.revision = 0
        self.closing = threading.Event()
        self._lock = threading.Lock()

    def notify(self) -> None:
        """Call after a label, suggestion or presence change committed."""
        with self._lock:
            self.revision += 1

    def close(self) -> None:
        self.closing.set()
