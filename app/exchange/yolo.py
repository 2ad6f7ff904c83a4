"""Ultralytics YOLO segmentation: one `labels/<stem>.txt` per image, `data.yaml` with names.

A line is `class x1 y1 x2 y2 ...`, coordinates normalised by the image's width and height.
A mask with several parts is written as one line per part (same class): Ultralytics fills
each line with cv2.fillPoly, so a bridge between distant parts would paint a line across the
background. Holes are bridged into their part's ring (the cut runs through the object).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import yaml

from app.exchange.polygons import centre_polygon_to_mask, mask_to_centre_polygons
from app.masks import decode_rle


def data_yaml(names: list[str]) -> bytes:
    """data.yaml for the export folder itself as both train and val split."""
    document: dict[str, Any] = {
        "path": ".",
        "train": "images",
        "val": "images",
        "names": dict(enumerate(names)),
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode()


def label_lines(
    masks: list[tuple[int, dict[str, Any]]], width: int, height: int, tolerance: float = 0.0
) -> str:
    """(class index, RLE) pairs of one image -> the text of its label file."""
    scale = np.array([width, height], np.float64)
    lines = []
    for class_index, rle in masks:
        for ring in mask_to_centre_polygons(decode_rle(rle), tolerance):
            coords = " ".join(f"{v:.6f}" for v in (ring / scale).ravel())
            lines.append(f"{class_index} {coords}")
    return "".join(line + "\n" for line in lines)


def read_names(text: str) -> list[str]:
    """Class names from a data.yaml (`names` as a list or an index->name mapping)."""
    names = (yaml.safe_load(text) or {}).get("names", [])
    if isinstance(names, dict):
        return [str(names[k]) for k in sorted(names, key=int)]
    return [str(n) for n in names]


def parse_label_file(text: str, height: int, width: int) -> list[tuple[int, np.ndarray]]:
    """A label file -> (class index, HxW bool mask) per line, rasterised as Ultralytics does.

    Raises ValueError on a malformed line (odd coordinate count, fewer than 3 points)."""
    scale = np.array([width, height], np.float64)
    result = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        values = np.array([float(v) for v in fields[1:]], np.float64)
        if len(values) % 2 or len(values) < 6:
            raise ValueError(f"line {number}: expected a class and at least 3 x y pairs")
        ring = values.reshape(-1, 2) * scale
        result.append((int(fields[0]), centre_polygon_to_mask(ring, height, width)))
    return result
