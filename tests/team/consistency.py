"""The oracle for the concurrency and crash tests, written against the SQLite file directly
(not the app's code): the audit log and the labels must tell the same story."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

Acked = tuple[int, list[int], int | None]  # (batch id, segment ids, label id)


def check(db_path: Path, project_id: int, acked: list[Acked]) -> dict[str, int]:
    """Assert integrity, all-or-nothing batches, every acknowledged batch present exactly as
    sent, and labels/versions equal to replaying the log. Returns a few counts."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        declared = dict(
            con.execute(
                "SELECT id, segment_count FROM audit_batches WHERE project_id = ?", (project_id,)
            )
        )
        logged = dict(con.execute("SELECT batch_id, count(*) FROM audit_changes GROUP BY batch_id"))
        partial = {b for b, n in declared.items() if logged.get(b, 0) != n}
        assert not partial, f"batches not all-or-nothing: {sorted(partial)[:10]}"
        for batch_id, ids, label in acked:
            rows = con.execute(
                "SELECT segment_id, new_label_id FROM audit_changes WHERE batch_id = ?",
                (batch_id,),
            ).fetchall()
            assert sorted(rows) == sorted((sid, label) for sid in set(ids)), batch_id
        replayed: dict[int, tuple[int | None, int]] = {}
        touches: Counter[int] = Counter()
        for sid, label, version in con.execute(
            "SELECT c.segment_id, c.new_label_id, c.new_version FROM audit_changes c "
            "JOIN audit_batches b ON b.id = c.batch_id WHERE b.project_id = ? "
            "ORDER BY c.batch_id",
            (project_id,),
        ):
            replayed[sid] = (label, version)
            touches[sid] += 1
        live = con.execute(
            "SELECT id, label_class_id, version FROM segments WHERE project_id = ?", (project_id,)
        ).fetchall()
        for sid, label, version in live:
            # No lost update: every logged change bumped the version exactly once.
            assert version == 1 + touches[sid], (sid, version, touches[sid])
            assert replayed.get(sid, (None, 1)) == (label, version), sid
        return {"batches": len(declared), "acked": len(acked), "segments": len(live)}
    finally:
        con.close()
