"""The `suggestions` live event against a real server: a propagate job's results, a reject by
API and a row written by another process each reach an open stream; `hello` carries the current
fingerprint for reconnecting clients. Plus the shared fingerprint cache on its own."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from fastapi.testclient import TestClient

from app.live.suggestions import SuggestionWatch, suggestion_state
from app.models import Suggestion
from tests.conftest import png_bytes, upload
from tests.e2e.seed import seed_segments, seed_vectors
from tests.pipeline.conftest import wait_job
from tests.server_process import ServerProcess
from tests.similar.conftest import clustered_vectors
from tests.team.conftest import add_segments, database

WAIT = 30.0  # seconds before a missing event fails the test (not a latency bound)


class EventStream:
    """Events of GET /api/projects/{id}/events, read in the test's own thread."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines

    def next(self, name: str) -> Any:
        """The data of the next event called `name` (others are skipped)."""
        deadline = time.monotonic() + WAIT
        event = ""
        while time.monotonic() < deadline:  # keepalives come every 15 s, so this gets a look
            line = next(self._lines)
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == name:
                return json.loads(line[6:])
        raise AssertionError(f"no {name!r} event within {WAIT} s")


@contextmanager
def events(http: httpx.Client, pid: int, last_event_id: int | None = None) -> Iterator[EventStream]:
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    with http.stream("GET", f"/api/projects/{pid}/events", headers=headers) as response:
        yield EventStream(response.iter_lines())


def _seed_project(http: httpx.Client, data_dir: Path, database_url: str | None) -> int:
    """Two clusters of 10 segments with vectors, 2 of each labelled: 16 to suggest."""
    project = http.post("/api/projects", json={"name": "live"}).json()
    pid = project["id"]
    files = [("files", ("a.png", png_bytes(32, 32), "image/png"))]
    image_id = http.post(f"/api/projects/{pid}/images", files=files).json()["imported"][0]["id"]
    image = http.get(f"/api/images/{image_id}").json()
    vectors, cluster = clustered_vectors([10, 10], spread=0.1)
    xy = np.stack([cluster * 5.0, np.arange(len(cluster))], 1).astype(np.float32)
    ids = seed_segments(data_dir, project_id=pid, image=image, embedder=project["embedder"],
                        xy=xy, database_url=database_url)  # fmt: skip
    seed_vectors(data_dir, project_id=pid, embedder=project["embedder"], ids=ids, vectors=vectors)
    for c, name in enumerate(["cat", "dog"]):
        label = http.post(f"/api/projects/{pid}/labels", json={"name": name}).json()["id"]
        members = [i for i, k in zip(ids, cluster, strict=True) if k == c][:2]
        http.post(f"/api/projects/{pid}/assign", json={"segment_ids": members, "label_id": label})
    return pid


def _suggest_from_outside(
    data_dir: Path, database_url: str | None, pid: int, segment_id: int, label_id: int
) -> None:
    """Write a suggestion the way a CLI job would: another process, no hub to bump."""
    db = database(data_dir, database_url)
    try:
        with db.write() as session:
            session.add(
                Suggestion(
                    project_id=pid,
                    segment_id=segment_id,
                    kind="exemplar",
                    label_id=label_id,
                    confidence=0.5,
                )
            )
    finally:
        db.dispose()


def test_suggestion_changes_reach_an_open_stream(
    team_server: ServerProcess, admin_http: httpx.Client, database_url: str | None
) -> None:
    http, data_dir = admin_http, team_server.data_dir
    pid = _seed_project(http, data_dir, database_url)
    with events(http, pid) as stream:
        hello = stream.next("hello")
        assert hello["suggestions"] == {"count": 0, "latest": 0}

        job = http.post(f"/api/projects/{pid}/jobs",
                        json={"kind": "propagate", "params": {"embed_missing": False}}).json()  # fmt: skip
        proposed = stream.next("suggestions")
        assert wait_job(http, job["id"], timeout=120)["state"] == "succeeded"
        items = http.get(f"/api/projects/{pid}/suggestions", params={"limit": 100}).json()
        assert proposed["count"] == items["total"] == 16 and proposed["latest"] > 0

        first = items["items"][0]
        http.post(f"/api/projects/{pid}/suggestions/reject",
                  json={"segment_ids": [first["segment_id"]]})  # fmt: skip
        assert stream.next("suggestions") == {"count": 15, "latest": proposed["latest"]}

        _suggest_from_outside(data_dir, database_url, pid, first["segment_id"], first["label_id"])
        outside = stream.next("suggestions")
        assert outside["count"] == 16 and outside["latest"] > proposed["latest"]

    with events(http, pid, last_event_id=hello["batch_id"]) as again:
        assert again.next("hello")["suggestions"] == outside


def test_one_look_serves_every_stream_until_something_changes(
    client: TestClient, project: dict
) -> None:
    pid = project["id"]
    db = client.app.state.context.db  # type: ignore[attr-defined]
    image_id = upload(client, pid, [("a.png", png_bytes())])["imported"][0]["id"]
    segments = add_segments(db, pid, image_id, 3)
    label = client.post(f"/api/projects/{pid}/labels", json={"name": "cat"}).json()["id"]

    def suggest(segment_id: int) -> None:
        with db.write() as session:
            row = Suggestion(project_id=pid, segment_id=segment_id, kind="propagate",
                             label_id=label, confidence=0.5)  # fmt: skip
            session.add(row)

    suggest(segments[0])
    fresh = SuggestionWatch(max_age=3600, min_gap=0)
    first = fresh.state(db, pid, token=1)
    assert first.public() == {"count": 1, "latest": first.latest} and first.latest > 0
    suggest(segments[1])
    assert fresh.state(db, pid, token=1) == first  # same token, fresh: the shared answer
    assert fresh.state(db, pid, token=2).count == 2  # the app wrote something: look again

    idle = SuggestionWatch(max_age=0, min_gap=0)
    assert idle.state(db, pid, token=1).count == 2
    suggest(segments[2])  # another process adds a row: the newest id moves
    assert idle.state(db, pid, token=1).count == 3
    assert idle.state(db, pid, token=1) == suggestion_state(db, pid)
