"""A newcomer's first start with MobileSAM in the model cache: the real `lassolabel serve`
(LASSOLABEL_SEGMENTER=auto, nothing configured) seeds the demo project, runs its segment ->
embed -> map jobs, and the map it serves holds MobileSAM's automatic masks, not the classic
segmenter's superpixels: the coins photo's segments are the masks MobileSAM's own generator
gives in this process, and they are the coins."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.demo import DEMO_NAME, DEMO_PIPELINE, demo_image_dir
from app.evaluation.datasets import read_rgb
from app.evaluation.metrics import iou_matrix
from app.inference.sam import SamSegmenter
from app.masks import decode_rle
from app.pipeline.params import SegmentParams
from tests.fixtures.coins import coins
from tests.server_process import ServerProcess

JOBS_DEADLINE_S = 1200  # ten photographs encoded and segmented on a busy CPU, then UMAP
pytestmark = [pytest.mark.slow, pytest.mark.timeout(JOBS_DEADLINE_S + 300)]


def test_demo_map_shows_mobile_sam_segments(
    tmp_path: Path, mobile_sam_path: Path, mobile_sam: SamSegmenter
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    shutil.copyfile(mobile_sam_path, models / mobile_sam_path.name)  # as `make run` leaves it
    env = {"LASSOLABEL_MODEL_DIR": str(models), "LASSOLABEL_SEGMENTER": "auto"}
    with (
        ServerProcess(tmp_path / "data", env=env) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        segmenter = http.get("/api/health").json()["segmenter"]
        assert segmenter["name"] == "sam" and segmenter["model_id"].startswith("sam-vit_t-")
        demo = next(p for p in http.get("/api/projects").json()["items"] if p["name"] == DEMO_NAME)
        jobs = wait_for_jobs(http, demo["id"])
        assert [j["kind"] for j in jobs] == [kind for kind, _ in DEMO_PIPELINE]
        assert all(j["state"] == "succeeded" and j["failed_items"] == 0 for j in jobs), jobs
        on_map = {p["segment_id"] for p in map_points(http, demo["id"])}
        coins_image = next(i for i in images(http, demo["id"]) if i["filename"] == "coins.png")
        body = http.get(f"/api/images/{coins_image['id']}/segments").json()
    served = [s for s in body["segments"] if s["source"] == "auto"]
    assert served and {s["id"] for s in served} <= on_map
    masks = [decode_rle(s["rle"]) for s in served]

    image = read_rgb(demo_dir() / "coins.png")
    params = SegmentParams.model_validate(dict(DEMO_PIPELINE)["segment"]).generator_args()
    state = mobile_sam.prepare([image])[0]
    expected = [m.mask for m in mobile_sam.auto(state, image, params)]
    same = iou_matrix(masks, expected).max(axis=1)
    assert len(masks) == len(expected) and (same >= 0.98).all(), sorted(same)
    truth = coins()
    assert sum(truth.best_iou(m) >= 0.9 for m in masks) >= 3  # real coins, not superpixels


def demo_dir() -> Path:
    folder = demo_image_dir()
    assert folder is not None
    return folder


def wait_for_jobs(http: httpx.Client, project_id: int) -> list[dict]:
    """The project's jobs, oldest first, once none is queued or running."""
    deadline = time.monotonic() + JOBS_DEADLINE_S
    while True:
        jobs = sorted(
            http.get(f"/api/projects/{project_id}/jobs").json()["items"], key=lambda j: j["id"]
        )
        if len(jobs) == len(DEMO_PIPELINE) and all(
            j["state"] not in ("queued", "running") for j in jobs
        ):
            return jobs
        assert time.monotonic() < deadline, jobs
        time.sleep(2)


def map_points(http: httpx.Client, project_id: int) -> list[dict]:
    response = http.get(f"/api/projects/{project_id}/map", params={"format": "json"})
    assert response.status_code == 200, response.text
    points = response.json()["points"]
    assert points and all(np.isfinite([p["x"], p["y"]]).all() for p in points)
    return points


def images(http: httpx.Client, project_id: int) -> list[dict]:
    return http.get(f"/api/projects/{project_id}/images", params={"limit": 100}).json()["items"]
