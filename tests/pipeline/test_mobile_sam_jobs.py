"""The real MobileSAM through the jobs: automatic masks on a coarse point grid, sam-pool
embeddings and exemplar prompting, on a real photograph whose coins are known regions.
One app, two images (the coins photo and its mirror image), each encoded once."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from sqlalchemy import select

from app.main import create_app
from app.masks import decode_rle, encode_rle
from app.models import Segment, Suggestion
from app.similar.exemplar_job import DEFAULT_MIN_SCORE
from tests.conftest import upload
from tests.fixtures.coins import Coins, coins
from tests.fixtures.settings import make_settings
from tests.pipeline.conftest import run_job

GRID = {"points_per_side": 8}  # 64 prompts per image: coarse, yet most coins get one


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def app_client(mobile_sam, models_dir, tmp_path_factory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("data"), model_dir=models_dir)
    with TestClient(create_app(settings, segmenter=mobile_sam)) as client:
        yield client


@pytest.fixture(scope="module")
def project(app_client) -> dict:
    pid = app_client.post("/api/projects", json={"name": "coins"}).json()["id"]
    pictures = [coins(), coins().mirrored()]
    files = [(f"coins{i}.png", png(c.image[..., 0])) for i, c in enumerate(pictures)]
    images = upload(app_client, pid, files)["imported"]
    job = run_job(app_client, pid, "segment", GRID, timeout=600)
    assert (job["state"], job["done"], job["failed_items"]) == ("succeeded", 2, 0), job
    return {"pid": pid, "images": [i["id"] for i in images], "truth": pictures}


def masks_of(client: TestClient, image_id: int) -> dict[int, np.ndarray]:
    with client.app.state.context.db.read() as session:  # type: ignore[attr-defined]
        rows = session.scalars(select(Segment).where(Segment.image_id == image_id)).all()
        return {row.id: decode_rle(row.rle) for row in rows}


def recall(truth: Coins, masks: list[np.ndarray]) -> float:
    """Share of coins that some mask matches at IoU >= 0.5."""
    best = {coin: 0.0 for coin in truth.ids}
    for mask in masks:
        hits = np.bincount(truth.labels[mask], minlength=truth.labels.max() + 1)
        coin = int(hits[1:].argmax()) + 1
        if coin in best:
            best[coin] = max(best[coin], truth.best_iou(mask))
    return sum(v >= 0.5 for v in best.values()) / len(best)


def test_automatic_masks_find_the_coins(app_client, project):
    for image_id, truth in zip(project["images"], project["truth"], strict=True):
        masks = list(masks_of(app_client, image_id).values())
        assert masks and all(m.shape == (303, 384) for m in masks)
        assert recall(truth, masks) >= 0.5


def test_sam_pool_vectors_put_coins_together(app_client, project):
    pid, image_id, truth = project["pid"], project["images"][0], project["truth"][0]
    encoded = app_client.app.state.context.inference.stats.encoded  # type: ignore[attr-defined]
    job = run_job(app_client, pid, "embed", {"embedder": "sam-pool"})
    assert job["state"] == "succeeded", job
    assert app_client.app.state.context.inference.stats.encoded == encoded  # type: ignore[attr-defined]
    ids, vectors = app_client.app.state.context.vectors.existing(pid, "sam-pool").all()  # type: ignore[attr-defined]
    by_id = dict(zip(ids.tolist(), vectors.astype(np.float32), strict=True))
    masks = masks_of(app_client, image_id)
    coin = [by_id[i] for i, m in masks.items() if truth.best_iou(m) >= 0.8]
    other = [by_id[i] for i, m in masks.items() if truth.best_iou(m) < 0.2]
    assert len(coin) >= 3 and other
    coin_pairs = np.stack(coin) @ np.stack(coin).T
    within = coin_pairs[~np.eye(len(coin), dtype=bool)].mean()
    across = (np.stack(coin) @ np.stack(other).T).mean()
    assert within > across + 0.1


def test_exemplar_prompting_finds_coins_in_the_other_image(app_client, project):
    pid, (first, second) = project["pid"], project["images"]
    truth = project["truth"][0]
    label = app_client.post(f"/api/projects/{pid}/labels", json={"name": "coin"}).json()["id"]
    for coin in truth.ids[:2]:
        response = app_client.post(
            f"/api/images/{first}/segments",
            json={"rle": encode_rle(truth.region(coin)), "label_id": label},
        )
        assert response.status_code == 201, response.text
    job = run_job(app_client, pid, "exemplar", {"label_id": label, "max_per_image": 3})
    assert job["state"] == "succeeded", job
    with app_client.app.state.context.db.read() as session:  # type: ignore[attr-defined]
        proposed = session.execute(
            select(Segment, Suggestion.confidence)
            .join(Suggestion, Suggestion.segment_id == Segment.id)
            .where(Suggestion.project_id == pid, Suggestion.kind == "exemplar")
        ).all()
        found = [(row.image_id, decode_rle(row.rle)) for row, _ in proposed]
    assert found and {image for image, _ in found} == {second}
    assert all(confidence >= DEFAULT_MIN_SCORE for _, confidence in proposed)  # the default
    mirrored = project["truth"][1]
    assert sum(mirrored.best_iou(mask) >= 0.8 for _, mask in found) >= 2
