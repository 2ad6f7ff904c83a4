"""The propagate job on real segments of the tiny SAM: it embeds what is missing itself."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import upload
from tests.pipeline.conftest import FAST_SEGMENT, photo_files, run_job


def test_propagate_embeds_then_suggests_and_similar_works(sam_client: TestClient) -> None:
    client = sam_client
    pid = client.post("/api/projects", json={"name": "photos"}).json()["id"]
    upload(client, pid, photo_files(3))
    assert run_job(client, pid, "segment", FAST_SEGMENT)["state"] == "succeeded"
    label = client.post(f"/api/projects/{pid}/labels", json={"name": "thing"}).json()["id"]
    image_id = client.get(f"/api/projects/{pid}/images").json()["items"][0]["id"]
    segment_ids = [
        s["id"] for s in client.get(f"/api/images/{image_id}/segments").json()["segments"]
    ]
    client.post(
        f"/api/projects/{pid}/assign", json={"segment_ids": segment_ids[:1], "label_id": label}
    )

    job = run_job(client, pid, "propagate", {"embedder": "sam-pool"})
    assert job["state"] == "succeeded", job
    assert job["done"] == job["total"] == 4  # three images embedded, then the prediction
    store = client.app.state.context.vectors.existing(pid, "sam-pool")  # type: ignore[attr-defined]
    body = client.get(f"/api/projects/{pid}/suggestions", params={"limit": 1000}).json()
    assert body["total"] == len(store) - 1 > 0
    assert {s["label_id"] for s in body["items"]} == {label}

    similar = client.get(
        f"/api/segments/{segment_ids[0]}/similar", params={"k": 5, "embedder": "sam-pool"}
    ).json()
    assert len(similar["items"]) == min(5, len(store) - 1)
