"""PNG masks: per image a semantic index PNG and a 16-bit instance-id PNG, plus a legend.

semantic/<stem>.png: palette PNG, value = class index (0 background, 255 unlabelled), the
palette holds the label colours. instances/<stem>.png: 16-bit greyscale, value = instance
number (0 background). Where segments overlap, larger ones are painted first so a smaller
one on top stays visible; the legend says which segment each instance number is.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from PIL import Image as PILImage

from app.exchange.dataset import ExportClass, ExportImage
from app.masks import decode_rle

UNLABELLED_VALUE = 255
MAX_INSTANCES = 65535


def paint(image: ExportImage) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """(HxW uint8 semantic, HxW uint16 instance ids, instance legend) of one image."""
    semantic = np.zeros((image.height, image.width), np.uint8)
    instances = np.zeros((image.height, image.width), np.uint16)
    ordered = sorted(image.segments, key=lambda s: -s.area)[:MAX_INSTANCES]
    legend = []
    for number, segment in enumerate(ordered, start=1):
        mask = decode_rle(segment.rle)
        semantic[mask] = segment.label.index if segment.label else UNLABELLED_VALUE
        instances[mask] = number
        label = segment.label.name if segment.label else None
        legend.append({"value": number, "segment_id": segment.id, "label": label})
    return semantic, instances, legend


def palette(classes: list[ExportClass]) -> list[int]:
    """768 ints: black background, each class's colour at its index, grey for unlabelled."""
    table = [0] * 768
    for label in classes:
        table[3 * label.index : 3 * label.index + 3] = _rgb(label.color)
    table[3 * UNLABELLED_VALUE : 3 * UNLABELLED_VALUE + 3] = [128, 128, 128]
    return table


def semantic_png(semantic: np.ndarray, colours: list[int]) -> bytes:
    picture = PILImage.fromarray(semantic, mode="P")
    picture.putpalette(colours)
    return _png(picture)


def instance_png(instances: np.ndarray) -> bytes:
    return _png(PILImage.fromarray(instances.astype(np.uint16)))


def legend_json(classes: list[ExportClass], images: dict[str, Any]) -> bytes:
    document = {
        "semantic": [{"value": 0, "name": "background", "color": "#000000"}]
        + [{"value": c.index, "name": c.name, "color": c.color} for c in classes]
        + [{"value": UNLABELLED_VALUE, "name": "unlabelled", "color": "#808080"}],
        "instances": images,
    }
    return json.dumps(document, indent=1).encode()


def _png(picture: PILImage.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _rgb(colour: str) -> list[int]:
    return [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
