"""Segment job throughput: in-process vs a local Ray cluster with 1 and 2 actors.

    .venv/bin/python bench/ray_jobs.py [--model tiny|vit_b] [--images 4] [--points-per-side 8]

The real app (TestClient, lifespan, SQLite file) runs the real segment job over the same
photographs, each configuration in a fresh data directory (so no run reuses another's
embedding cache). In-process: the inference worker with all CPU threads. Ray: a local
cluster with as many CPUs as this machine, one CPU and one torch thread per actor, one image
per actor call. Job seconds include the Ray actors' start and model load (a pool lives for
one job). Random weights: speed does not depend on weight values.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import ray
from fastapi.testclient import TestClient
from sqlalchemy import select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("LASSOLABEL_WARM_NUMBA_AT_STARTUP", "false")

from app.config import Settings  # noqa: E402
from app.context import AppContext  # noqa: E402
from app.inference.base import AutoMask  # noqa: E402
from app.main import create_app  # noqa: E402
from app.masks import decode_rle  # noqa: E402
from app.models import Image, Segment  # noqa: E402
from app.pipeline.segment import replace_auto_segments  # noqa: E402
from bench.interactive import random_vit_b  # noqa: E402
from tests.conftest import upload  # noqa: E402
from tests.fixtures.settings import make_settings  # noqa: E402
from tests.fixtures.tiny_sam import write_tiny_checkpoint  # noqa: E402
from tests.pipeline.conftest import photo_files, run_job  # noqa: E402


def checkpoint(model: str, workdir: Path) -> Path:
    if model == "vit_b":
        return random_vit_b(workdir)
    path = workdir / "tiny_sam.pth"
    return path if path.is_file() else write_tiny_checkpoint(path)


def segment_job(settings: Settings, count: int, params: dict) -> tuple[float, dict, float, float]:
    """(job wall seconds, job, segments per image, server write seconds per image) for a
    segment job over `count` photographs in a fresh app."""
    with TestClient(create_app(settings)) as client:
        pid = client.post("/api/projects", json={"name": "bench"}).json()["id"]
        upload(client, pid, photo_files(count))
        started = time.perf_counter()
        job = run_job(client, pid, "segment", params, timeout=3600)
        seconds = time.perf_counter() - started
        masks, write = server_write_cost(client.app.state.context, pid)  # type: ignore[attr-defined]
        return seconds, job, masks, write


def server_write_cost(ctx: AppContext, project_id: int) -> tuple[float, float]:
    """(segments per image, seconds per image) of what the server does with one result:
    decode the returned RLEs and replace the image's auto segments in one transaction."""
    with ctx.db.read() as session:
        images = list(session.scalars(select(Image).where(Image.project_id == project_id)))
        rles = {
            image.id: [
                s.rle for s in session.scalars(select(Segment).where(Segment.image_id == image.id))
            ]
            for image in images
        }
    started = time.perf_counter()
    for image in images:
        masks = [AutoMask(decode_rle(rle), 0.9, 0.9) for rle in rles[image.id]]
        with ctx.db.write() as session:
            replace_auto_segments(session, image=image, masks=masks, created_by=None)
    elapsed = time.perf_counter() - started
    return sum(map(len, rles.values())) / len(images), elapsed / len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", choices=["tiny", "vit_b"])
    parser.add_argument("--images", type=int, default=4, help="at most 6 photographs")
    parser.add_argument("--points-per-side", type=int, default=8)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "lassolabel-bench"))
    args = parser.parse_args()
    workdir = Path(args.workdir)
    cores = os.cpu_count() or 1
    base = make_settings(
        None,
        sam_checkpoint=checkpoint(args.model, workdir),
        model_dir=workdir / "models",
        torch_threads=cores,
        device=args.device,
    )
    params = {
        "points_per_side": args.points_per_side,
        "pred_iou_thresh": 0.0,
        "stability_score_thresh": 0.0,
    }
    ray.init(num_cpus=cores, include_dashboard=False)
    address = ray.get_runtime_context().gcs_address
    configs = [
        ("in-process", f"worker, {cores} threads", {}),
        ("ray", "1 actor x 1 thread", {"ray_address": address, "ray_actors": 1}),
        ("ray", "2 actors x 1 thread", {"ray_address": address, "ray_actors": 2}),
    ]
    rows, writes = [], []
    try:
        with tempfile.TemporaryDirectory(dir=workdir) as scratch:
            for i, (where, how, extra) in enumerate(configs):
                settings = base.model_copy(
                    update={"data_dir": Path(scratch) / str(i), "ray_batch_size": 1, **extra}
                )
                seconds, job, masks, write = segment_job(settings, args.images, params)
                assert job["state"] == "succeeded" and job["failed_items"] == 0, job
                rows.append((where, how, seconds, args.images / seconds))
                writes.append((masks, write))
    finally:
        ray.shutdown()
    print(f"\nsegment job, {args.model}, {args.images} photographs, {cores} cores")
    print(f"{'where':<11} {'actors':<22} {'job s':>7} {'images/s':>9} {'vs in-process':>14}")
    for where, how, seconds, rate in rows:
        print(f"{where:<11} {how:<22} {seconds:>7.1f} {rate:>9.3f} {rate / rows[0][3]:>13.2f}x")
    masks, write = writes[-1]
    print(f"server write per image ({masks:.0f} segments): {write * 1000:.1f} ms")


if __name__ == "__main__":
    main()
