from __future__ import annotations

import time

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.maps.cache import CACHE_FILE
from app.maps.wire import decode_map
from app.models import JobState, Segment, SegmentSource
from app.pipeline.params import SegmentParams
from tests.conftest import assert_error_shape, upload
from tests.pipeline.conftest import FAST_SEGMENT, photo_files, run_job, wait_job


def segments_by_image(client: TestClient, project_id: int) -> dict[int, list[Segment]]:
    ctx = client.app.state.context  # type: ignore[attr-defined]
    with ctx.db.read() as session:
        rows = session.scalars(select(Segment).where(Segment.project_id == project_id)).all()
    grouped: dict[int, list[Segment]] = {}
    for row in rows:
        grouped.setdefault(row.image_id, []).append(row)
    return grouped


def test_segment_embed_project_assign_end_to_end(sam_client: TestClient) -> None:
    client = sam_client
    pid = client.post("/api/projects", json={"name": "photos"}).json()["id"]
    images = upload(client, pid, photo_files())["imported"]
    assert len(images) == 3

    job = run_job(client, pid, "segment", FAST_SEGMENT)
    assert (job["state"], job["done"], job["failed_items"]) == ("succeeded", 3, 0), job
    grouped = segments_by_image(client, pid)
    assert set(grouped) == {i["id"] for i in images}
    for image in images:
        rows = grouped[image["id"]]
        assert all(r.source == SegmentSource.auto and r.height == image["height"] for r in rows)
        assert all(0 < r.area <= image["width"] * image["height"] for r in rows)
        assert len({r.rle_counts for r in rows}) == len(rows)
        ids = {r.id for r in rows}
        assert all(r.parent_id is None or r.parent_id in ids for r in rows)
    total = sum(len(rows) for rows in grouped.values())

    # The default embedder where SAM segments: its cached image embedding pooled per mask.
    ctx = client.app.state.context  # type: ignore[attr-defined]
    encoded = ctx.inference.stats.encoded
    job = run_job(client, pid, "embed")
    assert (job["state"], job["done"]) == ("succeeded", 3), job
    assert ctx.inference.stats.encoded == encoded
    assert client.get(f"/api/projects/{pid}").json()["embedder"] == "sam-pool"
    sam_ids, sam_vectors = ctx.vectors.existing(pid, "sam-pool").all()
    assert len(sam_ids) == total and sam_vectors.shape[1] == 256

    job = run_job(client, pid, "embed", {"embedder": "timm:tf_efficientnet_lite0"})
    assert job["state"] == "succeeded", job
    ids, vectors = ctx.vectors.existing(pid, "timm:tf_efficientnet_lite0").all()
    assert len(ids) == total and vectors.shape[1] == 1280
    np.testing.assert_allclose(np.linalg.norm(vectors.astype(np.float32), axis=1), 1, atol=1e-2)

    # Combined: each part's unit vector, halved in weight, from the same cached state.
    both = "sam-pool+timm:tf_efficientnet_lite0"
    assert run_job(client, pid, "embed", {"embedder": both})["state"] == "succeeded"
    assert ctx.inference.stats.encoded == encoded
    both_ids, both_vectors = ctx.vectors.existing(pid, both).all()
    np.testing.assert_array_equal(both_ids, sam_ids)
    joined = np.hstack([sam_vectors, vectors]).astype(np.float32) / np.sqrt(2)
    np.testing.assert_allclose(both_vectors.astype(np.float32), joined, atol=2e-3)

    job = run_job(client, pid, "projection", {"n_epochs": 50})
    assert job["state"] == "succeeded", job
    # Vectors read, the neighbour graph, the layout's epochs in tenths, the map written.
    assert (job["done"], job["total"]) == (13, 13)
    stages = [i["item_key"] for i in client.get(f"/api/jobs/{job['id']}/items").json()["items"]]
    assert stages == ["vectors", "neighbours", *(f"layout {p}%" for p in range(10, 101, 10)), "map"]
    embedder = client.get(f"/api/projects/{pid}").json()["embedder"]
    cache = ctx.maps.path(pid, embedder).with_name(CACHE_FILE)
    assert cache.is_file()  # encoded by the job: the first open reads no segment rows
    header, arrays = decode_map(client.get(f"/api/projects/{pid}/map").content)
    assert header["count"] == total and header["unplaced"] == 0
    again = run_job(client, pid, "projection")  # nothing new: placed on the fitted map, no fit
    assert (again["state"], again["done"], again["total"]) == ("succeeded", 3, 3), again
    assert np.isfinite(arrays["x"]).all() and np.isfinite(arrays["y"]).all()

    # A lasso-like subset: every point left of the median x.
    chosen = arrays["segment_id"][arrays["x"] < np.median(arrays["x"])].tolist()
    label = client.post(f"/api/projects/{pid}/labels", json={"name": "thing"}).json()
    assert client.post(
        f"/api/projects/{pid}/assign", json={"segment_ids": chosen, "label_id": label["id"]}
    ).json()["count"] == len(chosen)
    header, arrays = decode_map(client.get(f"/api/projects/{pid}/map").content)
    assert sorted(arrays["segment_id"][arrays["label"] == 0].tolist()) == sorted(chosen)

    # Re-running segment keeps labelled segments and replaces only the unlabelled ones.
    job = run_job(client, pid, "segment", FAST_SEGMENT)
    assert job["state"] == "succeeded"
    after = [r for rows in segments_by_image(client, pid).values() for r in rows]
    assert {r.id for r in after if r.label_class_id == label["id"]} == set(chosen)


def test_job_params_are_validated(sam_client: TestClient) -> None:
    pid = sam_client.post("/api/projects", json={"name": "p"}).json()["id"]
    for kind, params in (
        ("segment", {"points_per_side": 0}),
        ("segment", {"no_such_arg": 1}),
        ("embed", {"batch_size": "many"}),
        ("projection", {"metric": "hamming"}),
    ):
        response = sam_client.post(
            f"/api/projects/{pid}/jobs", json={"kind": kind, "params": params}
        )
        assert_error_shape(response, 422)


def test_corrupt_image_is_recorded_and_skipped(sam_client: TestClient) -> None:
    client = sam_client
    pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
    images = upload(client, pid, photo_files()[:2])["imported"]
    ctx = client.app.state.context  # type: ignore[attr-defined]
    with ctx.db.read() as session:
        from app.models import Image

        broken = session.get(Image, images[0]["id"])
        ctx.files.resolve(broken.stored_path).write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    job = run_job(client, pid, "segment", FAST_SEGMENT)
    assert (job["state"], job["done"], job["failed_items"]) == ("succeeded", 2, 1), job
    failed = client.get(f"/api/jobs/{job['id']}/items?failed_only=true").json()["items"]
    assert [f["item_key"] for f in failed] == [f"image:{images[0]['id']}"] and failed[0]["error"]
    assert set(segments_by_image(client, pid)) == {images[1]["id"]}


def test_projection_without_embeddings_fails_clearly(sam_client: TestClient) -> None:
    pid = sam_client.post("/api/projects", json={"name": "p"}).json()["id"]
    # "project", the kind's earlier name, is still accepted and runs the projection.
    job = run_job(sam_client, pid, "project")
    assert job["kind"] == "projection"
    assert job["state"] == "failed" and "embed job first" in job["error"]


def test_cancel_mid_job_writes_nothing_after(sam_client: TestClient) -> None:
    client = sam_client
    pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
    upload(client, pid, photo_files())
    slow = {**FAST_SEGMENT, "points_per_side": 12, "points_per_batch": 16}
    job_id = client.post(
        f"/api/projects/{pid}/jobs", json={"kind": "segment", "params": slow}
    ).json()["id"]
    while client.get(f"/api/jobs/{job_id}").json()["done"] < 1:
        time.sleep(0.05)
    cancelled = client.post(f"/api/jobs/{job_id}/cancel").json()
    # The cancel answers at once, not after the job: the job is still unfinished in the answer.
    assert cancelled["cancel_requested"] and not JobState(cancelled["state"]).finished
    written = sum(len(rows) for rows in segments_by_image(client, pid).values())
    job = wait_job(client, job_id)
    assert job["state"] == "cancelled" and job["done"] <= cancelled["done"]
    assert sum(len(rows) for rows in segments_by_image(client, pid).values()) == written


def test_segment_job_prompts_an_eight_point_grid_by_default() -> None:
    """bench/effort.py's pick: whole objects from 8x8 prompts; other settings stay SAM's."""
    assert SegmentParams().generator_args() == {"points_per_side": 8}
    chosen = SegmentParams(points_per_side=16, pred_iou_thresh=0.5).generator_args()
    assert chosen == {"points_per_side": 16, "pred_iou_thresh": 0.5}
