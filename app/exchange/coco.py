"""COCO instances JSON: writing (RLE or polygons) and reading (either) segmentations.

Semantics. Every exported object is a single instance, so `iscrowd` is 0 even when the
segmentation is an RLE (as SA-1B and most SAM tooling do): pycocotools' `annToMask` decodes
it exactly, and COCOeval would *ignore* iscrowd=1 regions, which is the wrong meaning for
labelled objects. `bbox` is XYWH and `area` the pixel count of the mask, both canonical.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from app.exchange.dataset import ExportClass, ExportImage
from app.exchange.polygons import coco_polygons_to_mask, mask_to_coco_polygons
from app.masks import decode_rle


def coco_document(
    images: list[ExportImage],
    classes: list[ExportClass],
    *,
    file_names: dict[int, str],
    polygons: bool,
    tolerance: float = 0.0,
) -> dict[str, Any]:
    """The instances document; `file_names` maps image id -> its path in the export."""
    annotations = []
    for image in images:
        for segment in image.segments:
            annotations.append(
                {
                    "id": segment.id,
                    "image_id": image.id,
                    "category_id": segment.label.index if segment.label else 0,
                    "segmentation": _segmentation(segment.rle, polygons, tolerance),
                    "area": segment.area,
                    "bbox": segment.bbox,
                    "iscrowd": 0,
                    "source": segment.source,
                    **({"score": segment.score} if segment.score is not None else {}),
                }
            )
    return {
        "info": {"description": "lassolabel export", "date_created": _now()},
        "images": [_image_entry(image, file_names[image.id]) for image in images],
        "annotations": annotations,
        "categories": [_category(c) for c in classes] + _unlabelled(annotations),
    }


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


def _unlabelled(annotations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Category 0 exists only when unlabelled segments were asked for."""
    if any(a["category_id"] == 0 for a in annotations):
        return [{"id": 0, "name": "unlabelled", "supercategory": ""}]
    return []


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
