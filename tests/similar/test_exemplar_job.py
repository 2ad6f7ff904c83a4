"""The exemplar job on the tiny SAM: real SQLite, real job runner, real cached embeddings.

Random weights make the masks arbitrary, so these tests check the mechanics: one item per
image, suggestions of kind exemplar, dedupe, re-run, accept, cancel/resume, validation.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from sqlalchemy import select

from app.exchange.dataset import iter_images, load_classes
from app.jobs.runner import JobCancelled, JobContext
from app.masks import encode_rle
from app.models import Segment, Suggestion
from app.similar.exemplar_job import run_exemplar_job
from tests.conftest import assert_error_shape, upload
from tests.pipeline.conftest import run_job

SIZE = (160, 120)  # W, H
IMAGES = 4


def disc_image(seed: int) -> tuple[bytes, np.ndarray]:
    """(PNG of a red disc on grey noise, the disc's HxW bool mask); disc placed by seed."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(90, 140, size=(SIZE[1], SIZE[0], 3), dtype=np.uint8)
    cy, cx = rng.integers(30, SIZE[1] - 30), rng.integers(30, SIZE[0] - 30)
    yy, xx = np.mgrid[: SIZE[1], : SIZE[0]]
    disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= 20**2
    pixels[disc] = (220, 20, 20)
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue(), disc


@pytest.fixture
def discs(sam_client: TestClient) -> dict:
    """IMAGES images of a red disc; the first image's disc is a segment labelled 'disc'."""
    client = sam_client
    pid = client.post("/api/projects", json={"name": "discs"}).json()["id"]
    made = [disc_image(seed) for seed in range(IMAGES)]
    files = [(f"d{i}.png", png) for i, (png, _) in enumerate(made)]
    image_ids = [row["id"] for row in upload(client, pid, files)["imported"]]
    label = client.post(f"/api/projects/{pid}/labels", json={"name": "disc"}).json()["id"]
    exemplar = client.post(
        f"/api/images/{image_ids[0]}/segments",
        json={"rle": encode_rle(made[0][1]), "label_id": label},
    ).json()["id"]
    return {"pid": pid, "images": image_ids, "label": label, "exemplar": exemplar}


def context(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.context  # type: ignore[attr-defined]


def exemplar_state(client: TestClient, pid: int) -> dict[int, tuple[int, int, float]]:
    """segment id -> (image id, label id, confidence) of every exemplar suggestion."""
    with context(client).db.read() as session:
        rows = session.execute(
            select(Suggestion, Segment.image_id)
            .join(Segment, Segment.id == Suggestion.segment_id)
            .where(Suggestion.project_id == pid, Suggestion.kind == "exemplar")
        ).all()
        return {s.segment_id: (image, s.label_id, s.confidence) for s, image in rows}


def segment_ids(client: TestClient, image_id: int) -> list[int]:
    body = client.get(f"/api/images/{image_id}/segments").json()
    return [s["id"] for s in body["segments"]]


RUN = {"max_per_image": 2, "min_score": 0.0}


def test_job_proposes_per_image_and_rerun_replaces(sam_client: TestClient, discs: dict) -> None:
    client, pid, label = sam_client, discs["pid"], discs["label"]
    worker = context(client).inference
    job = run_job(client, pid, "exemplar", {"label_id": label, **RUN})
    assert (job["state"], job["done"], job["total"], job["failed_items"]) == (
        "succeeded",
        IMAGES,
        IMAGES,
        0,
    ), job
    assert worker.stats.encoded == IMAGES  # each image once, the exemplar's included
    found = exemplar_state(client, pid)
    assert found, "the tiny SAM decodes non-empty masks at the prior's peaks"
    per_image = [image for image, _, _ in found.values()]
    assert discs["images"][0] not in per_image  # the exemplar's own image is not searched
    assert max(per_image.count(i) for i in set(per_image)) <= RUN["max_per_image"]
    assert {lab for _, lab, _ in found.values()} == {label}
    assert all(0 <= c <= 1 for _, _, c in found.values())
    listed = client.get(f"/api/projects/{pid}/suggestions", params={"limit": 100}).json()
    assert {s["kind"] for s in listed["items"]} == {"exemplar"}
    assert sorted(s["segment_id"] for s in listed["items"]) == sorted(found)
    for segment_id in found:
        segment = client.get(f"/api/segments/{segment_id}").json()
        assert segment["label_id"] is None and segment["source"] == "exemplar"
    before = {i: segment_ids(client, i) for i in discs["images"]}

    # Deterministic decoder: the same masks again, so they are the same segments.
    again = run_job(client, pid, "exemplar", {"label_id": label, **RUN})
    assert again["state"] == "succeeded"
    assert worker.stats.encoded == IMAGES  # cached embeddings only
    assert exemplar_state(client, pid) == found
    assert {i: segment_ids(client, i) for i in discs["images"]} == before

    # Nothing scores above 1: every proposal goes, with the segments made for it.
    run_job(client, pid, "exemplar", {"label_id": label, "min_score": 1.0})
    assert exemplar_state(client, pid) == {}
    for image_id in discs["images"]:
        assert set(segment_ids(client, image_id)) == set(before[image_id]) - set(found)
    assert discs["exemplar"] in segment_ids(client, discs["images"][0])


def test_proposal_over_an_existing_segment_is_attached_to_it(
    sam_client: TestClient, discs: dict
) -> None:
    client, pid, label = sam_client, discs["pid"], discs["label"]
    run_job(client, pid, "exemplar", {"label_id": label, **RUN})
    proposal, (image_id, _, confidence) = next(iter(exemplar_state(client, pid).items()))
    rle = client.get(f"/api/segments/{proposal}").json()["rle"]
    assert client.delete(f"/api/segments/{proposal}").status_code in (200, 204)
    manual = client.post(f"/api/images/{image_id}/segments", json={"rle": rle}).json()["id"]

    run_job(client, pid, "exemplar", {"label_id": label, **RUN})
    found = exemplar_state(client, pid)
    assert found[manual] == (image_id, label, pytest.approx(confidence))
    masks = [client.get(f"/api/segments/{s}").json()["rle"] for s in segment_ids(client, image_id)]
    assert masks.count(rle) == 1  # attached, not duplicated

    # Labelled since: no suggestion for it, and no copy of it either.
    other = client.post(f"/api/projects/{pid}/labels", json={"name": "other"}).json()["id"]
    client.post(f"/api/projects/{pid}/assign", json={"segment_ids": [manual], "label_id": other})
    run_job(client, pid, "exemplar", {"label_id": label, **RUN})
    assert manual not in exemplar_state(client, pid)
    masks = [client.get(f"/api/segments/{s}").json()["rle"] for s in segment_ids(client, image_id)]
    assert masks.count(rle) == 1


def test_accepting_writes_the_label_and_exports_only_labels(
    sam_client: TestClient, discs: dict
) -> None:
    client, pid, label = sam_client, discs["pid"], discs["label"]
    run_job(client, pid, "exemplar", {"label_id": label, **RUN})
    proposals = sorted(exemplar_state(client, pid))
    ctx = context(client)
    exported = [s.id for image in iter_images(ctx.db, pid, load_classes(ctx.db, pid),
                include_unlabelled=False) for s in image.segments]  # fmt: skip
    assert exported == [discs["exemplar"]]  # proposals are unlabelled: not annotations

    accepted = client.post(
        f"/api/projects/{pid}/suggestions/accept", json={"segment_ids": proposals[:1]}
    ).json()
    assert accepted["count"] == 1
    segment = client.get(f"/api/segments/{proposals[0]}").json()
    assert (segment["label_id"], segment["source"]) == (label, "propagated")
    assert proposals[0] not in exemplar_state(client, pid)
    # A re-run keeps the accepted segment (labelled now) and suggests nothing for it.
    run_job(client, pid, "exemplar", {"label_id": label, **RUN})
    assert client.get(f"/api/segments/{proposals[0]}").json()["label_id"] == label
    assert proposals[0] not in exemplar_state(client, pid)


class CancelAfterFirstItem(JobContext):
    def complete_item(self, key, write=None, *, error=None):  # type: ignore[no-untyped-def]
        super().complete_item(key, write, error=error)
        self.runner.cancel(self.job_id)


def test_cancel_between_images_then_resume(sam_client: TestClient, discs: dict) -> None:
    client, pid = sam_client, discs["pid"]
    ctx = context(client)
    params = {"label_id": discs["label"], **RUN}
    job = ctx.jobs.create(project_id=pid, kind="exemplar", params=params, enqueue=False)
    with pytest.raises(JobCancelled):
        run_exemplar_job(CancelAfterFirstItem(ctx.jobs, job), ctx)
    first = client.get(f"/api/jobs/{job.id}/items").json()["items"]
    assert [item["item_key"] for item in first] == [f"image:{discs['images'][0]}"]
    assert exemplar_state(client, pid) == {}  # nothing written after the cancel

    with ctx.db.write() as session:
        session.get(type(job), job.id).cancel_requested = False
    run_exemplar_job(JobContext(ctx.jobs, job), ctx)
    items = client.get(f"/api/jobs/{job.id}/items").json()["items"]
    assert sorted(item["item_key"] for item in items) == sorted(
        f"image:{i}" for i in discs["images"]
    )
    assert client.get(f"/api/jobs/{job.id}").json()["done"] == IMAGES
    assert exemplar_state(client, pid)


def post_job(client: TestClient, pid: int, params: dict):  # type: ignore[no-untyped-def]
    return client.post(f"/api/projects/{pid}/jobs", json={"kind": "exemplar", "params": params})


def test_invalid_params_are_refused_at_creation(sam_client: TestClient, discs: dict) -> None:
    client, pid = sam_client, discs["pid"]
    assert_error_shape(post_job(client, pid, {"label_id": 9999}), 422, "unknown_label")
    other = client.post("/api/projects", json={"name": "another project"}).json()["id"]
    theirs = {"label_id": discs["label"]}  # a real label, of the first project
    assert_error_shape(post_job(client, other, theirs), 422, "unknown_label")
    empty = client.post(f"/api/projects/{pid}/labels", json={"name": "empty"}).json()["id"]
    error = assert_error_shape(post_job(client, pid, {"label_id": empty}), 422, "no_exemplars")
    assert "empty" in error["message"]
    unlabelled = client.post(
        f"/api/images/{discs['images'][1]}/segments", json={"rle": encode_rle(disc_image(1)[1])}
    ).json()["id"]
    bad = {"label_id": discs["label"], "exemplar_segment_ids": [discs["exemplar"], unlabelled]}
    error = assert_error_shape(post_job(client, pid, bad), 422, "not_exemplars")
    assert error["detail"] == {"segment_ids": [unlabelled]}
    assert_error_shape(post_job(client, pid, {"label_id": discs["label"], "k": 1}), 422)
    too_many = {"label_id": discs["label"], "max_per_image": 0}
    assert_error_shape(post_job(client, pid, too_many), 422)


def test_the_offline_segmenter_says_sam_is_needed(client: TestClient) -> None:
    pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
    error = assert_error_shape(post_job(client, pid, {"label_id": 1}), 409, "needs_sam")
    assert "SAM checkpoint" in error["message"]
