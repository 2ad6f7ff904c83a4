"""The oracle for the concurrency and crash tests, written against the database directly
(plain SQL, not the app's code): the audit log and the labels must tell the same story."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import create_engine, text

Acked = tuple[int, list[int], int | None]  # (batch id, segment ids, label id)


def check(url: str, project_id: int, acked: list[Acked]) -> dict[str, int]:
    """Assert integrity, all-or-nothing batches, every acknowledged batch present exactly as
    sent, and labels/versions equal to replaying the log. Returns a few counts."""
    engine = create_engine(url)
    try:
        with engine.connect() as con:
            if con.dialect.name == "sqlite":
                assert con.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            return _check(lambda sql, **p: con.execute(text(sql), p), project_id, acked)
    finally:
        engine.dispose()


def _check(sql: Any, project_id: int, acked: list[Acked]) -> dict[str, int]:
    declared = dict(
        sql("SELECT id, segment_count FROM audit_batches WHERE project_id = :p", p=project_id).all()
    )
    logged = dict(sql("SELECT batch_id, count(*) FROM audit_changes GROUP BY batch_id").all())
    partial = {b for b, n in declared.items() if logged.get(b, 0) != n}
    assert not partial, f"batches not all-or-nothing: {sorted(partial)[:10]}"
    for batch_id, ids, label in acked:
        rows = sql(
            "SELECT segment_id, new_label_id FROM audit_changes WHERE batch_id = :b", b=batch_id
        ).all()
        assert sorted(map(tuple, rows)) == sorted((sid, label) for sid in set(ids)), batch_id
    replayed: dict[int, tuple[int | None, int]] = {}
    touches: Counter[int] = Counter()
    for sid, label, version in sql(
        "SELECT c.segment_id, c.new_label_id, c.new_version FROM audit_changes c "
        "JOIN audit_batches b ON b.id = c.batch_id WHERE b.project_id = :p "
        "ORDER BY c.batch_id",
        p=project_id,
    ):
        replayed[sid] = (label, version)
        touches[sid] += 1
    live = sql(
        "SELECT id, label_class_id, version FROM segments WHERE project_id = :p", p=project_id
    ).all()
    for sid, label, version in live:
        # No lost update: every logged change bumped the version exactly once.
        assert version == 1 + touches[sid], (sid, version, touches[sid])
        assert replayed.get(sid, (None, 1)) == (label, version), sid
    return {"batches": len(declared), "acked": len(acked), "segments": len(live)}
