"""The segment job on a local Ray cluster (one per module: 2 CPUs, no dashboard) and the tiny SAM."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import ray
import torch
from fastapi.testclient import TestClient
from pycocotools import mask as coco_mask
from sqlalchemy import select

from app.config import Settings
from app.distributed.cluster import NAMESPACE
from app.main import create_app
from app.models import Segment
from tests.conftest import upload
from tests.pipeline.conftest import FAST_SEGMENT, photo_files, run_job, wait_job
from tests.pipeline.test_resume_after_kill import kill_and_resume

# A local Ray cluster costs minutes on 2 cores: `make test` runs these, `make test-fast` does not.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=80 * 1024 * 1024,
    )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture
def ray_settings(sam_settings: Settings, ray_address: str) -> Settings:
    return sam_settings.model_copy(update={"ray_address": ray_address, "ray_batch_size": 1})


def segment_masks(client: TestClient, project_id: int) -> list[list[dict]]:
    """Per image (in id order), its segments as COCO RLEs."""
    with client.app.state.context.db.read() as session:  # type: ignore[attr-defined]
        rows = session.scalars(select(Segment).where(Segment.project_id == project_id)).all()
        per_image: dict[int, list[dict]] = {}
        for row in rows:
            rle = {"size": [row.height, row.width], "counts": row.rle_counts.encode()}
            per_image.setdefault(row.image_id, []).append(rle)
    return [per_image[image_id] for image_id in sorted(per_image)]


def sam_pool_vectors(client: TestClient, project_id: int) -> np.ndarray:
    """Every segment's sam-pool vector by image (id order), then segment id. Not by segment id
    alone: on Ray the image whose job item finishes first gets the lower segment ids."""
    context = client.app.state.context  # type: ignore[attr-defined]
    with context.db.read() as session:
        query = select(Segment.id).where(Segment.project_id == project_id)
        ids = session.scalars(query.order_by(Segment.image_id, Segment.id)).all()
    return context.vectors.existing(project_id, "sam-pool").get(np.array(ids, np.int64))


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """The actors encode with one torch thread; the in-process baseline does too, so both round
    floats alike (with random weights a few rounding-flipped edge pixels moved pooled vectors)."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def assert_same_masks(expected: list[dict], actual: list[dict]) -> None:
    """As many masks, each the same as one of the others up to a few pixels."""
    assert len(actual) == len(expected)
    iou = coco_mask.iou(expected, actual, [0] * len(actual))
    assert (iou.max(axis=1) >= 0.99).all() and (iou.max(axis=0) >= 0.99).all(), iou


def job_actors(job_id: int) -> list[str]:
    return [
        a["name"]
        for a in ray.util.list_named_actors(all_namespaces=True)
        if a["namespace"] == NAMESPACE and a["name"].startswith(f"job-{job_id}-")
    ]


def wait_actors_gone(job_id: int) -> None:
    deadline = time.monotonic() + 30
    while job_actors(job_id):
        assert time.monotonic() < deadline, f"the job's actors outlived it: {job_actors(job_id)}"
        time.sleep(0.1)


def start_segment(client: TestClient, count: int, params: dict) -> tuple[int, int]:
    """A project with `count` photographs and a running segment job: (project id, job id)."""
    pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
    upload(client, pid, photo_files(count))
    body = {"kind": "segment", "params": params}
    job_id = client.post(f"/api/projects/{pid}/jobs", json=body).json()["id"]
    deadline = time.monotonic() + 240
    while client.get(f"/api/jobs/{job_id}").json()["done"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return pid, job_id


def test_segment_job_on_ray_matches_in_process(
    sam_settings: Settings, ray_settings: Settings, tmp_path: Path, one_torch_thread: None
) -> None:
    results, vectors = [], []
    in_process = sam_settings.model_copy(update={"torch_threads": 1})
    for settings in (in_process, ray_settings.model_copy(update={"data_dir": tmp_path / "r"})):
        with TestClient(create_app(settings)) as client:
            pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
            images = upload(client, pid, photo_files(2))["imported"]
            job = run_job(client, pid, "segment", FAST_SEGMENT)
            assert (job["state"], job["done"], job["failed_items"]) == ("succeeded", 2, 0), job
            results.append(segment_masks(client, pid))
            job = run_job(client, pid, "embed", {"embedder": "sam-pool"})
            assert (job["state"], job["done"], job["failed_items"]) == ("succeeded", 2, 0), job
            vectors.append(sam_pool_vectors(client, pid))
    assert len(results[0]) == 2 and all(results[0])
    for expected, actual in zip(results[0], results[1], strict=True):
        assert_same_masks(expected, actual)
    local, remote = vectors
    assert len(local) == len(remote) == sum(map(len, results[0]))
    cosine = np.sum(remote.astype(np.float32) * local.astype(np.float32), axis=1)
    assert (cosine > 0.999).all(), cosine

    # The actors filled the shared embedding cache: a click encodes nothing.
    with TestClient(create_app(ray_settings.model_copy(update={"data_dir": tmp_path / "r"}))) as c:
        body = {"points": [[10, 10]], "point_labels": [1]}
        assert c.post(f"/api/images/{images[0]['id']}/predict", json=body).status_code == 200
        assert c.app.state.context.inference.stats.encoded == 0  # type: ignore[attr-defined]


def test_killed_actor_images_are_retried(ray_settings: Settings) -> None:
    with TestClient(create_app(ray_settings)) as client:
        pid, job_id = start_segment(client, 4, FAST_SEGMENT)
        for name in job_actors(job_id):  # every actor: whichever holds the unfinished images
            ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=False)
        killed_at = client.get(f"/api/jobs/{job_id}").json()["done"]
        job = wait_job(client, job_id)
        assert killed_at < 4, "the job finished before the kill: no image was in flight"
        assert (job["state"], job["done"], job["failed_items"]) == ("succeeded", 4, 0), job
        masks = segment_masks(client, pid)
        assert len(masks) == 4
        assert all(len(m) == len({rle["counts"] for rle in m}) for m in masks)
        wait_actors_gone(job_id)


def test_cancel_stops_the_actors(ray_settings: Settings) -> None:
    with TestClient(create_app(ray_settings)) as client:
        pid, job_id = start_segment(client, 4, FAST_SEGMENT)
        assert job_actors(job_id)
        cancelled = client.post(f"/api/jobs/{job_id}/cancel").json()
        written = sum(map(len, segment_masks(client, pid)))
        job = wait_job(client, job_id)
        assert job["state"] == "cancelled" and job["done"] < 4
        assert job["done"] == cancelled["done"]
        assert sum(map(len, segment_masks(client, pid))) == written
        wait_actors_gone(job_id)


def test_resume_after_server_restart_finishes_exactly_once(
    tmp_path: Path, tiny_sam_checkpoint: Path, models_dir: Path, ray_address: str
) -> None:
    env = {"LASSOLABEL_RAY_ADDRESS": ray_address, "LASSOLABEL_RAY_BATCH_SIZE": "1"}
    kill_and_resume(tmp_path, tiny_sam_checkpoint, models_dir, env, params=FAST_SEGMENT, count=4)
