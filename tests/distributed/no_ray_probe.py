"""Run in a fresh interpreter: a normal app start and a segment job, then print whether
`ray` got imported (tests/distributed/test_ray_optional.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import upload
from tests.fixtures.settings import make_settings
from tests.pipeline.conftest import FAST_SEGMENT, photo_files, run_job


def main(data_dir: str, checkpoint: str, models_dir: str) -> None:
    settings = make_settings(
        Path(data_dir), sam_checkpoint=Path(checkpoint), model_dir=Path(models_dir)
    )
    with TestClient(create_app(settings)) as client:
        pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
        upload(client, pid, photo_files(1))
        job = run_job(client, pid, "segment", FAST_SEGMENT)
    print(json.dumps({"state": job["state"], "ray_imported": "ray" in sys.modules}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
