"""The shared evaluation sets as (image, object masks): nuclei instances, camvid-dev objects.

Images are HxWx3 uint8 RGB; object masks HxW bool in the same frame. Samples are fixed by
their arguments (seeded), so two runs and two segmenters see the same objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

# camvid-dev class index -> name of the countable object classes (classes.txt).
CAMVID_OBJECTS = {2: "pole", 6: "sign_symbol", 8: "car", 9: "pedestrian", 10: "bicyclist"}


@dataclass(frozen=True)
class Sample:
    name: str
    path: Path
    image: np.ndarray
    objects: list[np.ndarray]


def read_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def load_nuclei(root: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(id, HxWx3 uint8 image, HxW int instance map) per image of the nuclei set."""
    items = []
    for path in sorted((root / "images").glob("*.png")):
        instances = np.asarray(Image.open(root / "instances" / path.name)).astype(np.int32)
        items.append((path.stem, read_rgb(path), instances))
    return items


def nuclei_samples(
    root: Path, *, images: int, per_image: int | None, min_area: int = 16, seed: int = 0
) -> Iterator[Sample]:
    """`per_image` random instances (>= min_area px; None: all) of the first `images` images."""
    rng = np.random.default_rng(seed)
    for path in sorted((root / "images").glob("*.png"))[:images]:
        instances = np.asarray(Image.open(root / "instances" / path.name)).astype(np.int32)
        ids, areas = np.unique(instances[instances > 0], return_counts=True)
        ids = ids[areas >= min_area]
        chosen = _pick(rng, len(ids), per_image)
        yield Sample(path.stem, path, read_rgb(path), [instances == ids[i] for i in chosen])


def camvid_samples(
    root: Path, *, images: int, per_image: int | None, min_area: int = 200, seed: int = 0
) -> Iterator[Sample]:
    """Connected components (8-connected, >= min_area px) of CAMVID_OBJECTS classes: up to
    `per_image` random ones from each of `images` frames spread evenly over the sequence."""
    rng = np.random.default_rng(seed)
    paths = sorted((root / "images").glob("*.png"))
    spread = np.linspace(0, len(paths) - 1, min(images, len(paths))).round().astype(int)
    for path in [paths[i] for i in spread]:
        labels = np.asarray(Image.open(root / "labels" / path.name))
        objects = [
            component
            for value in CAMVID_OBJECTS
            for component in _components(labels == value)
            if component.sum() >= min_area
        ]
        keep = _pick(rng, len(objects), per_image)
        yield Sample(path.stem, path, read_rgb(path), [objects[i] for i in keep])


def _pick(rng: np.random.Generator, count: int, wanted: int | None) -> np.ndarray:
    """Sorted indices of `wanted` random items of `count` (all of them for None)."""
    if wanted is None or wanted >= count:
        return np.arange(count)
    return np.sort(rng.choice(count, wanted, replace=False))


def _components(mask: np.ndarray) -> list[np.ndarray]:
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return [labels == i for i in range(1, count)]
