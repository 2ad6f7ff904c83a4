"""The project event stream (server-sent events).

Label changes come from the audit log itself, so the event id is the audit batch id: a client
that reconnects with Last-Event-ID gets every batch after it, even across a server restart,
and nothing committed can be missed. Presence is ephemeral and sent as full snapshots (no id).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select
from starlette.requests import Request

from app.db import Database
from app.history.audit import batch_changes
from app.live.hub import LiveHub
from app.models import AuditBatch

_TICK = 0.05
# Writers in other processes (the CLI) do not bump the hub: look at the log this often anyway.
_FALLBACK_POLL = 1.0
_KEEPALIVE = 15.0
# A client further behind than this reloads everything instead of replaying.
CATCH_UP_LIMIT = 500


def _event(name: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def latest_batch_id(db: Database, project_id: int) -> int:
    with db.read() as session:
        query = select(func.max(AuditBatch.id)).where(AuditBatch.project_id == project_id)
        return session.scalar(query) or 0


def batches_after(db: Database, project_id: int, after: int, limit: int) -> list[dict[str, Any]]:
    """Audit batches with id > after, oldest first, each with its [segment, label, version]s."""
    with db.read() as session:
        query = (
            select(AuditBatch)
            .where(AuditBatch.project_id == project_id, AuditBatch.id > after)
            .order_by(AuditBatch.id)
            .limit(limit)
        )
        return [
            {
                "batch_id": b.id,
                "kind": b.kind,
                "username": b.username,
                "undo_of": b.undo_of,
                "changes": [
                    [c.segment_id, c.new_label_id, c.new_version]
                    for c in batch_changes(session, b.id)
                ],
            }
            for b in session.scalars(query)
        ]


async def project_events(
    request: Request, db: Database, hub: LiveHub, project_id: int, last_event_id: int | None
) -> AsyncIterator[str]:
    """`hello` (current batch id), `labels` per batch, `presence` snapshots, `reset` when too
    far behind; ends when the client goes or the server stops."""
    latest = await run_in_threadpool(latest_batch_id, db, project_id)
    if last_event_id is None or last_event_id > latest:
        last_event_id = latest
    elif latest - last_event_id > CATCH_UP_LIMIT:
        yield _event("reset", {"reason": "too far behind; reload"}, latest)
        last_event_id = latest
    yield _event("hello", {"batch_id": last_event_id}, last_event_id)
    seen_revision, waited, idle, shown = -1, _FALLBACK_POLL, 0.0, None
    while not hub.closing.is_set() and not await request.is_disconnected():
        if hub.revision != seen_revision or waited >= _FALLBACK_POLL:
            seen_revision, waited = hub.revision, 0.0
            for batch in await run_in_threadpool(
                batches_after, db, project_id, last_event_id, CATCH_UP_LIMIT
            ):
                last_event_id = batch["batch_id"]
                idle = 0.0
                yield _event("labels", batch, last_event_id)
            presence = hub.presence.snapshot(project_id)
            if presence != shown:
                shown, idle = presence, 0.0
                yield _event("presence", presence)
        if idle >= _KEEPALIVE:
            idle = 0.0
            yield ": keepalive\n\n"
        await asyncio.sleep(_TICK)
        waited += _TICK
        idle += _TICK
