from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from app.auth.principal import LOCAL_ADMIN
from app.db import Database, create_db_engine
from app.history.audit import batch_changes, replay
from app.history.undo import undo_batch
from app.migrate import alembic_config, upgrade
from app.models import AuditBlock, Base, Image, Job, LabelClass, Project, Segment, Suggestion
from tests.postgres import PostgresCluster, both_backends  # noqa: F401  (`backend` fixture)


def _project_with_image_and_label(db: Database) -> tuple[int, int, int]:
    """(project id, image id, label id) of a new project with one image and one label."""
    with db.write() as session:
        project = Project(name="p")
        session.add(project)
        session.flush()
        label = LabelClass(project_id=project.id, name="cat", color="#ff0000")
        image = Image(project_id=project.id, sha256="0" * 64, filename="a.png", width=4,
                      height=4, format="PNG", byte_size=1, stored_path="a.png")  # fmt: skip
        session.add_all([label, image])
        session.flush()
        return project.id, image.id, label.id


def _old_segment(db: Database, project_id: int, image_id: int, **fields: int | None) -> int:
    """A segment row in plain SQL: the ORM model has columns that old revisions lack."""
    row = {"project_id": project_id, "image_id": image_id, "rle_counts": "0", "height": 4,
           "width": 4, "bbox_x": 0, "bbox_y": 0, "bbox_w": 1, "bbox_h": 1, "area": 1,
           "source": "auto", "version": 1, "created_at": "2026-01-01 00:00:00.000000",
           "updated_at": "2026-01-01 00:00:00.000000", **fields}  # fmt: skip
    with db.write() as session:
        names = ", ".join(row)
        values = ", ".join(f":{name}" for name in row)
        insert = text(f"INSERT INTO segments ({names}) VALUES ({values}) RETURNING id")
        return int(session.execute(insert, row).scalar_one())


REVISIONS = sorted(
    p.stem.split("_")[0]
    for p in (Path(__file__).parents[2] / "migrations" / "versions").glob("0*.py")
)


@pytest.fixture
def url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database: a SQLite file, or a new PostgreSQL database with no tables."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    created = cluster.create_database(migrated=False)
    yield created
    cluster.drop_database(created)


def test_upgrade_from_empty_creates_every_table(url: str) -> None:
    upgrade(url)
    engine = create_db_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_models_and_migrations_agree(url: str) -> None:
    upgrade(url)
    engine = create_db_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models differ from migrations; run alembic revision --autogenerate: {diff}"


def test_upgrade_is_idempotent(url: str) -> None:
    upgrade(url)
    upgrade(url)


@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_upgrade_from_every_earlier_revision(url: str, revision: str) -> None:
    upgrade(url, revision)
    upgrade(url)
    engine = create_db_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_upgrade_keeps_rows_of_tables_it_rebuilds(url: str) -> None:
    """Batch mode rebuilds a table (copy, drop, rename): with foreign keys enforced, the drop
    would cascade into every table that references it. Labels and suggestions must survive."""
    upgrade(url, "0004")
    db = Database(url)
    project_id, image_id, label_id = _project_with_image_and_label(db)
    parent = _old_segment(db, project_id, image_id, label_class_id=label_id, parent_id=None)
    child = _old_segment(db, project_id, image_id, label_class_id=None, parent_id=parent)
    with db.write() as session:
        session.add(
            Suggestion(
                project_id=project_id,
                segment_id=child,
                kind="propagate",
                label_id=label_id,
                confidence=0.9,
            )
        )
    db.dispose()
    upgrade(url)
    engine = create_db_engine(url)
    with engine.connect() as connection:
        count = lambda table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()  # noqa: E731
        assert (count("segments"), count("suggestions")) == (2, 1)
        labels = connection.exec_driver_sql(
            "SELECT label_class_id, parent_id FROM segments ORDER BY id"
        )
        assert labels.all() == [(1, None), (None, 1)]
        # Labels from before 0008 were given by people: they count as seen.
        seen = connection.exec_driver_sql("SELECT confirmed FROM segments ORDER BY id")
        assert seen.all() == [(1,), (0,)]
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()


def test_stored_project_jobs_become_projection_jobs(url: str) -> None:
    """0007 renames the job kind 'project' (it clashed with the Project table), so a queued
    job of the old name resumes under the new one."""
    upgrade(url, "0006")
    db = Database(url)
    with db.write() as session:
        project = Project(name="p")
        session.add(project)
        session.flush()
        session.add_all(
            [Job(project_id=project.id, kind=kind, params={}) for kind in ("project", "embed")]
        )
    db.dispose()
    upgrade(url)
    engine = create_db_engine(url)
    with engine.connect() as connection:
        kinds = [row[0] for row in connection.exec_driver_sql("SELECT kind FROM jobs ORDER BY id")]
    engine.dispose()
    assert kinds == ["projection", "embed"]


def test_label_batches_logged_before_0010_stay_readable_and_undoable(url: str) -> None:
    """0010 logs label batches as one block; batches logged before keep their rows, and the
    history, the replay and undo read them as before."""
    upgrade(url, "0009")
    db = Database(url)
    project_id, image_id, label_id = _project_with_image_and_label(db)
    ids = [
        _old_segment(db, project_id, image_id, label_class_id=label_id, version=2) for _ in "abc"
    ]
    with db.write() as session:  # an assign as revision 0009 logged it: a row per segment
        batch_id = session.execute(
            text(
                "INSERT INTO audit_batches (project_id, username, kind, segment_count, "
                "masks_kept, created_at) VALUES (:p, 'old', 'assign', 3, false, "
                "'2026-01-01 00:00:00') RETURNING id"
            ),
            {"p": project_id},
        ).scalar_one()
        session.execute(
            text(
                "INSERT INTO audit_changes (batch_id, segment_id, old_label_id, new_label_id, "
                "new_version) VALUES (:b, :s, NULL, :l, 2)"
            ),
            [{"b": batch_id, "s": sid, "l": label_id} for sid in ids],
        )
    db.dispose()
    upgrade(url)
    db = Database(url)
    with db.read() as session:
        assert [c[:4] for c in batch_changes(session, batch_id)] == [
            (sid, None, label_id, 2) for sid in ids
        ]
        assert replay(session, project_id) == {sid: (label_id, 2) for sid in ids}
    with db.write() as session:
        undo_id = undo_batch(
            session, project_id=project_id, batch_id=batch_id, principal=LOCAL_ADMIN
        )
    with db.read() as session:
        assert replay(session, project_id) == {sid: (None, 3) for sid in ids}
        live = session.execute(select(Segment.id, Segment.label_class_id, Segment.version))
        assert sorted(live) == [(sid, None, 3) for sid in ids]
        assert session.scalar(select(AuditBlock.batch_id)) == undo_id
    db.dispose()
    # And back: downgrading expands each block into the rows 0009 reads.
    command.downgrade(alembic_config(url), "0009")
    engine = create_db_engine(url)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT segment_id, old_label_id, new_label_id, new_version FROM audit_changes "
            f"WHERE batch_id = {undo_id} ORDER BY segment_id"
        )
        assert rows.all() == [(sid, label_id, None, 3) for sid in ids]
    engine.dispose()
