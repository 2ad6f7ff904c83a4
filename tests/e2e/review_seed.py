"""A project of known clusters for the review and "more like this" browser tests: segments on
the map in three blobs, their vectors in three matching embedding clusters, a few labelled."""

from __future__ import annotations

import httpx
import numpy as np

from tests.e2e.conftest import upload_images
from tests.e2e.seed import seed_segments, seed_vectors
from tests.pipeline.conftest import wait_job
from tests.similar.conftest import clustered_vectors

SIZES = [20, 20, 20]
LABELLED = 3  # per cluster, given by hand
# The third label's name is markup: it must show as text, never run.
LABELS = [("cat", "#ff0000"), ("dog", "#0000ff"), ("<img src=x onerror=window.__xss=1>", "#00ff00")]


def seed_clusters(api: httpx.Client, data_dir, project: dict) -> dict:  # type: ignore[no-untyped-def]
    """{pid, image, ids, cluster (N,), labels [{id, name, ...}], members [[ids] per cluster]}."""
    pid = project["id"]
    image = api.get(f"/api/images/{upload_images(api, pid, 1)[0]['id']}").json()
    vectors, cluster = clustered_vectors(SIZES, spread=0.1)
    rng = np.random.default_rng(1)
    xy = np.stack([cluster * 5.0, np.zeros(len(cluster))], 1) + rng.uniform(0, 1, (len(cluster), 2))
    ids = seed_segments(
        data_dir,
        project_id=pid,
        image=image,
        embedder=project["embedder"],
        xy=xy.astype(np.float32),
    )
    seed_vectors(data_dir, project_id=pid, embedder=project["embedder"], ids=ids, vectors=vectors)
    labels = [
        api.post(f"/api/projects/{pid}/labels", json={"name": n, "color": c}).json()
        for n, c in LABELS
    ]
    members = [[i for i, k in zip(ids, cluster, strict=True) if k == c] for c in range(len(SIZES))]
    for label, group in zip(labels, members, strict=True):
        response = api.post(
            f"/api/projects/{pid}/assign",
            json={"segment_ids": group[:LABELLED], "label_id": label["id"]},
        )
        assert response.status_code == 200, response.text
    return {
        "pid": pid,
        "image": image,
        "ids": ids,
        "cluster": cluster,
        "labels": labels,
        "members": members,
    }


def propagate(api: httpx.Client, pid: int) -> None:
    """Run the real propagate job (vectors are seeded: no embed step) and wait for it."""
    response = api.post(
        f"/api/projects/{pid}/jobs", json={"kind": "propagate", "params": {"embed_missing": False}}
    )
    assert response.status_code == 202, response.text
    job = wait_job(api, response.json()["id"], timeout=120)
    assert job["state"] == "succeeded", job


def suggestions(api: httpx.Client, pid: int, **params) -> dict:  # type: ignore[no-untyped-def]
    response = api.get(f"/api/projects/{pid}/suggestions", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return response.json()


def labels_on_map(api: httpx.Client, pid: int) -> dict[int, int | None]:
    points = api.get(f"/api/projects/{pid}/map", params={"format": "json"}).json()["points"]
    return {p["segment_id"]: p["label_id"] for p in points}
