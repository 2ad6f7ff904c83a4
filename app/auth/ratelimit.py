"""Login rate limit: failed attempts per key in a sliding window, in memory."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from starlette.exceptions import HTTPException


class FailureLimiter:
    """Refuses a key (429) after `limit` failures within `window` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                recent = self._prune(key, now)
                if len(recent) >= self.limit:
                    retry = int(recent[0] + self.window - now) + 1
                    raise HTTPException(
                        429, "too many failed logins; try again later", {"Retry-After": str(retry)}
                    )

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._failures[key].append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        recent = self._failures[key]
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent
