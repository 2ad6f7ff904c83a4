from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.test_map_assign import add_segments
from tests.conftest import assert_error_shape


def test_more_like_this_returns_the_cluster(client: TestClient, embedded: dict) -> None:
    ids, cluster = embedded["ids"], embedded["cluster"]
    response = client.get(f"/api/segments/{ids[0]}/similar", params={"k": 7})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["segment_id"] == ids[0]
    found = [item["segment_id"] for item in body["items"]]
    assert sorted(found) == sorted(ids[1:8])  # the other 7 members of cluster 0
    assert all(cluster[ids.index(i)] == 0 for i in found)
    distances = [item["distance"] for item in body["items"]]
    assert distances == sorted(distances)
    assert {item["image_id"] for item in body["items"]} == {embedded["image_id"]}


def test_labels_come_along_and_deleted_segments_are_skipped(
    client: TestClient, embedded: dict
) -> None:
    pid, ids = embedded["pid"], embedded["ids"]
    label = client.post(f"/api/projects/{pid}/labels", json={"name": "cat"}).json()
    client.post(
        f"/api/projects/{pid}/assign", json={"segment_ids": ids[1:3], "label_id": label["id"]}
    )
    assert client.delete(f"/api/segments/{ids[3]}").status_code in (200, 204)
    items = client.get(f"/api/segments/{ids[0]}/similar", params={"k": 30}).json()["items"]
    by_id = {item["segment_id"]: item for item in items}
    assert ids[3] not in by_id and ids[0] not in by_id
    assert len(items) == len(ids) - 2
    assert by_id[ids[1]]["label_id"] == by_id[ids[2]]["label_id"] == label["id"]
    assert by_id[ids[4]]["label_id"] is None


def test_not_embedded_is_a_conflict(client: TestClient, embedded: dict) -> None:
    [fresh] = add_segments(client, embedded["pid"], embedded["image_id"], 1)
    assert_error_shape(client.get(f"/api/segments/{fresh}/similar"), 409, "not_embedded")
    response = client.get(f"/api/segments/{embedded['ids'][0]}/similar", params={"embedder": "x"})
    assert_error_shape(response, 409, "not_embedded")


def test_k_is_validated(client: TestClient, embedded: dict) -> None:
    response = client.get(f"/api/segments/{embedded['ids'][0]}/similar", params={"k": 0})
    assert response.status_code == 422
