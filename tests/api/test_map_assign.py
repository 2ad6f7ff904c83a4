from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.maps.wire import decode_map
from tests.conftest import assert_error_shape, png_bytes, upload
from tests.team.conftest import add_segments as insert_placeholder_segments


def add_segments(client: TestClient, project_id: int, image_id: int, count: int) -> list[int]:
    """Placeholder segments straight in the database (labelling needs rows, not masks)."""
    return insert_placeholder_segments(client.app.state.context.db, project_id, image_id, count)  # type: ignore[attr-defined]


@pytest.fixture
def mapped(client: TestClient, project: dict) -> dict:
    pid = project["id"]
    image_id = upload(client, pid, [("a.png", png_bytes())])["imported"][0]["id"]
    ids = add_segments(client, pid, image_id, 6)
    xy = np.array([[0, 0], [1, 0], [0, 1], [10, 10], [11, 10], [10, 11]], np.float32)
    client.app.state.context.maps.write(pid, project["embedder"], np.array(ids[:5]), xy[:5])  # type: ignore[attr-defined]
    cat = client.post(f"/api/projects/{pid}/labels", json={"name": "cat"}).json()
    dog = client.post(f"/api/projects/{pid}/labels", json={"name": "dog"}).json()
    return {"pid": pid, "ids": ids, "xy": xy, "cat": cat, "dog": dog, "image_id": image_id}


def test_binary_and_json_map(client: TestClient, mapped: dict) -> None:
    pid, ids = mapped["pid"], mapped["ids"]
    client.post(
        f"/api/projects/{pid}/assign",
        json={"segment_ids": ids[:2], "label_id": mapped["dog"]["id"]},
    )
    response = client.get(f"/api/projects/{pid}/map")
    assert response.headers["content-type"] == "application/octet-stream"
    header, arrays = decode_map(response.content)
    assert header["count"] == 5 and header["segments_total"] == 6 and header["unplaced"] == 1
    assert [label["name"] for label in header["labels"]] == ["cat", "dog"]
    assert arrays["segment_id"].tolist() == ids[:5]
    np.testing.assert_array_equal(np.stack([arrays["x"], arrays["y"]], 1), mapped["xy"][:5])
    assert arrays["label"].tolist() == [1, 1, -1, -1, -1]
    assert arrays["version"].tolist() == [2, 2, 1, 1, 1]  # each assign bumps the version
    assert arrays["area"].tolist() == [1] * 5  # what the filters read
    assert [header["sources"][i] for i in arrays["source"]] == ["auto"] * 5
    assert len(response.content) == 4 + len(response.content[4:]) and len(response.content) % 4 == 0

    as_json = client.get(f"/api/projects/{pid}/map?format=json").json()
    assert [(p["segment_id"], p["label_id"], p["version"]) for p in as_json["points"][:3]] == [
        (ids[0], mapped["dog"]["id"], 2),
        (ids[1], mapped["dog"]["id"], 2),
        (ids[2], None, 1),
    ]
    assert_error_shape(client.get(f"/api/projects/{pid}/map?format=xml"), 422)


def test_assign_is_all_or_nothing(client: TestClient, mapped: dict) -> None:
    pid, ids, cat = mapped["pid"], mapped["ids"], mapped["cat"]
    done = client.post(
        f"/api/projects/{pid}/assign",
        json={"segment_ids": ids[3:] + ids[3:], "label_id": cat["id"]},
    )
    assert done.json()["count"] == 3
    assert client.get(f"/api/projects/{pid}").json()["labelled_count"] == 3

    other = client.post("/api/projects", json={"name": "other"}).json()
    foreign = add_segments(
        client,
        other["id"],
        upload(client, other["id"], [("b.png", png_bytes(9, 9))])["imported"][0]["id"],
        1,
    )
    refused = client.post(
        f"/api/projects/{pid}/assign",
        json={"segment_ids": ids[:3] + foreign, "label_id": cat["id"]},
    )
    assert assert_error_shape(refused, 404)["detail"] == {"missing": foreign}
    assert client.get(f"/api/projects/{pid}").json()["labelled_count"] == 3  # nothing written

    other_label = client.post(f"/api/projects/{other['id']}/labels", json={"name": "x"}).json()
    assert_error_shape(
        client.post(
            f"/api/projects/{pid}/assign", json={"segment_ids": ids, "label_id": other_label["id"]}
        ),
        404,
    )
    assert_error_shape(
        client.post(f"/api/projects/{pid}/assign", json={"segment_ids": [], "label_id": None}), 422
    )
    assert_error_shape(
        client.post(f"/api/projects/{pid}/assign", json={"segment_ids": [0], "label_id": None}), 422
    )

    cleared = client.post(
        f"/api/projects/{pid}/assign", json={"segment_ids": ids[3:], "label_id": None}
    )
    assert cleared.json()["count"] == 3
    assert client.get(f"/api/projects/{pid}").json()["labelled_count"] == 0


def test_stale_versions_conflict(client: TestClient, mapped: dict) -> None:
    pid, ids, cat, dog = mapped["pid"], mapped["ids"], mapped["cat"], mapped["dog"]
    seen = {str(i): 1 for i in ids[:2]}
    first = client.post(
        f"/api/projects/{pid}/assign",
        json={"segment_ids": ids[:2], "label_id": cat["id"], "expected_versions": seen},
    )
    assert first.status_code == 200
    second = client.post(
        f"/api/projects/{pid}/assign",
        json={"segment_ids": ids[:2], "label_id": dog["id"], "expected_versions": seen},
    )
    error = assert_error_shape(second, 409, "stale_version")
    assert {c["segment_id"] for c in error["detail"]["changed"]} == set(ids[:2])
    assert all(c["label_id"] == cat["id"] and c["version"] == 2 for c in error["detail"]["changed"])
    assert error["detail"]["changed_count"] == 2
    labels = {
        p["segment_id"]: p["label_id"]
        for p in client.get(f"/api/projects/{pid}/map?format=json").json()["points"]
    }
    assert labels[ids[0]] == cat["id"]  # the loser did not overwrite


def test_map_versions_are_what_assign_expects(client: TestClient, mapped: dict) -> None:
    """A client holding the map's versions: a write behind its back makes its assign stale."""
    pid, ids, cat, dog = mapped["pid"], mapped["ids"], mapped["cat"], mapped["dog"]

    def map_versions() -> dict[str, int]:
        _, arrays = decode_map(client.get(f"/api/projects/{pid}/map").content)
        return {
            str(s): int(v) for s, v in zip(arrays["segment_id"], arrays["version"], strict=True)
        }

    seen = map_versions()
    client.post(
        f"/api/projects/{pid}/assign", json={"segment_ids": ids[1:2], "label_id": cat["id"]}
    )
    stale = client.post(
        f"/api/projects/{pid}/assign",
        json={"segment_ids": ids[:3], "label_id": dog["id"], "expected_versions": seen},
    )
    changed = assert_error_shape(stale, 409, "stale_version")["detail"]["changed"]
    assert changed == [
        {
            "segment_id": ids[1],
            "expected_version": seen[str(ids[1])],
            "version": 2,
            "label_id": cat["id"],
        }
    ]
    fresh = client.post(
        f"/api/projects/{pid}/assign",
        json={"segment_ids": ids[:3], "label_id": dog["id"], "expected_versions": map_versions()},
    )
    assert fresh.status_code == 200
    assert map_versions()[str(ids[1])] == 3 == fresh.json()["versions"][str(ids[1])]
