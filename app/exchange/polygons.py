"""Masks <-> polygons, for the two polygon conventions exports must honour.

COCO (pycocotools) rasterises a polygon by pixel *edges*: pixel (row r, col c) is the unit
square [c, c+1] x [r, r+1] and is inside when its centre is. Marching squares at level 0.5
gives exactly such a ring (vertices on pixel edges, corners cut through no centre), so COCO
polygons reproduce the mask exactly before simplification.

YOLO-seg consumers (Ultralytics' polygon2mask) truncate coordinates to int and cv2.fillPoly
them, boundary included: pixel *centres*. We write OpenCV contours (through the centres of
the boundary pixels) shifted by half a pixel into continuous coordinates, so truncation lands
on the very pixel and a round trip is exact apart from the bridges below.

Neither format has holes or multi-part objects in one ring; we join rings with zero-width
bridges (out along a cut and back along the same cut), which even-odd fills cancel out:
exact for pycocotools, a 1-pixel line per bridge for fillPoly (which draws edges).
All coordinates are canonical image pixels, XY.
"""

from __future__ import annotations

import cv2
import numpy as np
from pycocotools import mask as coco_mask
from scipy import ndimage
from scipy.spatial import cKDTree
from skimage import measure

from app.masks import decode_rle


def bridge_rings(rings: list[np.ndarray]) -> np.ndarray:
    """Join Nx2 rings into one ring with zero-width cuts between nearest vertices.

    The first ring is the trunk; each next ring is spliced in at its vertex nearest to the
    growing result, so every cut is as short as it can be.
    """
    result = rings[0]
    for ring in rings[1:]:
        distances, nearest = cKDTree(result).query(ring)
        j = int(np.argmin(distances))
        i = int(nearest[j])
        loop = np.concatenate([ring[j:], ring[: j + 1]])
        result = np.concatenate([result[: i + 1], loop, result[i:]])
    return result


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _drop_collinear(ring: np.ndarray) -> np.ndarray:
    before, after = np.roll(ring, 1, axis=0), np.roll(ring, -1, axis=0)
    cross = (ring[:, 0] - before[:, 0]) * (after[:, 1] - ring[:, 1]) - (
        ring[:, 1] - before[:, 1]
    ) * (after[:, 0] - ring[:, 0])
    kept = ring[np.abs(cross) > 1e-9]
    return kept if len(kept) >= 3 else ring


def _simplify(ring: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker within `tolerance` pixels; never below a triangle."""
    ring = _drop_collinear(ring)
    if tolerance <= 0:
        return ring
    # OpenCV's Douglas-Peucker: skimage's approximate_polygon took 1.2 s on a 1,242-vertex ring
    # (0.3 ms here). Pixel-edge coordinates are halves: exact in float32.
    points = ring.astype(np.float32).reshape(-1, 1, 2)
    simple = cv2.approxPolyDP(points, tolerance, closed=True).reshape(-1, 2).astype(np.float64)
    return simple if len(simple) >= 3 else ring


def _component_rings(part: np.ndarray) -> list[np.ndarray]:
    """Rings (Nx2 XY, pixel-edge coords of `part`'s frame) of one 4-connected component:
    the outer boundary first, then one per hole."""
    padded = np.pad(part, 1).astype(np.float32)
    contours = measure.find_contours(padded, 0.5, fully_connected="low")
    rings = [c[:-1, ::-1] - 0.5 for c in contours]  # (row, col) -> (x, y), minus the pad
    rings.sort(key=lambda ring: -abs(_signed_area(ring)))
    return rings


def _part_rings(mask: np.ndarray, tolerance: float) -> list[list[np.ndarray]]:
    """Per 4-connected part of an HxW bool mask: its rings (Nx2 XY, pixel-edge coordinates of
    the mask's frame), the outer boundary first, each simplified within `tolerance` pixels."""
    labels, _ = ndimage.label(mask)
    parts = []
    for index, window in enumerate(ndimage.find_objects(labels), start=1):
        if window is None:
            continue
        offset = np.array([window[1].start, window[0].start], np.float64)
        rings = _component_rings(labels[window] == index)
        parts.append([_simplify(ring, tolerance) + offset for ring in rings])
    return parts


def mask_to_coco_polygons(mask: np.ndarray, tolerance: float = 0.0) -> list[list[float]]:
    """HxW bool -> COCO polygons: one flat [x0, y0, x1, y1, ...] per 4-connected part, with
    its holes bridged in; pixel-edge coordinates. `tolerance` (pixels) simplifies each ring."""
    return [bridge_rings(rings).ravel().round(3).tolist() for rings in _part_rings(mask, tolerance)]


def mask_to_rings(mask: np.ndarray, tolerance: float = 0.0) -> list[np.ndarray]:
    """HxW bool -> every ring of every 4-connected part (outer boundaries and holes alike, the
    largest part's outer ring first), Nx2 XY in pixel-edge coordinates, unbridged: what a person
    edits vertex by vertex. `rings_to_mask` fills them back even-odd (exact at tolerance 0)."""
    parts = _part_rings(mask, tolerance)
    parts.sort(key=lambda rings: -abs(_signed_area(rings[0])))
    return [ring for rings in parts for ring in rings]


def rings_to_mask(rings: list[np.ndarray], height: int, width: int) -> np.ndarray:
    """Nx2 XY rings (pixel-edge coordinates, any orientation) -> HxW bool, filled even-odd (a
    pixel is inside when its centre lies inside an odd number of rings), so a hole is a ring
    inside a ring. Rasterised by pycocotools within the rings' bounding box."""
    mask = np.zeros((height, width), bool)
    points = [np.asarray(ring, np.float64).reshape(-1, 2) for ring in rings if len(ring) >= 3]
    if not points:
        return mask
    every = np.concatenate(points)
    x0, y0 = (int(v) for v in np.clip(np.floor(every.min(axis=0)), 0, [width, height]))
    x1, y1 = (int(v) for v in np.clip(np.ceil(every.max(axis=0)), 0, [width, height]))
    if x1 <= x0 or y1 <= y0:
        return mask
    window = np.zeros((y1 - y0, x1 - x0), bool)
    for ring in points:
        flat = (ring - [x0, y0]).ravel().tolist()
        window ^= coco_polygons_to_mask([flat], y1 - y0, x1 - x0)
    mask[y0:y1, x0:x1] = window
    return mask


def coco_polygons_to_mask(polygons: list[list[float]], height: int, width: int) -> np.ndarray:
    """COCO polygons -> HxW bool (union of the parts), rasterised by pycocotools itself."""
    usable = [p for p in polygons if len(p) >= 6]
    if not usable:
        return np.zeros((height, width), bool)
    rles = coco_mask.frPyObjects(usable, height, width)
    merged = coco_mask.merge(rles)
    return decode_rle({"size": [height, width], "counts": merged["counts"].decode()})


def mask_to_centre_polygons(mask: np.ndarray, tolerance: float = 0.0) -> list[np.ndarray]:
    """HxW bool -> one Nx2 float ring per outer contour (continuous XY: boundary pixel
    centres + 0.5), each with its holes bridged in; largest first."""
    contours, hierarchy = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE
    )
    if not contours:
        return []
    rings = [_centre_ring(c, tolerance) for c in contours]
    parents = hierarchy[0][:, 3]
    parts = []
    for index in np.flatnonzero(parents < 0):
        holes = [rings[h] for h in np.flatnonzero(parents == index)]
        parts.append(bridge_rings([rings[index], *holes]) + 0.5)
    parts.sort(key=lambda ring: -abs(_signed_area(ring)))
    return parts


def _centre_ring(contour: np.ndarray, tolerance: float) -> np.ndarray:
    if tolerance > 0 and len(contour) > 3:
        contour = cv2.approxPolyDP(contour, tolerance, True)
    return contour.reshape(-1, 2).astype(np.float64)


def centre_polygon_to_mask(ring: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nx2 continuous XY ring -> HxW bool the way Ultralytics does it (int cast, fillPoly)."""
    canvas = np.zeros((height, width), np.uint8)
    cv2.fillPoly(canvas, [np.asarray(ring, np.float64).astype(np.int32)], color=1)
    return canvas.astype(bool)
