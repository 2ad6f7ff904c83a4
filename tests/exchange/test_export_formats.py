"""Every export format reproduces the stored masks: exactly for RLE and PNG, IoU >= 0.99 for
polygons, read back by the consumers' own code (pycocotools, an Ultralytics-style reader)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from pycocotools.coco import COCO

from tests.conftest import assert_error_shape
from tests.exchange.conftest import LabelledProject, iou

# pycocotools' own decode trips numpy 2's __array__ deprecation; it is their code, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def export(client: TestClient, pid: int, fmt: str, **params) -> zipfile.ZipFile:
    response = client.get(f"/api/projects/{pid}/export", params={"format": fmt, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def load_coco(archive: zipfile.ZipFile, tmp_path: Path) -> COCO:
    path = tmp_path / "annotations.json"
    path.write_bytes(archive.read("annotations.json"))
    return COCO(str(path))


def labelled_only(project: LabelledProject):
    return [(i, name, mask) for i, name, mask in project.segments if name is not None]


def test_coco_rle_round_trips_exactly_through_pycocotools(client, labelled, tmp_path):
    coco = load_coco(export(client, labelled.project_id, "coco"), tmp_path)
    annotations = coco.loadAnns(coco.getAnnIds())
    expected = labelled_only(labelled)
    assert len(annotations) == len(expected)
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    for annotation, (image_id, name, mask) in zip(annotations, expected, strict=True):
        assert annotation["iscrowd"] == 0 and annotation["image_id"] == image_id
        assert names[annotation["category_id"]] == name
        assert np.array_equal(coco.annToMask(annotation).astype(bool), mask)
        assert annotation["area"] == int(mask.sum())


def test_coco_includes_unlabelled_only_when_asked(client, labelled, tmp_path):
    coco = load_coco(export(client, labelled.project_id, "coco", include_unlabelled=True), tmp_path)
    unlabelled = coco.loadAnns(coco.getAnnIds(catIds=[0]))
    assert len(unlabelled) == 1
    assert np.array_equal(coco.annToMask(unlabelled[0]).astype(bool), labelled.segments[4][2])


def test_exported_images_are_the_canonical_frame(client, labelled):
    archive = export(client, labelled.project_id, "coco")
    document = json.loads(archive.read("annotations.json"))
    for entry in document["images"]:
        with PILImage.open(io.BytesIO(archive.read(entry["file_name"]))) as picture:
            assert picture.size == (entry["width"], entry["height"])
            assert picture.getexif().get(0x0112) in (None, 1)
    sizes = {e["id"]: (e["width"], e["height"]) for e in document["images"]}
    assert sizes[labelled.image_ids[1]] == (40, 60)  # stored 60x40, EXIF-rotated
    assert "canonical frame" in archive.read("README.txt").decode()


def test_coco_polygons_match_masks_with_holes_parts_and_rotation(client, labelled, tmp_path):
    coco = load_coco(export(client, labelled.project_id, "coco-polygons"), tmp_path)
    annotations = coco.loadAnns(coco.getAnnIds())
    for annotation, (_, _, mask) in zip(annotations, labelled_only(labelled), strict=True):
        assert isinstance(annotation["segmentation"], list)
        assert iou(coco.annToMask(annotation).astype(bool), mask) >= 0.99


def test_polygon_tolerance_simplifies_within_bounds(client, labelled, tmp_path):
    exact = load_coco(export(client, labelled.project_id, "coco-polygons"), tmp_path)
    rough = load_coco(export(client, labelled.project_id, "coco-polygons", tolerance=1.5), tmp_path)
    for a, b in zip(
        exact.loadAnns(exact.getAnnIds()), rough.loadAnns(rough.getAnnIds()), strict=True
    ):
        assert sum(map(len, b["segmentation"])) <= sum(map(len, a["segmentation"]))
        assert iou(exact.annToMask(a), rough.annToMask(b)) >= 0.8


def ultralytics_masks(text: str, width: int, height: int) -> list[tuple[int, np.ndarray]]:
    """What Ultralytics' polygon2mask does with a label file: scale, int cast, fillPoly."""
    result = []
    for line in text.splitlines():
        values = [float(v) for v in line.split()]
        ring = (np.array(values[1:]).reshape(-1, 2) * [width, height]).astype(np.int32)
        canvas = np.zeros((height, width), np.uint8)
        cv2.fillPoly(canvas, [ring], color=1)
        result.append((int(values[0]), canvas.astype(bool)))
    return result


def test_yolo_seg_lines_rasterise_back_to_the_masks(client, labelled):
    archive = export(client, labelled.project_id, "yolo-seg")
    names = yaml.safe_load(archive.read("data.yaml"))["names"]
    assert [names[i] for i in sorted(names)] == ["cell", "debris", "nucleus"]
    sizes = {labelled.image_ids[0]: ("plate", 100, 80), labelled.image_ids[1]: ("turned", 40, 60)}
    for image_id, (stem, width, height) in sizes.items():
        lines = ultralytics_masks(archive.read(f"labels/{stem}.txt").decode(), width, height)
        for name in ("cell", "debris", "nucleus"):
            index = list(names.values()).index(name)
            got = np.zeros((height, width), bool)
            for class_index, mask in lines:
                got |= mask if class_index == index else False
            want = np.zeros((height, width), bool)
            for i, label, mask in labelled.segments:
                want |= mask if (i == image_id and label == name) else False
            assert iou(got, want) >= 0.99, (stem, name)
    plate_lines = archive.read("labels/plate.txt").decode().splitlines()
    assert len(plate_lines) == 2 + 2 + 1 + 1  # holes+island, two parts, two touching


def test_masks_png_are_exact(client, labelled):
    archive = export(client, labelled.project_id, "masks-png", include_unlabelled=True)
    legend = json.loads(archive.read("legend.json"))
    values = {entry["name"]: entry["value"] for entry in legend["semantic"]}
    for stem, image_id in (("plate", labelled.image_ids[0]), ("turned", labelled.image_ids[1])):
        semantic = np.array(PILImage.open(io.BytesIO(archive.read(f"semantic/{stem}.png"))))
        with PILImage.open(io.BytesIO(archive.read(f"instances/{stem}.png"))) as picture:
            assert picture.mode.startswith("I")
            instances = np.array(picture)
        entries = legend["instances"][stem]["instances"]
        mine = [(name, mask) for i, name, mask in labelled.segments if i == image_id]
        assert len(entries) == len(mine)
        for name, mask in mine:
            value = values[name or "unlabelled"]
            assert np.all(semantic[mask] == value)
            entry = next(
                e
                for e in entries
                if e["label"] == name and np.array_equal(instances == e["value"], mask)
            )
            assert entry["segment_id"] > 0
        covered = np.any([m for _, m in mine], axis=0)
        assert np.all(semantic[~covered] == 0) and np.all(instances[~covered] == 0)


def test_csv_has_one_row_per_segment(client, labelled):
    archive = export(client, labelled.project_id, "csv")
    rows = list(csv.DictReader(io.StringIO(archive.read("segments.csv").decode())))
    expected = labelled_only(labelled)
    assert len(rows) == len(expected)
    for row, (image_id, name, mask) in zip(rows, expected, strict=True):
        assert int(row["image_id"]) == image_id and row["label"] == name
        assert int(row["area"]) == int(mask.sum()) and row["source"] == "manual"
        ys, xs = np.nonzero(mask)
        assert float(row["bbox_x"]) == xs.min() and float(row["bbox_h"]) == ys.max() - ys.min() + 1


def test_export_without_images(client, labelled):
    archive = export(client, labelled.project_id, "yolo-seg", include_images=False)
    assert not [n for n in archive.namelist() if n.startswith("images/")]


def test_export_says_its_length_for_download_progress(client, labelled):
    response = client.get(f"/api/projects/{labelled.project_id}/export", params={"format": "csv"})
    assert int(response.headers["content-length"]) == len(response.content) > 0


@pytest.mark.parametrize("params", [{"format": "pascal"}, {}, {"format": "coco", "tolerance": -1}])
def test_export_rejects_bad_parameters(client, project, params):
    response = client.get(f"/api/projects/{project['id']}/export", params=params)
    assert_error_shape(response, 422, "invalid")


def test_export_of_missing_project_is_404(client):
    assert_error_shape(client.get("/api/projects/999/export?format=coco"), 404, "not_found")


def test_csv_cells_cannot_become_formulas():
    from app.exchange.csvexport import cell_text

    assert cell_text('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert cell_text("@SUM(A1)") == "'@SUM(A1)" and cell_text("-1+1") == "'-1+1"
    assert cell_text("cat") == "cat"


def test_coco_without_images_names_them_without_reading_the_files(client, labelled, tmp_path):
    with_files = export(client, labelled.project_id, "coco")
    names = [
        image["file_name"] for image in json.loads(with_files.read("annotations.json"))["images"]
    ]
    data_dir = Path(client.app.state.context.settings.data_dir)
    for stored in [*(data_dir / "images").rglob("*"), *(data_dir / "cache").rglob("*")]:
        if stored.is_file():
            stored.unlink()  # an export without image files must not need them
    bare = export(client, labelled.project_id, "coco", include_images=False)
    document = json.loads(bare.read("annotations.json"))
    assert [image["file_name"] for image in document["images"]] == names
    assert not [name for name in bare.namelist() if name.startswith("images/")]
    assert len(document["annotations"]) == len(labelled_only(labelled))
