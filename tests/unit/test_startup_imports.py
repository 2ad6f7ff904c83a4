"""Importing the app (what `lassolabel serve` and every CLI command do first) loads no torch:
torch comes with SAM, on the inference worker's thread (app/inference/sam_loader.py)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "torchvision", "segment_anything", "timm")


def test_importing_the_app_and_cli_loads_no_torch() -> None:
    probe = f"import sys, app.main, app.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"
