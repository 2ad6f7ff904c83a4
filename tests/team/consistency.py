"""The oracle for the concurrency and crash tests, written against the database directly
(plain SQL, not the app's code): the audit log and the labels must tell the same story."""

from __future__ import annotations

import zlib
from collections import Counter
from typing import Any

import numpy as np
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
    logged = _logged(sql, project_id)
    counts = Counter(batch_id for batch_id, _, _, _ in logged)
    partial = {b for b, n in declared.items() if counts.get(b, 0) != n}
    assert not partial, f"batches not all-or-nothing: {sorted(partial)[:10]}"
    for batch_id, ids, label in acked:
        rows = [(sid, new) for b, sid, new, _ in logged if b == batch_id]
        assert sorted(rows) == sorted((sid, label) for sid in set(ids)), batch_id
    replayed: dict[int, tuple[int | None, int]] = {}
    touches: Counter[int] = Counter()
    for _, sid, label, version in sorted(logged, key=lambda row: row[:2]):
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


def _logged(sql: Any, project_id: int) -> list[tuple[int, int, int | None, int]]:
    """(batch id, segment id, new label, new version) of every logged change: the rows of
    audit_changes and the changes packed in audit_blocks (decoded here from the documented
    format: a version byte 1, then zlib of (4, K) little-endian int64: id differences, old
    label, new label, new version; label 0 is none)."""
    logged = [
        tuple(row)
        for row in sql(
            "SELECT c.batch_id, c.segment_id, c.new_label_id, c.new_version FROM audit_changes c "
            "JOIN audit_batches b ON b.id = c.batch_id WHERE b.project_id = :p",
            p=project_id,
        )
    ]
    for batch_id, data in sql(
        "SELECT k.batch_id, k.changes FROM audit_blocks k "
        "JOIN audit_batches b ON b.id = k.batch_id WHERE b.project_id = :p",
        p=project_id,
    ):
        assert bytes(data)[0] == 1
        table = np.frombuffer(zlib.decompress(bytes(data)[1:]), "<i8").reshape(4, -1)
        ids = np.cumsum(table[0])
        assert (np.diff(ids) > 0).all(), "a block's segment ids are ascending and unique"
        logged += [
            (batch_id, sid, new or None, version)
            for sid, new, version in zip(ids.tolist(), *table[2:].tolist(), strict=True)
        ]
    return logged
