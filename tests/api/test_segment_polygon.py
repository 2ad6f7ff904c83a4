"""Polygon vertex editing's server side: a mask as simplified even-odd rings (GET), and rings
rasterised back into the mask through the same versioned, audited edit as an RLE (PATCH)."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from app.exchange.polygons import mask_to_rings, rings_to_mask
from app.masks import decode_rle, encode_rle
from tests.conftest import assert_error_shape, png_bytes, upload

H, W = 48, 64


def _ring_mask() -> np.ndarray:
    """A square with a hole, an island in the hole, and a second part."""
    mask = np.zeros((H, W), bool)
    mask[5:35, 5:35] = True
    mask[12:28, 12:28] = False
    mask[18:22, 18:22] = True
    mask[40:44, 45:60] = True
    return mask


def test_rings_round_trip_exactly_and_simplify_within_tolerance() -> None:
    mask = _ring_mask()
    rings = mask_to_rings(mask)
    assert len(rings) == 4  # outer, hole, island, second part
    assert np.array_equal(rings_to_mask(rings, H, W), mask)
    rng = np.random.default_rng(0)
    for _ in range(10):
        noise = rng.random((H, W)) > 0.55
        assert np.array_equal(rings_to_mask(mask_to_rings(noise), H, W), noise)
    disc = np.hypot(*np.mgrid[-100:100, -100:100]) < 90
    exact, simple = mask_to_rings(disc), mask_to_rings(disc, 1.0)
    assert len(simple[0]) < len(exact[0]) / 4
    moved = rings_to_mask(simple, 200, 200) ^ disc
    assert moved.sum() < 0.01 * disc.sum()


def _segment(client: TestClient, pid: int, mask: np.ndarray) -> dict:
    """A new segment of `mask` on the project's one image (uploaded on first use)."""
    image = (
        client.get(f"/api/projects/{pid}/images").json()["items"]
        or upload(client, pid, [("a.png", png_bytes())])["imported"]
    )
    made = client.post(f"/api/images/{image[0]['id']}/segments", json={"rle": encode_rle(mask)})
    assert made.status_code == 201, made.text
    return made.json()


def test_polygon_of_a_segment_edited_and_written_back(client: TestClient, project: dict) -> None:
    pid = project["id"]
    made = _segment(client, pid, _ring_mask())
    url = f"/api/segments/{made['id']}"
    polygon = client.get(f"{url}/polygon", params={"tolerance": 0}).json()
    assert (polygon["version"], polygon["fill_rule"], polygon["tolerance"]) == (1, "evenodd", 0)
    assert len(polygon["rings"]) == 4
    same = client.patch(url, json={"polygon": polygon["rings"], "version": 1})
    assert same.status_code == 200, same.text
    assert same.json()["version"] == 2 and same.json()["area"] == made["area"]

    square = [[10, 10], [30, 10], [30, 20], [10, 20]]  # one ring: the hole and parts are gone
    edited = client.patch(url, json={"polygon": [square], "version": 2}).json()
    assert (edited["area"], edited["bbox"], edited["version"]) == (200, [10, 10, 20, 10], 3)
    mask = decode_rle(edited["rle"])
    assert mask[10:20, 10:30].all() and mask.sum() == 200
    stale = client.patch(url, json={"polygon": [square], "version": 2})
    assert_error_shape(stale, 409, "stale_version")
    batch = client.get(f"/api/projects/{pid}/history").json()["items"][0]
    assert (batch["kind"], batch["segment_count"]) == ("edit", 1)


def test_polygon_simplification_is_bounded(client: TestClient, project: dict) -> None:
    ragged = np.hypot(*np.mgrid[-24:24, -32:32]) < 20
    ragged ^= (np.random.default_rng(1).random((H, W)) > 0.7) & ~ragged  # specks around it
    made = _segment(client, project["id"], np.hypot(*np.mgrid[-24:24, -32:32]) < 20)
    exact = {"tolerance": 0, "max_vertices": 16}
    blob = client.get(f"/api/segments/{made['id']}/polygon", params=exact).json()
    assert sum(len(ring) for ring in blob["rings"]) <= 16 and blob["tolerance"] > 0
    speckled = _segment(client, project["id"], ragged)
    url = f"/api/segments/{speckled['id']}/polygon"
    kept = client.get(url, params=exact).json()
    assert len(kept["rings"]) == len(mask_to_rings(ragged))  # no speck is dropped
    assert all(len(ring) >= 3 for ring in kept["rings"])


def test_bad_polygons_are_refused(client: TestClient, project: dict) -> None:
    made = _segment(client, project["id"], _ring_mask())
    url = f"/api/segments/{made['id']}"
    outside = [[100, 100], [120, 100], [120, 120]]
    assert_error_shape(client.patch(url, json={"polygon": [outside]}), 422, "empty_polygon")
    assert_error_shape(client.patch(url, json={"polygon": [[[0, 0], [5, 5]]]}), 422)
    assert_error_shape(client.patch(url, json={"polygon": []}), 422)
    nan = '{"polygon": [[[0, 0], [NaN, 5], [5, 5]]]}'
    headers = {"content-type": "application/json"}
    assert_error_shape(client.patch(url, content=nan, headers=headers), 422)
    both = {"polygon": [[[0, 0], [9, 0], [9, 9]]], "rle": encode_rle(_ring_mask())}
    assert_error_shape(client.patch(url, json=both), 422)
    assert client.get(url).json()["version"] == 1
    assert_error_shape(client.get(f"{url}/polygon", params={"tolerance": -1}), 422)
    empty = _segment(client, project["id"], np.zeros((H, W), bool))
    assert client.get(f"/api/segments/{empty['id']}/polygon").json()["rings"] == []
