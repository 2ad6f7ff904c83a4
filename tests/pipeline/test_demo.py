"""The demo project arrives with its segment -> embed -> map jobs queued at first start,
after the SAM weights are ready (never segmented by the stand-in while they are fetched)."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from app.demo import DEMO_NAME, demo_without_jobs, queue_demo_pipeline
from app.main import create_app


def test_first_start_queues_the_demo_pipeline_and_segments_with_sam(sam_settings):
    """With SAM loaded, the demo's jobs are queued at once and the segment job runs."""
    settings = sam_settings.model_copy(update={"seed_demo": True})
    with TestClient(create_app(settings)) as client:
        projects = client.get("/api/projects").json()
        demo = next(p for p in projects["items"] if p["name"] == DEMO_NAME)
        jobs = _jobs(client, demo["id"])
        assert [j["kind"] for j in jobs] == ["segment", "embed", "projection"]
        assert jobs[0]["params"] == {"points_per_side": 8}
        # Ten photographs take minutes on a CPU: the first segmented one is enough here.
        deadline = time.monotonic() + 240
        while (segment := client.get(f"/api/jobs/{jobs[0]['id']}").json())["done"] < 1:
            assert segment["state"] in ("queued", "running") and time.monotonic() < deadline
            time.sleep(0.5)
        assert segment["total"] == demo["image_count"] > 0 and segment["failed_items"] == 0
        # (The tiny random SAM's masks rarely pass SAM's score thresholds; real masks from
        # the segment job are tested with MobileSAM in test_mobile_sam_jobs.py.)
        for job in jobs:
            client.post(f"/api/jobs/{job['id']}/cancel")
    with TestClient(create_app(settings)) as client:  # a restart queues nothing again
        assert len(_jobs(client, demo["id"])) == 3


def test_the_pipeline_waits_for_the_model(sam_settings):
    with TestClient(create_app(sam_settings)) as client:
        ctx = client.app.state.context  # type: ignore[attr-defined]
        project = client.post("/api/projects", json={"name": DEMO_NAME}).json()
        assert demo_without_jobs(ctx) == project["id"]
        ready = threading.Event()
        thread = queue_demo_pipeline(ctx, project["id"], ready)
        thread.join(1.5)
        assert thread.is_alive() and _jobs(client, project["id"]) == []
        ready.set()
        thread.join(10)
        assert [j["kind"] for j in _jobs(client, project["id"])] == [
            "segment",
            "embed",
            "projection",
        ]
        assert demo_without_jobs(ctx) is None
        for job in _jobs(client, project["id"]):
            client.post(f"/api/jobs/{job['id']}/cancel")


def _jobs(client: TestClient, project_id: int) -> list[dict]:
    body = client.get(f"/api/projects/{project_id}/jobs").json()
    return sorted(body["items"], key=lambda j: j["id"])
