"""Alembic environment: uses the app's models as the target and batch mode for SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy import event, pool

from app.db import create_db_engine
from app.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"
    engine = create_db_engine(url, poolclass=pool.NullPool)
    sqlite = engine.dialect.name == "sqlite"
    # Batch mode rebuilds a table by copy, drop and rename; with foreign keys enforced the drop
    # would cascade into every referencing table. The pragma is a no-op inside a transaction,
    # so it is set on connect; the check below refuses a migration that broke a reference.
    if sqlite:
        event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA foreign_keys=OFF"))
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            if not sqlite:  # server processes starting together migrate one at a time
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(1095980, 1)")
            context.run_migrations()
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all() if sqlite else []
            if broken:
                raise RuntimeError(f"migration left broken foreign keys: {broken[:10]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
