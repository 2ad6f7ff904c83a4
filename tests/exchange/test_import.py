"""Importing COCO and YOLO-seg, as ground truth or as labels, gives back the exported masks."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from sqlalchemy import select

from app.masks import decode_rle
from app.models import GroundTruthSegment, LabelClass, Segment, SegmentSource
from tests.conftest import assert_error_shape
from tests.exchange.conftest import context, iou


def exported(client, pid: int, fmt: str) -> bytes:
    response = client.get(f"/api/projects/{pid}/export", params={"format": fmt})
    assert response.status_code == 200
    return response.content


def post_import(client, pid: int, data: bytes, **params):
    return client.post(
        f"/api/projects/{pid}/import",
        params=params,
        files={"file": ("annotations.zip", data, "application/octet-stream")},
    )


def ground_truth(client, pid: int) -> list[GroundTruthSegment]:
    with context(client).db.read() as session:
        query = select(GroundTruthSegment).where(GroundTruthSegment.project_id == pid)
        return list(session.scalars(query.order_by(GroundTruthSegment.id)))


def labelled_segments(labelled):
    return [(i, n, m) for i, n, m in labelled.segments if n is not None]


@pytest.mark.parametrize("fmt", ["coco", "coco-polygons"])
def test_coco_export_reimports_as_ground_truth(client, labelled, fmt):
    pid = labelled.project_id
    response = post_import(
        client, pid, exported(client, pid, fmt), format="coco", target="ground-truth"
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["images"] == 2 and report["skipped"] == []
    rows = ground_truth(client, pid)
    expected = labelled_segments(labelled)
    assert report["imported"] == len(rows) == len(expected)
    for row, (image_id, name, mask) in zip(rows, expected, strict=True):
        assert (row.image_id, row.category) == (image_id, name)
        got = decode_rle(row.rle)
        assert np.array_equal(got, mask) if fmt == "coco" else iou(got, mask) >= 0.99


def test_ground_truth_import_replaces_and_stays_apart_from_labels(client, labelled):
    pid = labelled.project_id
    data = exported(client, pid, "coco")
    for _ in range(2):
        assert post_import(client, pid, data, target="ground-truth").status_code == 200
    assert len(ground_truth(client, pid)) == len(labelled_segments(labelled))
    with context(client).db.read() as session:
        imported = session.scalars(select(Segment).where(Segment.source == SegmentSource.imported))
        assert list(imported) == []


def test_yolo_export_reimports_as_labels(client, labelled):
    pid = labelled.project_id
    response = post_import(client, pid, exported(client, pid, "yolo-seg"), format="yolo-seg")
    assert response.status_code == 200, response.text
    with context(client).db.read() as session:
        rows = list(
            session.scalars(select(Segment).where(Segment.source == SegmentSource.imported))
        )
        names = {c.id: c.name for c in session.scalars(select(LabelClass))}
    assert (
        len(rows) == response.json()["imported"] == 7
    )  # one per exported part (6 on the plate, 1 turned)
    for image_id, name, mask in labelled_segments(labelled):
        union = np.zeros_like(mask)
        for row in rows:
            if row.image_id == image_id and names[row.label_class_id] == name:
                union |= decode_rle(row.rle)
        others = [m for i, n, m in labelled.segments if i == image_id and n == name]
        assert iou(union, np.any(others, axis=0)) >= 0.99


def test_import_creates_missing_label_classes(client, labelled):
    pid = labelled.project_id
    document = json.loads(
        zipfile.ZipFile(io.BytesIO(exported(client, pid, "coco"))).read("annotations.json")
    )
    for category in document["categories"]:
        category["name"] = "new " + category["name"]
    payload = json.dumps(document).encode()
    assert post_import(client, pid, payload).status_code == 200
    labels = {label["name"] for label in client.get(f"/api/projects/{pid}/labels").json()["items"]}
    assert {"new cell", "new debris", "new nucleus"} <= labels


def test_size_mismatch_and_unknown_images_are_skipped_with_reasons(client, labelled):
    pid = labelled.project_id
    document = json.loads(
        zipfile.ZipFile(io.BytesIO(exported(client, pid, "coco"))).read("annotations.json")
    )
    document["images"][0]["width"] += 1
    document["images"][1].update(file_name="elsewhere.png", original_filename="", sha256=None)
    report = post_import(client, pid, json.dumps(document).encode(), target="ground-truth").json()
    assert report["imported"] == 0 and len(report["skipped"]) == 2
    assert "size" in report["skipped"][0]["reason"]


@pytest.mark.parametrize(
    ("data", "params"),
    [(b"{not json", {}), (b'{"images": []}', {}), (b"plain text", {"format": "yolo-seg"})],
)
def test_bad_annotation_files_give_the_error_shape(client, project, data, params):
    assert_error_shape(post_import(client, project["id"], data, **params), 422, "invalid")


def test_yolo_zip_without_data_yaml_is_rejected(client, project):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("labels/a.txt", "0 0.1 0.1 0.2 0.1 0.2 0.2\n")
    response = post_import(client, project["id"], buffer.getvalue(), format="yolo-seg")
    assert_error_shape(response, 422, "invalid")


def test_eval_of_labels_against_their_own_export_is_perfect(client, labelled):
    pid = labelled.project_id
    assert_error_shape(client.get(f"/api/projects/{pid}/eval"), 409, "no_ground_truth")
    post_import(client, pid, exported(client, pid, "coco"), target="ground-truth")
    body = client.get(f"/api/projects/{pid}/eval").json()
    assert body["images"] == 2 and body["gt_instances"] == body["predicted_instances"] == 5
    assert body["miou"] == body["map50"] == body["matched_iou_mean"] == 1.0
    assert {c["name"] for c in body["classes"]} == {"cell", "debris", "nucleus"}
    assert "mIoU 1.000" in body["table"]


def test_eval_sees_a_missing_label(client, labelled):
    pid = labelled.project_id
    post_import(client, pid, exported(client, pid, "coco"), target="ground-truth")
    with context(client).db.write() as session:
        first = session.scalars(select(Segment).order_by(Segment.id)).first()
        first.label_class_id = None  # the cell with holes is no longer labelled
    body = client.get(f"/api/projects/{pid}/eval").json()
    cell = next(c for c in body["classes"] if c["name"] == "cell")
    left_area, hole_cell_area = 15 * 15, int(labelled.segments[0][2].sum())
    assert cell["iou"] == pytest.approx(left_area / (left_area + hole_cell_area))
    assert body["recall50"] == pytest.approx(4 / 5)
