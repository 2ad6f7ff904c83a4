"""A real app with the tiny SAM, and three real photographs from scikit-image."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.demo import demo_image_dir
from app.main import create_app
from tests.fixtures.tiny_sam import write_tiny_checkpoint

PHOTOS = ("coffee.png", "chelsea.png", "rocket.jpg", "astronaut.png", "coins.png", "motorcycle_left.png")
# Random weights score every mask low: keep them all, on a coarse grid, so jobs stay fast.
FAST_SEGMENT = {"points_per_side": 4, "pred_iou_thresh": 0.0, "stability_score_thresh": 0.0}


@pytest.fixture(scope="session")
def tiny_sam_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("sam") / "tiny_sam.pth")


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def sam_settings(tmp_path: Path, tiny_sam_checkpoint: Path, models_dir: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        sam_checkpoint=tiny_sam_checkpoint,
        model_dir=models_dir,
        seed_demo=False,
        auth="none",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def sam_client(sam_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(sam_settings)) as client:
        yield client


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
