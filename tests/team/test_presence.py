"""Presence and soft locks (the table, and through the API)."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from app.live.presence import Presence
from app.models import Project
from tests.conftest import png_bytes, upload
from tests.team.conftest import database


def test_first_arrival_holds_the_lock_until_it_lapses(
    tmp_path: Path, database_url: str | None
) -> None:
    db = database(tmp_path, database_url)
    with db.write() as session:
        session.add_all([Project(name="one"), Project(name="two")])
    presence = Presence(db, ttl=0.2)
    assert presence.beat(1, "ann", 7) and presence.beat(1, "bob", 7)
    assert presence.holder(1, 7) == "ann"
    assert not presence.beat(1, "ann", 7)  # a plain heartbeat changes nothing others see
    assert presence.snapshot(1)["locks"] == {"7": "ann"}
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        presence.beat(1, "bob", 7)  # bob keeps beating, ann went quiet
        time.sleep(0.02)
    assert presence.holder(1, 7) == "bob"
    assert presence.leave(1, "bob") and presence.holder(1, 7) is None
    assert presence.snapshot(2) == {"users": [], "locks": {}}
    db.dispose()


def test_presence_api_reports_the_holder(client: TestClient, project: dict) -> None:
    image_id = upload(client, project["id"], [("a.png", png_bytes())])["imported"][0]["id"]
    url = f"/api/projects/{project['id']}/presence"
    mine = client.post(url, json={"image_id": image_id}).json()
    assert mine["held_by"] is None and mine["locks"] == {str(image_id): "local"}
    live = client.app.state.context.live  # type: ignore[attr-defined]
    live.presence.beat(project["id"], "someone", image_id)
    assert client.get(url).json()["users"][1]["username"] == "someone"
    assert client.post(url, json={"image_id": 10**9}).status_code == 404
    assert client.delete(url).status_code == 204
    assert client.get(url).json()["locks"] == {str(image_id): "someone"}
