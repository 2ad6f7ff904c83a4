"""A small photograph set with exact ground truth, built from scikit-image's sample data.

Photographs that ship with masks are rare, so two kinds are made:
- coins: skimage.data.coins with the masks of scikit-image's own region-based tutorial
  (Sobel elevation map, watershed from dark/bright markers, hole fill), one per coin;
- composites: a real-photo texture cut out by a real shape (the horse silhouette, the
  logo's alpha, random smooth blobs) pasted, slightly antialiased, onto another photo.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage import data, filters, measure, segmentation, transform

BACKGROUNDS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "brick")
TEXTURES = ("coffee", "chelsea", "astronaut", "rocket", "grass", "gravel", "hubble_deep_field")


def _rgb(name: str) -> np.ndarray:
    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


def coin_masks() -> tuple[np.ndarray, list[np.ndarray]]:
    """(303x384x3 uint8 coins photo, one HxW bool mask per coin)."""
    coins = data.coins()
    markers = np.zeros_like(coins, np.int32)
    markers[coins < 30], markers[coins > 150] = 1, 2
    solid = ndimage.binary_fill_holes(segmentation.watershed(filters.sobel(coins), markers) == 2)
    labels = measure.label(solid)
    masks = [labels == r.label for r in measure.regionprops(labels) if r.area >= 200]
    return _rgb("coins"), masks


def _shape_masks(rng: np.random.Generator) -> list[np.ndarray]:
    horse = data.horse()
    blobs = [
        data.binary_blobs(128, blob_size_fraction=0.4, volume_fraction=0.3, rng=int(s))
        for s in rng.integers(0, 10_000, 4)
    ]
    shapes = [~horse if horse.mean() > 0.5 else horse, data.logo()[..., 3] > 127]
    for blob in blobs:
        labels = measure.label(blob)
        largest = max(measure.regionprops(labels), key=lambda r: r.area)
        shapes.append(ndimage.binary_fill_holes(labels == largest.label))
    return [s[np.ix_(s.any(1), s.any(0))] for s in shapes]


def _paste(background, texture, shape, rng) -> tuple[np.ndarray, np.ndarray]:
    h, w = background.shape[:2]
    side = int(rng.integers(70, min(h, w) // 2))
    scale = side / max(shape.shape)
    size = (max(8, round(shape.shape[0] * scale)), max(8, round(shape.shape[1] * scale)))
    alpha = transform.resize(shape.astype(np.float32), size, order=1, anti_aliasing=True)
    ty = int(rng.integers(0, texture.shape[0] - size[0]))
    tx = int(rng.integers(0, texture.shape[1] - size[1]))
    patch = texture[ty : ty + size[0], tx : tx + size[1]].astype(np.float32)
    y, x = int(rng.integers(0, h - size[0])), int(rng.integers(0, w - size[1]))
    out = background.astype(np.float32)
    window = out[y : y + size[0], x : x + size[1]]
    window[:] = alpha[..., None] * patch + (1 - alpha[..., None]) * window
    mask = np.zeros((h, w), bool)
    mask[y : y + size[0], x : x + size[1]] = alpha >= 0.5
    return np.clip(out, 0, 255).astype(np.uint8), mask


def composites(count: int, seed: int = 0) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """`count` photos, each with one pasted object: [(HxWx3 uint8, [HxW bool mask])]."""
    rng = np.random.default_rng(seed)
    shapes = _shape_masks(rng)
    out = []
    for i in range(count):
        background = _rgb(BACKGROUNDS[i % len(BACKGROUNDS)])
        texture = _rgb(TEXTURES[(i * 3 + 1) % len(TEXTURES)])
        image, mask = _paste(background, texture, shapes[i % len(shapes)], rng)
        out.append((image, [mask]))
    return out


def photo_set(count: int = 12, seed: int = 0) -> dict[str, list[tuple[np.ndarray, list]]]:
    """{"coins": [(image, masks)], "composites": [(image, [mask]), ...]}."""
    return {"coins": [coin_masks()], "composites": composites(count, seed)}
