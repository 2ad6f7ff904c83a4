"""Click latency of the server alone: one uvicorn process, one client, nothing else running.

    .venv/bin/python bench/predict_server.py [--clicks 40]

bench/interactive.py interleaves three paths click by click on two cores, so the in-process
paths' OpenMP threads still spin while the server answers; this measures the HTTP round trip
of /predict (cached vit_b embedding, random weights) without them, beside the server's own
decode time and a trivial GET for the HTTP floor.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from skimage import data

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.interactive import random_vit_b  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=40)
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "lassolabel-bench"))
    args = parser.parse_args()
    workdir = Path(args.workdir)
    env = {
        "LASSOLABEL_SAM_CHECKPOINT": str(random_vit_b(workdir)),
        "LASSOLABEL_MODEL_DIR": str(workdir / "models"),
        "LASSOLABEL_SEED_DEMO": "false",
        "LASSOLABEL_AUTH": "none",
        "LASSOLABEL_WARM_NUMBA_AT_STARTUP": "false",
        "LASSOLABEL_LOG_LEVEL": "warning",
    }
    with (
        tempfile.TemporaryDirectory() as tmp,
        ServerProcess(Path(tmp) / "data", env=env) as server,
        httpx.Client(base_url=server.url, timeout=600) as client,
    ):
        image_id = import_astronaut(client)
        client.post(f"/api/images/{image_id}/predict", json=click(100, 100))  # encode once
        round_trip, decode, floor = [], [], []
        rng = np.random.default_rng(0)
        for x, y in rng.uniform(0, 511, (args.clicks, 2)):
            started = time.perf_counter()
            answer = client.post(f"/api/images/{image_id}/predict", json=click(x, y)).json()
            round_trip.append((time.perf_counter() - started) * 1000)
            decode.append(answer["timing_ms"]["decode"])
            started = time.perf_counter()
            client.get(f"/api/images/{image_id}")
            floor.append((time.perf_counter() - started) * 1000)
    print(f"vit_b (random weights), astronaut, {args.clicks} clicks, multimask, server alone")
    print(f"{'measure':<36}{'p50 ms':>10}{'p95 ms':>10}")
    for name, values in (
        ("HTTP POST /predict round trip", round_trip),
        ("  of which the server's decode", decode),
        ("HTTP GET /api/images/{id} (floor)", floor),
    ):
        print(f"{name:<36}{statistics.median(values):>10.1f}{np.percentile(values, 95):>10.1f}")


def import_astronaut(client: httpx.Client) -> int:
    project_id = client.post("/api/projects", json={"name": "bench"}).json()["id"]
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "PNG")
    files = [("files", ("astronaut.png", buffer.getvalue()))]
    report = client.post(f"/api/projects/{project_id}/images", files=files).json()
    return report["imported"][0]["id"]


def click(x: float, y: float) -> dict:
    return {"points": [[float(x), float(y)]], "point_labels": [1], "multimask": True}


if __name__ == "__main__":
    main()
