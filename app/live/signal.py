"""Wake-ups between server processes that share one PostgreSQL database (LISTEN/NOTIFY).

Every process LISTENs on one channel in a thread; `publish()` (after a commit) NOTIFYs it,
and every other process's `on_signal` runs: live streams then look at the database, where
the news itself is (audit batches by id, suggestions, presence, job rows), so a lost or
merged notification costs only latency (streams still look every FALLBACK_POLL seconds).
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

CHANNEL = "lassolabel"
_RECONNECT_SECONDS = 1.0


def libpq_url(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://... as the plain postgresql:// URL libpq reads."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PgSignal:
    """`signal = PgSignal(url, on_signal); signal.start(); signal.publish(); signal.stop()`."""

    def __init__(self, sqlalchemy_url: str, on_signal: Callable[[], None]) -> None:
        self._url = libpq_url(sqlalchemy_url)
        self._on_signal = on_signal
        self._me = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"  # our own NOTIFYs come back too
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="pg-listen", daemon=True)
        self._sender: psycopg.Connection | None = None
        self._send_lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def publish(self) -> None:
        """Tell the other processes something changed; never raises (the poll covers a loss)."""
        with self._send_lock:
            try:
                if self._sender is None or self._sender.closed:
                    self._sender = psycopg.connect(self._url, autocommit=True)
                self._sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self._me))
            except psycopg.Error:
                log.warning("could not publish a change notification", exc_info=True)
                self._sender = None

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._on_signal()  # catch up on whatever happened while disconnected
                    while not self._stopping.is_set():
                        for note in connection.notifies(timeout=0.5):
                            if note.payload != self._me:
                                self._on_signal()
            except psycopg.Error:
                log.warning("lost the notification connection; reconnecting", exc_info=True)
                self._stopping.wait(_RECONNECT_SECONDS)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        with self._send_lock:
            if self._sender is not None:
                self._sender.close()
