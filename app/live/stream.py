"""The project event stream (server-sent events).

Label changes come from the audit log itself, so the event id is the audit batch id: a client
that reconnects with Last-Event-ID gets every batch after it, even across a server restart,
and nothing committed can be missed. Presence is ephemeral and sent as full snapshots (no id);
suggestions as a fingerprint ({count, latest}) whenever they change, the current one in `hello`
so a reconnecting client can tell whether it missed a change.

A stream wakes when the LiveHub's revision moves (routes bump it after a commit) or the job
runner's does (every finished job item: propagate and exemplar results arrive that way), and
once per FALLBACK_POLL anyway for writers in other processes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select
from starlette.requests import Request

from app.db import Database
from app.history.audit import batch_columns
from app.history.block import Changes
from app.live.hub import FALLBACK_POLL, LiveHub
from app.live.suggestions import SuggestionState
from app.models import AuditBatch

_TICK = 0.05
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


def batches_after(
    db: Database, project_id: int, after: int, limit: int, inline: int
) -> list[dict[str, Any]]:
    """Audit batches with id > after, oldest first, each with its `count` of changes and, up
    to `inline` of them, the [segment, label, version]s (else `changes` is None: a 1M-segment
    batch would be ~20 MB of JSON for every client; they read GET .../history/{id}/columns)."""
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
                "masks": b.masks_kept,  # masks changed too: reload them, not only labels
                "count": b.segment_count,
                "changes": (
                    _changes(batch_columns(session, b.id)) if b.segment_count <= inline else None
                ),
            }
            for b in session.scalars(query)
        ]


def _changes(changes: Changes) -> list[list[int | None]]:
    """[segment id, new label or None, new version] per change, from columns (a 1M-segment
    batch takes a fraction of a second, not seconds through per-change objects)."""
    columns = (changes.segment_ids, changes.new_labels, changes.new_versions)
    return [
        [sid, label or None, version]
        for sid, label, version in zip(*(c.tolist() for c in columns), strict=True)
    ]


@dataclass
class _Shown:
    """What this stream has told its client so far."""

    batch_id: int
    suggestions: SuggestionState
    presence: dict[str, Any] | None = None


async def _news(
    db: Database, hub: LiveHub, project_id: int, shown: _Shown, token: object
) -> AsyncIterator[str]:
    """Events for what changed since `shown` (updated as they are yielded)."""
    for batch in await run_in_threadpool(
        batches_after, db, project_id, shown.batch_id, CATCH_UP_LIMIT, hub.inline_changes
    ):
        shown.batch_id = batch["batch_id"]
        # Encoded off the event loop: up to live_inline_changes changes are a few hundred kB.
        yield await run_in_threadpool(_event, "labels", batch, shown.batch_id)
    suggestions = await run_in_threadpool(hub.suggestions.state, db, project_id, token)
    if suggestions != shown.suggestions:
        shown.suggestions = suggestions
        yield _event("suggestions", suggestions.public())
    presence = hub.presence.snapshot(project_id)
    if presence != shown.presence:
        shown.presence = presence
        yield _event("presence", presence)


async def project_events(
    request: Request,
    db: Database,
    hub: LiveHub,
    project_id: int,
    last_event_id: int | None,
    *,
    job_revision: Callable[[], int] = lambda: 0,
) -> AsyncIterator[str]:
    """`hello` ({batch_id, suggestions}), `labels` per batch, `suggestions` and `presence` on
    change, `reset` when too far behind; ends when the client goes or the server stops.
    `job_revision` is the job runner's change counter (wakes the stream on job progress)."""
    latest = await run_in_threadpool(latest_batch_id, db, project_id)
    if last_event_id is None or last_event_id > latest:
        last_event_id = latest
    elif latest - last_event_id > CATCH_UP_LIMIT:
        yield _event("reset", {"reason": "too far behind; reload"}, latest)
        last_event_id = latest
    token = (hub.revision, job_revision())
    suggestions = await run_in_threadpool(hub.suggestions.state, db, project_id, token)
    shown = _Shown(last_event_id, suggestions)
    hello = {"batch_id": last_event_id, "suggestions": suggestions.public()}
    yield _event("hello", hello, last_event_id)
    woke_for: object = None
    waited, idle = FALLBACK_POLL, 0.0
    while not hub.closing.is_set() and not await request.is_disconnected():
        token = (hub.revision, job_revision())
        if token != woke_for or waited >= FALLBACK_POLL:
            woke_for, waited = token, 0.0
            async for event in _news(db, hub, project_id, shown, token):
                idle = 0.0
                yield event
        if idle >= _KEEPALIVE:
            idle = 0.0
            yield ": keepalive\n\n"
        await asyncio.sleep(_TICK)
        waited += _TICK
        idle += _TICK
