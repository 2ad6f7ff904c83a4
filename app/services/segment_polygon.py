"""A segment's mask as editable polygon rings, and rings back to a mask.

Rings are Nx2 XY in pixel-edge coordinates of the canonical image (pixel (x, y) is the square
[x, x+1] x [y, y+1]); every outer boundary and every hole is a ring and they fill even-odd, so
a multi-part mask with holes is edited whole. Simplification keeps a blob to a number of
vertices a person can drag."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.errors import Invalid
from app.exchange.polygons import mask_to_rings, rings_to_mask
from app.masks import Rle, decode_rle, encode_rle, mask_xywh
from app.models import Segment


@dataclass(frozen=True)
class Polygon:
    rings: list[np.ndarray]  # each Nx2 float XY, pixel-edge coordinates
    tolerance: float  # the Douglas-Peucker tolerance (pixels) the rings were simplified with


def segment_polygon(segment: Segment, *, tolerance: float, max_vertices: int) -> Polygon:
    """The segment's rings simplified within `tolerance` px, the tolerance doubled while they
    hold more than `max_vertices` vertices in all and doubling still helps. A ring is never
    dropped (a commit would erase its pixels), so speckle keeps three vertices per speck."""
    try:
        mask = decode_rle(segment.rle)
    except ValueError as exc:  # a stored mask no writer of ours makes: say so, no 500
        raise Invalid(f"segment {segment.id} has an unreadable mask: {exc}") from None
    # Traced within its box: a small segment of a large image costs its own size.
    x, y, w, h = (int(v) for v in mask_xywh(mask))
    if not w:
        return Polygon(rings=[], tolerance=tolerance)  # an empty mask has no outline
    box, offset = mask[y : y + h, x : x + w], np.array([x, y], np.float64)
    rings = mask_to_rings(box, tolerance)
    count = _vertices(rings)
    while count > max_vertices:
        coarser = max(2 * tolerance, 0.5)
        simpler = mask_to_rings(box, coarser)
        if _vertices(simpler) >= count:
            break
        tolerance, rings, count = coarser, simpler, _vertices(simpler)
    return Polygon(rings=[ring + offset for ring in rings], tolerance=tolerance)


def _vertices(rings: list[np.ndarray]) -> int:
    return sum(len(ring) for ring in rings)


def polygon_rle(rings: Sequence[Sequence[tuple[float, float]]], height: int, width: int) -> Rle:
    """Rings (XY pixel-edge coordinates, filled even-odd) -> the RLE of an HxW mask; Invalid
    when they cover no pixel."""
    mask = rings_to_mask([np.asarray(ring, np.float64) for ring in rings], height, width)
    if not mask.any():
        raise Invalid("the polygon covers no pixel of the image", code="empty_polygon")
    return encode_rle(mask)
