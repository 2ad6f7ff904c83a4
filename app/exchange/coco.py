"""COCO instances JSON: writing (RLE or polygons) and reading (either) segmentations.

Semantics. Every exported object is a single instance, so `iscrowd` is 0 even when the
segmentation is an RLE (as SA-1B and most SAM tooling do): pycocotools' `annToMask` decodes
it exactly, and COCOeval would *ignore* iscrowd=1 regions, which is the wrong meaning for
labelled objects. `bbox` is XYWH and `area` the pixel count of the mask, both canonical.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import IO, Any

import numpy as np

from app.exchange.dataset import ExportClass, ExportImage, ExportSegment
from app.exchange.polygons import coco_polygons_to_mask, mask_to_coco_polygons
from app.masks import decode_rle


def write_coco(
    out: IO[bytes],
    images: Iterable[ExportImage],
    classes: list[ExportClass],
    *,
    file_name: Callable[[ExportImage], str],
    polygons: bool,
    tolerance: float = 0.0,
) -> None:
    """Stream the instances document into `out`, one annotation at a time: memory grows with
    the number of images (their entries come after the annotations), not of segments.
    `file_name(image)` is the image's path in the export (called once per image, in order)."""
    out.write(b'{"info": ' + _dumps({"description": "lassolabel export", "date_created": _now()}))
    out.write(b', "annotations": [')
    entries, unlabelled, first = [], False, True
    for image in images:
        entries.append(_image_entry(image, file_name(image)))
        for segment in image.segments:
            annotation = _annotation(image.id, segment, polygons, tolerance)
            unlabelled |= annotation["category_id"] == 0
            out.write((b"" if first else b", ") + _dumps(annotation))
            first = False
    categories = [_category(c) for c in classes]
    if unlabelled:  # category 0 exists only when unlabelled segments were asked for
        categories.append({"id": 0, "name": "unlabelled", "supercategory": ""})
    out.write(b'], "images": ' + _dumps(entries) + b', "categories": ' + _dumps(categories))
    out.write(b"}")


def _annotation(
    image_id: int, segment: ExportSegment, polygons: bool, tolerance: float
) -> dict[str, Any]:
    return {
        "id": segment.id,
        "image_id": image_id,
        "category_id": segment.label.index if segment.label else 0,
        "segmentation": _segmentation(segment.rle, polygons, tolerance),
        "area": segment.area,
        "bbox": segment.bbox,
        "iscrowd": 0,
        "source": segment.source,
        **({"score": segment.score} if segment.score is not None else {}),
    }


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def _segmentation(rle: dict[str, Any], polygons: bool, tolerance: float) -> Any:
    if not polygons:
        return {"size": rle["size"], "counts": rle["counts"]}
    return mask_to_coco_polygons(decode_rle(rle), tolerance)


def _image_entry(image: ExportImage, file_name: str) -> dict[str, Any]:
    return {
        "id": image.id,
        "file_name": file_name,
        "width": image.width,
        "height": image.height,
        "original_filename": image.filename,
        "sha256": image.sha256,
    }


def _category(label: ExportClass) -> dict[str, Any]:
    return {"id": label.index, "name": label.name, "supercategory": "", "color": label.color}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def segmentation_to_mask(segmentation: Any, height: int, width: int) -> np.ndarray:
    """A COCO segmentation (polygon list, RLE with list or string counts) -> HxW bool."""
    if isinstance(segmentation, list):
        return coco_polygons_to_mask(segmentation, height, width)
    if not isinstance(segmentation, dict):
        raise ValueError("segmentation must be a polygon list or an RLE object")
    mask = decode_rle(
        {"size": list(segmentation.get("size", [])), "counts": segmentation.get("counts")}
    )
    if mask.shape != (height, width):
        raise ValueError(f"RLE size {list(mask.shape)} differs from the image's {[height, width]}")
    return mask
