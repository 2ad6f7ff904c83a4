"""Tiny SAM end to end through HTTP: clicks, refinement, caches, faults, segments."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image as PILImage

from app.config import Settings
from app.inference.base import Prompt
from app.main import create_app
from app.masks import decode_rle, encode_rle, rle_area, rle_bbox
from tests.conftest import assert_error_shape, upload
from tests.fixtures.settings import make_settings
from tests.fixtures.tiny_sam import write_tiny_checkpoint
from tests.inference.conftest import photo

H, W = 240, 320
CLICK = {"points": [[160, 120]], "point_labels": [1]}


def app_settings(data_dir: Path, checkpoint: Path | None, models_dir: Path) -> Settings:
    return make_settings(
        data_dir, sam_checkpoint=checkpoint, model_dir=models_dir, prefetch_ahead=0
    )


@contextmanager
def running(settings: Settings, **overrides) -> Iterator[TestClient]:
    with TestClient(create_app(settings, **overrides)) as client:
        yield client


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def add_images(client: TestClient, count: int = 1) -> list[dict]:
    project = client.post("/api/projects", json={"name": "p"}).json()
    files = [(f"im{i}.png", png(photo(H, W, seed=i))) for i in range(count)]
    return upload(client, project["id"], files)["imported"]


def worker(client: TestClient):
    return client.app.state.context.inference


@pytest.fixture
def settings(tmp_path, tiny_sam_checkpoint, models_dir) -> Settings:
    return app_settings(tmp_path / "data", tiny_sam_checkpoint, models_dir)


@pytest.fixture
def client(settings, tiny_segmenter) -> Iterator[TestClient]:
    with running(settings, segmenter=tiny_segmenter) as c:
        yield c


@pytest.fixture
def image_id(client) -> int:
    return add_images(client)[0]["id"]


def predict(client, image_id, **body):
    return client.post(f"/api/images/{image_id}/predict", json=body)


@pytest.mark.parametrize(
    "body",
    [
        CLICK,
        {"box": [60, 40, 260, 200]},
        {"box": [60, 40, 260, 200], "points": [[100, 100]], "point_labels": [0]},
        {**CLICK, "multimask": False},
    ],
    ids=["point", "box", "box+negative", "single"],
)
def test_predict_answers_rle_masks_sorted_by_score(client, image_id, body, tiny_segmenter):
    response = predict(client, image_id, **body)
    assert response.status_code == 200, response.text
    answer = response.json()
    masks = answer["masks"]
    assert len(masks) == (1 if body.get("multimask") is False else 3)
    assert [m["score"] for m in masks] == sorted((m["score"] for m in masks), reverse=True)
    for m in masks:
        assert m["rle"]["size"] == [H, W] and isinstance(m["rle"]["counts"], str)
        assert m["area"] == rle_area(m["rle"]) and m["bbox"] == rle_bbox(m["rle"])
        assert 0 <= m["score"] <= 1
    assert answer["mask_input"] == masks[0]["handle"]
    assert set(answer["timing_ms"]) == {"encode", "decode"}
    # The same masks as the segmenter gives in-process for the same prompt.
    state = worker(client).prepare_blocking(_sha(client, image_id), lambda: None)
    direct = tiny_segmenter.predict(state, _prompt(body))
    assert [encode_rle(d.mask) for d in direct] == [m["rle"] for m in masks]


def test_refinement_with_mask_input_handle(client, image_id, tiny_segmenter):
    """A refining click passes the refined answer's predicted IoU on: the refinement rule may
    answer with another token than the single mask (refinement.py), from the second click."""
    first = predict(client, image_id, **CLICK).json()
    refined = predict(client, image_id, **CLICK, mask_input=first["mask_input"], multimask=False)
    assert refined.status_code == 200, refined.text
    state = worker(client).prepare_blocking(_sha(client, image_id), lambda: None)
    best = tiny_segmenter.predict(state, _prompt(CLICK))[0]
    refine = _prompt({**CLICK, "multimask": False}, mask_input=best.low_res_logits[None])
    refine = replace(refine, previous_score=best.score, candidate=best.token)
    expected = tiny_segmenter.predict(state, refine)[0]
    assert refined.json()["masks"][0]["rle"] == encode_rle(expected.mask)
    again = predict(client, image_id, **CLICK, mask_input=refined.json()["mask_input"])
    assert len(again.json()["masks"]) == 3  # multimask refining: SAM's three, no rule
    twice = predict(
        client, image_id, **CLICK, mask_input=refined.json()["mask_input"], multimask=False
    )
    refine = replace(refine, mask_input=expected.low_res_logits[None])
    rule = tiny_segmenter.predict(state, replace(refine, previous_score=expected.score))[0]
    assert twice.json()["masks"][0]["rle"] == encode_rle(rule.mask)
    assert twice.json()["masks"][0]["score"] == rule.score


def test_refinements_keep_to_the_candidate_their_chain_began_with(client, image_id):
    """Each one-click candidate's handle names its own token; a refinement's handle names the
    token of the candidate it (or the mask it refined) began with (refinement.py's FAR rule);
    a box's answer begins no chain."""
    handles = client.app.state.context.mask_handles
    first = predict(client, image_id, **CLICK).json()["masks"]
    tokens = [handles.get(m["handle"]).candidate for m in first]
    assert sorted(tokens) == [1, 2, 3]
    handle = first[1]["handle"]  # the user chose the second candidate shown
    for _ in range(2):
        answer = predict(client, image_id, **CLICK, mask_input=handle, multimask=False)
        handle = answer.json()["mask_input"]
        assert handles.get(handle).candidate == tokens[1]
    box = predict(client, image_id, box=[100, 80, 220, 160], multimask=False).json()
    assert handles.get(box["mask_input"]).candidate is None


def test_encoder_runs_once_per_image(client, image_id):
    for x in (50, 100, 150, 200):
        assert predict(client, image_id, points=[[x, 100]], point_labels=[1]).status_code == 200
    assert worker(client).stats.encoded == 1 and worker(client).stats.decoded == 4


def test_concurrent_clicks_from_several_clients_are_all_answered(client):
    ids = [i["id"] for i in add_images(client, 3)]
    results: list[int] = []

    def clicker(k: int) -> None:
        for j in range(3):
            r = predict(
                client, ids[(k + j) % 3], points=[[20 + 10 * k, 30 + 5 * j]], point_labels=[1]
            )
            results.append(r.status_code)

    threads = [threading.Thread(target=clicker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == [200] * 18
    assert worker(client).stats.encoded == 3


def test_disk_cache_survives_restart_and_corrupt_file_is_recomputed(settings, tiny_segmenter):
    with running(settings, segmenter=tiny_segmenter) as first:
        image_id = add_images(first)[0]["id"]
        expected = predict(first, image_id, **CLICK).json()["masks"]
    with running(settings, segmenter=tiny_segmenter) as second:
        assert predict(second, image_id, **CLICK).json()["masks"][0]["rle"] == expected[0]["rle"]
        assert worker(second).stats.encoded == 0 and worker(second).cache.stats.disk_hits == 1
        files = list((settings.cache_dir / "embeddings").rglob("*.emb"))
    assert len(files) == 1
    files[0].write_bytes(files[0].read_bytes()[:-10] + b"0123456789")
    with running(settings, segmenter=tiny_segmenter) as third:
        assert predict(third, image_id, **CLICK).status_code == 200
        assert worker(third).stats.encoded == 1 and worker(third).cache.stats.corrupt == 1


def test_model_change_never_serves_stale_embeddings(tmp_path, tiny_sam_checkpoint, models_dir):
    settings = app_settings(tmp_path / "data", tiny_sam_checkpoint, models_dir)
    with running(settings) as first:  # loaded from the checkpoint file like a real model
        image_id = add_images(first)[0]["id"]
        assert predict(first, image_id, **CLICK).status_code == 200
        old_model = worker(first).model_id
    other = write_tiny_checkpoint(tmp_path / "other.pth", seed=1)
    with running(settings.model_copy(update={"sam_checkpoint": other})) as second:
        assert predict(second, image_id, **CLICK).status_code == 200
        assert worker(second).model_id != old_model and worker(second).stats.encoded == 1
        assert worker(second).cache.stats.disk_hits == 0


def test_no_model_answers_503_saying_how_to_configure(tmp_path, models_dir):
    settings = app_settings(tmp_path / "data", None, models_dir)
    with running(settings.model_copy(update={"segmenter": "sam"})) as client:
        image_id = add_images(client)[0]["id"]
        error = assert_error_shape(predict(client, image_id, **CLICK), 503)
        assert "LASSOLABEL_SAM_CHECKPOINT" in error["message"]
        for method, path in (("post", "prefetch"), ("get", "embedding")):
            assert_error_shape(getattr(client, method)(f"/api/images/{image_id}/{path}"), 503)
        assert client.get("/api/health").json()["segmenter"]["available"] is False
        assert client.get(f"/api/images/{image_id}/segments").status_code == 200


def test_without_checkpoint_the_offline_segmenter_answers(tmp_path, models_dir):
    with running(app_settings(tmp_path / "data", None, models_dir)) as client:
        image_id = add_images(client)[0]["id"]
        answer = predict(client, image_id, **CLICK)
        assert answer.status_code == 200, answer.text
        masks = answer.json()["masks"]
        assert len(masks) == 3 and all(0 <= m["score"] <= 1 for m in masks)
        segmenter = client.get("/api/health").json()["segmenter"]
        assert (
            segmenter["name"] == "classic" and "configure a SAM checkpoint" in segmenter["notice"]
        )


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_tampered_checkpoint_is_refused_and_never_executed(
    tmp_path, models_dir, tiny_sam_checkpoint
):
    evil = tmp_path / "evil.pth"
    state = torch.load(tiny_sam_checkpoint, weights_only=True)
    state["mask_decoder.iou_token.weight"] = _Payload(tmp_path / "pwned")
    torch.save(state, evil)
    with running(app_settings(tmp_path / "data", evil, models_dir)) as client:
        image_id = add_images(client)[0]["id"]
        error = assert_error_shape(predict(client, image_id, **CLICK), 503)
        assert "not a plain weights file" in error["message"]
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "at least one point or a box"),
        ({"points": [[10, 10]], "point_labels": []}, "1 points but 0 point_labels"),
        ({"points": [[10, 10]], "point_labels": [2]}, "point_labels must be"),
        ({"points": [[W + 5, 10]], "point_labels": [1]}, "inside the image"),
        ({"points": [[-1, 10]], "point_labels": [1]}, "inside the image"),
        ({"box": [50, 50, 40, 80]}, "x0 < x1"),
        ({"box": [0, 0, 10, H + 1]}, "inside the image"),
        ({**CLICK, "mask_input": "no-such-handle"}, "mask_input is unknown"),
        ({"points": [[10]], "point_labels": [1]}, ""),
    ],
)
def test_bad_prompts_get_422_with_a_message(client, image_id, body, message):
    error = assert_error_shape(predict(client, image_id, **body), 422)
    assert message in error["message"]


def test_embedding_is_fp16_bytes_with_shape_headers(client, image_id):
    response = client.get(f"/api/images/{image_id}/embedding")
    assert response.status_code == 200
    shape = tuple(int(n) for n in response.headers["x-embedding-shape"].split(","))
    assert shape == (1, 256, 64, 64) and response.headers["x-original-size"] == f"{H},{W}"
    features = np.frombuffer(response.content, "<f2").reshape(shape)
    assert np.isfinite(features).all()


def test_prefetch_encodes_without_a_click(client, image_id):
    assert client.post(f"/api/images/{image_id}/prefetch").status_code == 202
    state = worker(client).prepare_blocking(_sha(client, image_id), lambda: None)
    assert state.original_size == (H, W) and worker(client).stats.encoded == 1


def test_segments_from_handle_and_rle_listed_patched_deleted(client, image_id):
    label = client.post(
        f"/api/projects/{_project(client, image_id)}/labels", json={"name": "cat"}
    ).json()
    answer = predict(client, image_id, **CLICK).json()
    url = f"/api/images/{image_id}/segments"
    saved = client.post(
        url, json={"mask_handle": answer["masks"][0]["handle"], "label_id": label["id"]}
    )
    assert saved.status_code == 201, saved.text
    assert (
        saved.json()["rle"] == answer["masks"][0]["rle"] and saved.json()["label_id"] == label["id"]
    )
    mask = np.zeros((H, W), bool)
    mask[10:20, 30:50] = True
    drawn = client.post(url, json={"rle": {"size": [H, W], "counts": column_major_runs(mask)}})
    assert drawn.status_code == 201, drawn.text
    np.testing.assert_array_equal(decode_rle(drawn.json()["rle"]), mask)
    assert drawn.json()["bbox"] == [30.0, 10.0, 20.0, 10.0] and drawn.json()["area"] == 200
    assert [s["id"] for s in client.get(url).json()["segments"]] == [
        saved.json()["id"],
        drawn.json()["id"],
    ]
    seg = f"/api/segments/{drawn.json()['id']}"
    patched = client.patch(seg, json={"label_id": label["id"], "version": 1})
    assert patched.json()["label_id"] == label["id"] and patched.json()["version"] == 2
    assert_error_shape(client.patch(seg, json={"label_id": None, "version": 1}), 409)
    assert client.delete(seg).status_code == 204
    assert len(client.get(url).json()["segments"]) == 1


def test_segment_with_wrong_size_or_bad_rle_is_422(client, image_id):
    url = f"/api/images/{image_id}/segments"
    assert_error_shape(client.post(url, json={"rle": encode_rle(np.zeros((5, 5), bool))}), 422)
    assert_error_shape(client.post(url, json={"rle": {"size": [H, W], "counts": [1, 2]}}), 422)
    assert_error_shape(client.post(url, json={"mask_handle": "nope"}), 422)
    assert_error_shape(client.post(url, json={}), 422)


def column_major_runs(mask: np.ndarray) -> list[int]:
    """COCO's uncompressed counts: run lengths over the mask read column by column, 0s first."""
    flat = mask.T.ravel().astype(np.int8)
    bounds = np.r_[0, np.flatnonzero(np.diff(flat)) + 1, flat.size]
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat[0] else runs


def _sha(client, image_id) -> str:
    return client.get(f"/api/images/{image_id}").json()["sha256"]


def _project(client, image_id) -> int:
    return client.get(f"/api/images/{image_id}").json()["project_id"]


def _prompt(body: dict, mask_input=None) -> Prompt:
    return Prompt(
        points=np.array(body.get("points", []), np.float32).reshape(-1, 2),
        point_labels=np.array(body.get("point_labels", []), np.int32),
        box=np.array(body["box"], np.float32) if "box" in body else None,
        mask_input=mask_input,
        multimask=body.get("multimask", True),
    )
