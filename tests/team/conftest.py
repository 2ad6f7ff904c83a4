"""Team fixtures: accounts made directly in the database, a real server with auth required.
Team tests run on both databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.auth import accounts
from app.auth.tokens import issue_token
from app.config import Settings
from app.db import Database
from app.main import create_app
from app.migrate import upgrade
from app.models import Role, Segment, SegmentSource, TokenKind
from tests.fixtures.placeholders import PLACEHOLDER_MASK
from tests.fixtures.settings import make_settings
from tests.postgres import BACKENDS, both_backends, database_for  # noqa: F401  (`backend`)
from tests.server_process import ServerProcess

SERVER_ENV = {
    "LASSOLABEL_AUTH": "required",
    "LASSOLABEL_SEED_DEMO": "false",
    "LASSOLABEL_SEGMENTER": "classic",
    "LASSOLABEL_ALLOWED_HOSTS": "[]",
    "LASSOLABEL_TORCH_THREADS": "1",
}


def database(data_dir: Path, url: str | None = None) -> Database:
    """The server's database (`url`, else the data directory's SQLite file), migrated, for
    setting up rows directly."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url = url or f"sqlite:///{data_dir / 'lassolabel.db'}"
    upgrade(url)
    return Database(url)


def server_env(database_url: str | None) -> dict[str, str]:
    """SERVER_ENV for a server on `database_url` (None: the data directory's SQLite file)."""
    return {**SERVER_ENV, **({"LASSOLABEL_DATABASE_URL": database_url} if database_url else {})}


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A module-wide database on each backend (for module-scoped servers)."""
    with database_for(request.param, request) as url:
        yield url


def make_user(db: Database, username: str, role: Role, password: str | None = None) -> int:
    with db.write() as session:
        return accounts.create_user(session, username=username, role=role, password=password).id


def api_token(db: Database, user_id: int) -> str:
    with db.write() as session:
        return issue_token(session, user_id=user_id, kind=TokenKind.api, ttl=None)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_segments(
    db: Database, project_id: int, image_id: int, count: int, **fields: object
) -> list[int]:
    """Insert placeholder segments in one transaction (labelling needs rows, not masks);
    `fields` set other columns (label_class_id, parent_id, ...)."""
    with db.write() as session:
        rows = [
            Segment(
                project_id=project_id,
                image_id=image_id,
                source=SegmentSource.auto,
                **PLACEHOLDER_MASK,
                **fields,
            )
            for _ in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


@pytest.fixture
def team_settings(tmp_path: Path, database_url: str | None) -> Settings:
    return make_settings(
        tmp_path / "data", database_url=database_url, auth="required", segmenter="classic"
    )


@pytest.fixture
def team_client(team_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(team_settings)) as client:
        yield client


@pytest.fixture
def admin_token(tmp_path: Path, database_url: str | None) -> str:
    db = database(tmp_path / "data", database_url)
    token = api_token(db, make_user(db, "admin", Role.admin, "admin-password"))
    db.dispose()
    return token


@pytest.fixture
def team_server(
    tmp_path: Path, admin_token: str, database_url: str | None
) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env=server_env(database_url)) as server:
        yield server


@pytest.fixture
def admin_http(team_server: ServerProcess, admin_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=team_server.url, headers=bearer(admin_token), timeout=30) as c:
        yield c
