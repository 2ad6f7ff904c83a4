"""Whether a project's suggestions changed: a fingerprint for the event stream.

count, max id and total confidence of the project's rows come from the covering index
ix_suggestions_project_confidence (SQLite secondary indexes carry the rowid): a job's rewrite
raises the max id, a reject lowers the count, an exemplar re-run's in-place upgrade raises the
confidence total. That scan costs ~0.1 s per million suggestions, so every open stream of a
project shares one answer: recomputed when the app's change token moved (at most every
`min_gap` seconds), else, every `max_age` seconds, only when the table's newest id moved (an
O(log n) probe: a writer in another process, the CLI, adds rows without moving the token).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import func, select

from app.db import Database
from app.models import Suggestion


@dataclass(frozen=True)
class SuggestionState:
    count: int
    latest: int  # the project's newest suggestion id (0: none)
    confidence_total: float

    def public(self) -> dict[str, Any]:
        """The `suggestions` event's data: {count, latest}."""
        return {"count": self.count, "latest": self.latest}


class _Cached(NamedTuple):
    token: object
    at: float  # monotonic seconds of the last look
    newest: int  # the table's newest id at that look, any project
    state: SuggestionState


def suggestion_state(db: Database, project_id: int) -> SuggestionState:
    confidence = func.coalesce(func.sum(Suggestion.confidence), 0.0)
    query = select(func.count(), func.max(Suggestion.id), confidence).where(
        Suggestion.project_id == project_id
    )
    with db.read() as session:
        count, latest, total = session.execute(query).one()
    return SuggestionState(count, latest or 0, float(total))


def newest_suggestion_id(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.max(Suggestion.id))) or 0


class SuggestionWatch:
    """Per project, the last SuggestionState and when it was looked at."""

    def __init__(self, max_age: float, min_gap: float = 0.5) -> None:
        self.max_age = max_age
        self.min_gap = min_gap
        self._cache: dict[int, _Cached] = {}
        self._lock = threading.Lock()

    def state(self, db: Database, project_id: int, token: object) -> SuggestionState:
        """The project's state as of `token` (any value that changes when this process wrote
        something). Blocking (one or two queries at most): call it from a worker thread."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(project_id)
        if cached is not None:
            age = now - cached.at
            if cached.token != token and age < self.min_gap:
                return cached.state  # the next look after min_gap sees the new token
            if cached.token == token and age < self.max_age:
                return cached.state
        newest = newest_suggestion_id(db)
        if cached is not None and cached.token == token and cached.newest == newest:
            state = cached.state
        else:
            state = suggestion_state(db, project_id)
        with self._lock:
            self._cache[project_id] = _Cached(token, now, newest, state)
        return state
