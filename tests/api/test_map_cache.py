"""The cached binary map (app/maps/cache.py) always equals a map built afresh."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.maps.cache import CACHE_FILE, _built
from app.maps.wire import decode_map
from app.models import Project
from tests.api.test_map_assign import add_segments
from tests.api.test_mask_undo import Project as MaskProject
from tests.api.test_mask_undo import square
from tests.conftest import png_bytes, upload


@pytest.fixture
def other(settings: Settings, client: TestClient) -> Iterator[TestClient]:
    """A second server process on the same data directory and database."""
    with TestClient(create_app(settings)) as second:
        yield second


@pytest.fixture
def placed(client: TestClient, project: dict) -> dict:
    pid = project["id"]
    image_id = upload(client, pid, [("a.png", png_bytes())])["imported"][0]["id"]
    ids = add_segments(client, pid, image_id, 8)
    xy = np.arange(12, dtype=np.float32).reshape(6, 2)
    client.app.state.context.maps.write(pid, project["embedder"], np.array(ids[:6]), xy)  # type: ignore[attr-defined]
    cat = client.post(f"/api/projects/{pid}/labels", json={"name": "cat"}).json()
    return {"pid": pid, "ids": ids, "cat": cat["id"], "embedder": project["embedder"]}


def served(client: TestClient, pid: int) -> tuple[dict, dict[str, np.ndarray]]:
    """The served map, after checking it is byte for byte the map built from scratch."""
    response = client.get(f"/api/projects/{pid}/map")
    assert response.status_code == 200
    ctx = client.app.state.context  # type: ignore[attr-defined]
    with ctx.db.read() as session:
        assert response.content == _built(session, session.get(Project, pid), ctx.maps)
    return decode_map(response.content)


def assign(client: TestClient, pid: int, ids: list[int], label_id: int | None) -> dict:
    response = client.post(
        f"/api/projects/{pid}/assign", json={"segment_ids": ids, "label_id": label_id}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_another_process_assign_and_undo_show_in_the_cached_map(
    client: TestClient, other: TestClient, placed: dict
) -> None:
    pid, ids, cat = placed["pid"], placed["ids"], placed["cat"]
    _, first = served(client, pid)
    assert first["label"].tolist() == [-1] * 6
    receipt = assign(other, pid, ids[1:3] + ids[7:], cat)  # ids[7] is not on the map
    _, after = served(client, pid)
    assert after["label"].tolist() == [-1, 0, 0, -1, -1, -1]
    assert after["version"].tolist() == [1, 2, 2, 1, 1, 1]
    assign(client, pid, ids[2:4], None)
    assert served(other, pid)[1]["label"].tolist() == [-1, 0, -1, -1, -1, -1]
    undo = other.post(f"/api/projects/{pid}/history/{receipt['batch_id']}/undo")
    assert undo.status_code == 409  # ids[2] changed since: the audit undo refuses
    assert served(client, pid)[1]["version"].tolist() == [1, 2, 3, 2, 1, 1]


def test_projection_labels_and_segments_rebuild_the_cached_map(
    client: TestClient, placed: dict
) -> None:
    pid, ids, ctx = placed["pid"], placed["ids"], client.app.state.context  # type: ignore[attr-defined]
    header, _ = served(client, pid)
    assert header["unplaced"] == 2
    ctx.maps.upsert(pid, placed["embedder"], np.array(ids[6:]), np.full((2, 2), 9, np.float32))
    header, columns = served(client, pid)
    assert header["unplaced"] == 0 and columns["x"].tolist()[-2:] == [9, 9]
    dog = client.post(f"/api/projects/{pid}/labels", json={"name": "dog"}).json()["id"]
    assign(client, pid, ids[:2], dog)
    header, columns = served(client, pid)
    assert [label["name"] for label in header["labels"]] == ["cat", "dog"]
    assert columns["label"].tolist()[:2] == [1, 1]
    assert client.delete(f"/api/segments/{ids[0]}").status_code in (200, 204)
    header, columns = served(client, pid)
    assert header["count"] == 7 and ids[0] not in columns["segment_id"].tolist()


def test_a_restarted_server_reuses_the_cache_file_and_sees_later_changes(
    settings: Settings, client: TestClient, placed: dict
) -> None:
    pid, ids = placed["pid"], placed["ids"]
    served(client, pid)
    path = client.app.state.context.maps.path(pid, placed["embedder"]).with_name(CACHE_FILE)  # type: ignore[attr-defined]
    assert path.is_file()
    assign(client, pid, ids[:1], placed["cat"])  # written while the next server is not up
    with TestClient(create_app(settings)) as restarted:
        assert served(restarted, pid)[1]["label"].tolist()[:2] == [0, -1]


def test_segments_added_since_are_counted_as_unplaced(
    client: TestClient, other: TestClient, placed: dict
) -> None:
    pid, ids = placed["pid"], placed["ids"]
    header, _ = served(client, pid)
    image_id = client.get(f"/api/segments/{ids[0]}").json()["image_id"]
    new = add_segments(other, pid, image_id, 3)  # e.g. a segment job in another process
    assign(other, pid, ids[:1] + new[:1], placed["cat"])
    header, columns = served(client, pid)
    assert (header["segments_total"], header["unplaced"]) == (11, 5)
    assert columns["label"].tolist()[:2] == [0, -1]
    add_segments(client, pid, image_id, 1)
    assert client.delete(f"/api/segments/{new[1]}").status_code in (200, 204)
    header, _ = served(client, pid)  # added and deleted: rebuilt
    assert (header["segments_total"], header["unplaced"]) == (11, 5)


def test_mask_edits_and_undone_deletions_show_in_the_cached_map(
    client: TestClient, project: dict
) -> None:
    pid, ctx = project["id"], client.app.state.context  # type: ignore[attr-defined]
    masks = MaskProject(client, pid)
    ids = [masks.add(box)["id"] for box in ((0, 0, 10, 10), (20, 20, 30, 30), (40, 10, 50, 20))]
    ctx.maps.write(pid, project["embedder"], np.array(ids), np.eye(3, 2, dtype=np.float32))
    assert served(client, pid)[1]["area"].tolist() == [100, 100, 100]
    edited = client.patch(f"/api/segments/{ids[0]}", json={"rle": square((0, 0, 20, 10))})
    assert edited.status_code == 200, edited.text
    assert served(client, pid)[1]["area"].tolist() == [200, 100, 100]
    assert client.delete(f"/api/segments/{ids[1]}").status_code in (200, 204)
    assert served(client, pid)[1]["segment_id"].tolist() == [ids[0], ids[2]]
    masks.undo_last()  # the deleted segment comes back with its id and its place
    assert served(client, pid)[1]["segment_id"].tolist() == ids
