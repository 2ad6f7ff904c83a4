"""A labelled project with hard masks: holes, an island, several parts, touching objects,
an unlabelled segment, and an image whose EXIF orientation rotates it."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage

from app.context import AppContext
from app.masks import encode_rle, rle_area, rle_bbox
from app.models import Segment, SegmentSource
from tests.conftest import png_bytes, upload


def rotated_jpeg(width: int, height: int) -> bytes:
    """A JPEG stored width x height whose EXIF orientation 6 makes it height x width."""
    exif = PILImage.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (20, 120, 40)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def holes_and_island(h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    mask[10:50, 10:50] = True
    mask[20:30, 20:30] = False
    mask[35:45, 35:42] = False
    mask[24:27, 24:27] = True  # an island inside the first hole
    return mask


def two_parts(h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    mask[60:75, 60:90] = True
    mask[55:70, 92:98] = True
    return mask


def touching(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    left, right = np.zeros((h, w), bool), np.zeros((h, w), bool)
    left[5:20, 55:70] = True
    right[5:20, 70:85] = True
    return left, right


@dataclass
class LabelledProject:
    project_id: int
    image_ids: list[int]
    labels: dict[str, int]
    # (image id, label name or None, mask) for every segment, in insertion order.
    segments: list[tuple[int, str | None, np.ndarray]]


def context(client: TestClient) -> AppContext:
    return client.app.state.context  # type: ignore[attr-defined]


def add_segment(ctx: AppContext, project_id: int, image_id: int, mask, label_id) -> int:
    rle = encode_rle(mask)
    x, y, w, h = rle_bbox(rle)
    with ctx.db.write() as session:
        segment = Segment(
            project_id=project_id, image_id=image_id, rle_counts=rle["counts"],
            height=mask.shape[0], width=mask.shape[1], bbox_x=x, bbox_y=y, bbox_w=w, bbox_h=h,
            area=rle_area(rle), source=SegmentSource.manual, label_class_id=label_id,
        )  # fmt: skip
        session.add(segment)
        session.flush()
        return segment.id


@pytest.fixture
def labelled(client: TestClient, project: dict) -> LabelledProject:
    pid = project["id"]
    labels = {}
    for name in ("cell", "debris", "nucleus"):
        response = client.post(f"/api/projects/{pid}/labels", json={"name": name})
        labels[name] = response.json()["id"]
    report = upload(
        client, pid, [("plate.png", png_bytes(100, 80)), ("turned.jpg", rotated_jpeg(60, 40))]
    )
    plate, turned = (item["id"] for item in report["imported"])
    left, right = touching(80, 100)
    spot = np.zeros((60, 40), bool)  # canonical frame of the rotated JPEG: 40 wide, 60 high
    spot[40:58, 3:20] = True
    stray = np.zeros((80, 100), bool)
    stray[70:78, 2:9] = True
    plan = [
        (plate, "cell", holes_and_island(80, 100)),
        (plate, "debris", two_parts(80, 100)),
        (plate, "cell", left),
        (plate, "nucleus", right),
        (plate, None, stray),
        (turned, "nucleus", spot),
    ]
    ctx = context(client)
    for image_id, name, mask in plan:
        add_segment(ctx, pid, image_id, mask, labels[name] if name else None)
    return LabelledProject(pid, [plate, turned], labels, plan)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)
