"""SIGKILL the real server in the middle of a segment job; the restarted server resumes it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from app.db import Database
from app.models import Job, Segment
from tests.pipeline.conftest import FAST_SEGMENT, photo_files
from tests.server_process import ServerProcess

# Two server start-ups and a SIGKILL: minutes on a loaded machine, so not in `make test-fast`.
pytestmark = pytest.mark.slow

SLOW_SEGMENT = {**FAST_SEGMENT, "points_per_side": 8, "points_per_batch": 16}


def test_job_resumes_after_sigkill(
    tmp_path: Path, tiny_sam_checkpoint: Path, models_dir: Path
) -> None:
    kill_and_resume(tmp_path, tiny_sam_checkpoint, models_dir)


def kill_and_resume(
    tmp_path: Path,
    checkpoint: Path,
    models_dir: Path,
    extra_env: dict[str, str] | None = None,
    *,
    params: dict = SLOW_SEGMENT,
    count: int = 6,
) -> None:
    """Start a segment job of `count` images, SIGKILL the server after the first, restart it
    and check the job finishes with every image recorded once and one set of segments each."""
    data_dir = tmp_path / "data"
    env = {
        "LASSOLABEL_SAM_CHECKPOINT": str(checkpoint),
        "LASSOLABEL_MODEL_DIR": str(models_dir),
        "LASSOLABEL_SEED_DEMO": "false",
        "LASSOLABEL_AUTH": "none",
        **(extra_env or {}),
    }
    server = ServerProcess(data_dir, env=env).start()
    http = httpx.Client(base_url=server.url, timeout=30)
    try:
        pid = http.post("/api/projects", json={"name": "p"}).json()["id"]
        http.post(f"/api/projects/{pid}/images", files=[("files", f) for f in photo_files(count)])
        job_id = http.post(
            f"/api/projects/{pid}/jobs", json={"kind": "segment", "params": params}
        ).json()["id"]
        deadline = time.monotonic() + 300
        while http.get(f"/api/jobs/{job_id}").json()["done"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    except BaseException:
        server.stop()
        raise
    finally:
        http.close()
    server.kill()
    db = Database(f"sqlite:///{data_dir / 'lassolabel.db'}")
    with db.read() as session:
        done_at_kill = session.get(Job, job_id).done
    db.dispose()
    assert done_at_kill < count, "the job finished before the kill: nothing was resumed"

    with (
        ServerProcess(data_dir, env=env) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        deadline = time.monotonic() + 600
        while (job := http.get(f"/api/jobs/{job_id}").json())["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert (job["state"], job["done"], job["total"], job["failed_items"]) == (
            "succeeded",
            count,
            count,
            0,
        )
        items = http.get(f"/api/jobs/{job_id}/items").json()
        assert sorted(i["item_key"] for i in items["items"]) == sorted(
            {i["item_key"] for i in items["items"]}
        )

    db = Database(f"sqlite:///{data_dir / 'lassolabel.db'}")
    with db.read() as session:
        rows = session.query(Segment.image_id, Segment.rle_counts).all()
    db.dispose()
    per_image: dict[int, list[str]] = {}
    for image_id, counts in rows:
        per_image.setdefault(image_id, []).append(counts)
    assert len(per_image) == count
    for masks in per_image.values():
        assert len(masks) == len(set(masks)), "an image got two sets of automatic segments"
