from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.db import Database
from app.migrate import upgrade
from app.models import Project


@pytest.fixture
def db(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def test_pragmas(db: Database) -> None:
    with db.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_write_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as session:
        session.add(Project(name="x"))
        session.flush()
        raise RuntimeError("boom")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Project)) == 0


def test_concurrent_writers_and_a_second_process_connection(db: Database, tmp_path: Path) -> None:
    """Threads writing through the one write path, while another engine (like the CLI in a
    second process) also writes: no 'database is locked' reaches anyone."""
    other = Database(db.url)
    errors: list[BaseException] = []

    def writer(database: Database, prefix: str) -> None:
        try:
            for i in range(40):
                with database.write() as session:
                    session.add(Project(name=f"{prefix}-{i}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(db, f"t{n}")) for n in range(4)]
    threads.append(threading.Thread(target=writer, args=(other, "other")))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    assert errors == []
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Project)) == 200


def test_reader_not_blocked_by_open_write(db: Database) -> None:
    with db.write() as session:
        session.add(Project(name="pending"))
        session.flush()
        with db.read() as reader:  # WAL: readers see the last commit, without waiting
            assert reader.scalar(select(func.count()).select_from(Project)) == 0


def test_writes_reach_the_database_file_by_a_checkpoint_after_the_commit(
    db: Database, tmp_path: Path
) -> None:
    """SQLite's automatic checkpoint is off (it ran inside a commit): the checkpointer thread
    copies the WAL into the database file after the write returns."""
    with db.read() as session:
        assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
    database_file = tmp_path / "db.sqlite"
    before = database_file.stat().st_size
    with db.write() as session:
        session.add_all([Project(name=f"p{i}", description="x" * 2000) for i in range(200)])
    deadline = time.monotonic() + 60
    while database_file.stat().st_size == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert database_file.stat().st_size > before + 200 * 2000
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Project)) == 200
