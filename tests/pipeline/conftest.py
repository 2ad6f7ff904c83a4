"""Real photographs from scikit-image and job helpers (the tiny-SAM app is in tests/conftest.py)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from app.demo import demo_image_dir

PHOTOS = (
    "coffee.png",
    "chelsea.png",
    "rocket.jpg",
    "astronaut.png",
    "coins.png",
    "motorcycle_left.png",
)
# Random weights score every mask low: keep them all, on a coarse grid, so jobs stay fast.
FAST_SEGMENT = {"points_per_side": 4, "pred_iou_thresh": 0.0, "stability_score_thresh": 0.0}


def photo_files(count: int = 3) -> list[tuple[str, bytes]]:
    folder = demo_image_dir()
    assert folder is not None, "scikit-image ships the demo photographs"
    return [(name, (folder / name).read_bytes()) for name in PHOTOS[:count]]


def run_job(
    client: TestClient, project_id: int, kind: str, params: dict | None = None, timeout: float = 240
) -> dict:
    response = client.post(
        f"/api/projects/{project_id}/jobs", json={"kind": kind, "params": params or {}}
    )
    assert response.status_code == 202, response.text
    return wait_job(client, response.json()["id"], timeout)


def wait_job(client, job_id: int, timeout: float = 240) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while (job := client.get(f"/api/jobs/{job_id}").json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    return job
