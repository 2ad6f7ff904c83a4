from __future__ import annotations

import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image as PILImage

from app.masks import encode_rle
from tests.conftest import assert_error_shape, png_bytes, upload


def _square_rle(height: int, width: int, box: tuple[int, int, int, int]) -> dict:
    mask = np.zeros((height, width), bool)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = True
    return encode_rle(mask)


def test_segment_detail_thumbnail_stats_and_label_deletion(
    client: TestClient, project: dict
) -> None:
    pid = project["id"]
    image = upload(client, pid, [("a.png", png_bytes(64, 48))])["imported"][0]
    cat = client.post(f"/api/projects/{pid}/labels", json={"name": "cat"}).json()
    rle = _square_rle(48, 64, (10, 5, 30, 25))
    created = client.post(
        f"/api/images/{image['id']}/segments", json={"rle": rle, "label_id": cat["id"]}
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    assert (segment["area"], segment["bbox"], segment["parent_id"]) == (400, [10, 5, 20, 20], None)
    # An uncompressed RLE (list counts) is accepted too and stored compactly.
    listed = {"size": [48, 64], "counts": [5 * 48, 48, 48 * 64 - 6 * 48]}
    other = client.post(f"/api/images/{image['id']}/segments", json={"rle": listed}).json()
    assert isinstance(other["rle"]["counts"], str) and other["area"] == 48

    detail = client.get(f"/api/segments/{segment['id']}").json()
    assert (detail["image_filename"], detail["image_width"], detail["label_id"]) == (
        "a.png",
        64,
        cat["id"],
    )
    thumb = client.get(f"/api/segments/{segment['id']}/thumbnail?size=64")
    assert thumb.headers["content-type"] == "image/jpeg"
    assert PILImage.open(io.BytesIO(thumb.content)).size == (64, 64)
    assert_error_shape(client.get(f"/api/segments/{segment['id']}/thumbnail?size=4"), 422)
    assert_error_shape(client.get("/api/segments/999999"), 404)

    stats = client.get(f"/api/projects/{pid}/stats").json()
    assert (stats["segments_total"], stats["labelled"], stats["unlabelled"]) == (2, 1, 1)
    assert [(c["name"], c["count"]) for c in stats["per_label"]] == [("cat", 1)]

    # Deleting a label unlabels its segments through the audited, versioned path.
    assert client.delete(f"/api/projects/{pid}/labels/{cat['id']}").status_code == 204
    after = client.get(f"/api/segments/{segment['id']}").json()
    assert (after["label_id"], after["version"]) == (None, segment["version"] + 1)
    history = client.get(f"/api/projects/{pid}/history").json()
    assert history["items"][0]["segment_count"] == 1


def test_segment_rle_validation(client: TestClient, project: dict) -> None:
    image = upload(client, project["id"], [("a.png", png_bytes(8, 8))])["imported"][0]
    url = f"/api/images/{image['id']}/segments"
    assert_error_shape(client.post(url, json={"rle": {"size": [4, 4], "counts": [16]}}), 422)
    assert_error_shape(client.post(url, json={"rle": {"size": [8, 8], "counts": [10, 100]}}), 422)
    assert_error_shape(client.post(url, json={"rle": {"size": [8, 8], "counts": "#$%"}}), 422)
    assert_error_shape(client.post(url, json={}), 422)
    assert_error_shape(client.post(url, json={"mask_handle": "nope"}), 422)


def test_mask_edit_is_versioned_and_audited(client: TestClient, project: dict) -> None:
    pid = project["id"]
    image = upload(client, pid, [("a.png", png_bytes())])["imported"][0]
    url = f"/api/images/{image['id']}/segments"
    made = client.post(url, json={"rle": _square_rle(48, 64, (10, 5, 30, 25))}).json()
    grown = _square_rle(48, 64, (10, 5, 40, 25))
    edited = client.patch(f"/api/segments/{made['id']}", json={"rle": grown, "version": 1})
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2 and edited.json()["area"] == 600
    stale = client.patch(f"/api/segments/{made['id']}", json={"rle": grown, "version": 1})
    assert_error_shape(stale, 409, "stale_version")
    batch = client.get(f"/api/projects/{pid}/history").json()["items"][0]
    assert (batch["kind"], batch["segment_count"]) == ("edit", 1)
    detail = client.get(f"/api/projects/{pid}/history/{batch['id']}").json()
    assert detail["changes"] == [
        {"segment_id": made["id"], "old_label_id": None, "new_label_id": None, "new_version": 2}
    ]
    undone = client.post(f"/api/projects/{pid}/history/{batch['id']}/undo")
    assert undone.status_code == 200, undone.text
    assert client.get(f"/api/segments/{made['id']}").json()["area"] == made["area"]


def test_merge_two_segments_into_one(client: TestClient, project: dict) -> None:
    pid = project["id"]
    image = upload(client, pid, [("a.png", png_bytes())])["imported"][0]
    url = f"/api/images/{image['id']}/segments"
    left = client.post(url, json={"rle": _square_rle(48, 64, (0, 0, 10, 10))}).json()
    right = client.post(url, json={"rle": _square_rle(48, 64, (20, 0, 30, 10))}).json()
    stale = client.post(
        f"/api/segments/{left['id']}/merge",
        json={"other_id": right["id"], "versions": {str(right["id"]): 7}},
    )
    assert_error_shape(stale, 409, "stale_version")
    merged = client.post(
        f"/api/segments/{left['id']}/merge",
        json={"other_id": right["id"], "versions": {str(left["id"]): 1, str(right["id"]): 1}},
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["area"] == 200 and merged.json()["version"] == 2
    assert [s["id"] for s in client.get(url).json()["segments"]] == [left["id"]]
    batch = client.get(f"/api/projects/{pid}/history").json()["items"][0]
    assert (batch["kind"], batch["segment_count"]) == ("merge", 2)
    itself = client.post(f"/api/segments/{left['id']}/merge", json={"other_id": left["id"]})
    assert_error_shape(itself, 422)


def test_split_along_a_line(client: TestClient, project: dict) -> None:
    pid = project["id"]
    image = upload(client, pid, [("a.png", png_bytes())])["imported"][0]
    label = client.post(f"/api/projects/{pid}/labels", json={"name": "cell"}).json()["id"]
    url = f"/api/images/{image['id']}/segments"
    whole = client.post(
        url, json={"rle": _square_rle(48, 64, (10, 10, 50, 30)), "label_id": label}
    ).json()
    missed = client.post(f"/api/segments/{whole['id']}/split", json={"line": [[0, 40], [63, 40]]})
    assert_error_shape(missed, 422, "no_split")
    cut = client.post(
        f"/api/segments/{whole['id']}/split", json={"line": [[20, 0], [20, 47]], "version": 1}
    )
    assert cut.status_code == 200, cut.text
    big, small = cut.json()["segments"]
    assert big["id"] == whole["id"] and big["version"] == 2 and small["label_id"] == label
    assert big["area"] > small["area"] > 0
    assert big["area"] + small["area"] >= whole["area"] - 3 * 20  # only the cut line is lost
    assert big["bbox"][0] >= 20 and small["bbox"][0] + small["bbox"][2] <= 20
    batch = client.get(f"/api/projects/{pid}/history").json()["items"][0]
    assert batch["kind"] == "split"
    stale = client.post(
        f"/api/segments/{whole['id']}/split", json={"line": [[40, 0], [40, 47]], "version": 1}
    )
    assert_error_shape(stale, 409, "stale_version")
