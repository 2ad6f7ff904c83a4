"""Without LASSOLABEL_RAY_ADDRESS the app never imports Ray."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# A fresh interpreter importing the whole app and running a job: it runs with the other Ray
# tests in `make test`, not in the fast loop.
pytestmark = pytest.mark.slow


def test_app_and_segment_job_never_import_ray(
    tmp_path: Path, tiny_sam_checkpoint: Path, models_dir: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LASSOLABEL_RAY_ADDRESS"}
    probe = [sys.executable, "-m", "tests.distributed.no_ray_probe"]
    args = [str(tmp_path / "data"), str(tiny_sam_checkpoint), str(models_dir)]
    done = subprocess.run(probe + args, env=env, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"state": "succeeded", "ray_imported": False}
