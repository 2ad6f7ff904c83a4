"""The database: one engine, reads in plain transactions, writes through one write path.

SQLite rules (Datasette-style): WAL so readers never block on the writer, busy_timeout so a
second process waits instead of failing, foreign keys on, and every write transaction starts
with BEGIN IMMEDIATE (taking the write lock up front, so SQLITE_BUSY cannot surface in the
middle of a transaction where it cannot be retried). Inside this process a lock serialises
writers, so the busy timeout only matters against other processes (the CLI).

PostgreSQL (`postgresql+psycopg://`) takes concurrent writers from several processes: there
is no process lock, and the write path's checks take row locks (`SELECT ... FOR UPDATE`,
which SQLite's compiler leaves out) so two writers racing on the same rows serialise.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
_WRITE_OPTION = "lassolabel_write"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_db_engine(url: str, **engine_options: Any) -> Engine:
    """An engine for `url`; SQLite files get WAL, busy_timeout, foreign keys, BEGIN IMMEDIATE."""
    sqlite = is_sqlite(url)
    if sqlite:
        engine_options.setdefault(
            "connect_args", {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        )
    engine = create_engine(url, pool_pre_ping=not sqlite, **engine_options)
    if sqlite:
        _configure_sqlite(engine)
    return engine


class Database:
    """Owns the engine. `read()` for queries, `write()` for the write path."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self.dialect = self.engine.dialect.name
        write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        self._read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(bind=write_engine, expire_on_commit=False)
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if self.dialect == "sqlite" else nullcontext()
        )
        self._checkpointer = _Checkpointer(self.engine) if self.dialect == "sqlite" else None

    @property
    def shared(self) -> bool:
        """True when several server processes may share this database (not SQLite)."""
        return self.dialect != "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing written through it is committed."""
        with self._read_sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction (BEGIN IMMEDIATE on SQLite): committed on
        success, else rolled back."""
        with self._write_lock, self._write_sessions.begin() as session:
            yield session
        if self._checkpointer is not None:
            self._checkpointer.wake()

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()


class _Checkpointer:
    """Copies SQLite's WAL back into the database file on its own thread after each write.

    SQLite's automatic checkpoint (off on this engine's connections) runs inside the commit
    that crosses its threshold: ~0.7 s of a 1M-segment assign's commit went to copying its
    220 MB of WAL. Here the commit returns first. PASSIVE: never blocks a reader or writer.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._woken = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

        @event.listens_for(engine, "connect")
        def _no_automatic_checkpoint(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

    def wake(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(
                    target=self._run, name="sqlite-checkpoint", daemon=True
                )
                self._thread.start()
        self._woken.set()

    def stop(self) -> None:
        with self._start_lock:
            self._stopping = True
            thread = self._thread
        self._woken.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            self._woken.wait()
            self._woken.clear()
            if self._stopping:
                return
            connection = self._engine.raw_connection()
            try:
                connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").close()
            except Exception:  # noqa: BLE001 (a failed checkpoint is retried after the next write)
                log.exception("WAL checkpoint failed")
            finally:
                connection.close()
