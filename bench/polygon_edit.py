"""Polygon vertex editing's server side: a segment's mask -> editable rings (GET .../polygon)
and edited rings -> the mask (PATCH with `polygon`), per segment size on a large image.

    .venv/bin/python bench/polygon_edit.py [--image 3000x2000] [--repeat 5]

Ours traces exact pixel-edge rings in the segment's box (marching squares, every part and
hole) and simplifies them within 1 px; the peer is what an OpenCV tool does (CVAT-style):
cv2.findContours + approxPolyDP on the whole image, outer rings only, which loses the holes.
Both start from the stored RLE (decoding it is part of every GET).
The table gives milliseconds (median), vertices, and pixels changed by a round trip.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.exchange.polygons import rings_to_mask  # noqa: E402
from app.masks import decode_rle, encode_rle  # noqa: E402
from app.models import Segment  # noqa: E402
from app.services.segment_polygon import polygon_rle, segment_polygon  # noqa: E402


def blob(height: int, width: int, radius: int, seed: int = 0) -> np.ndarray:
    """A ragged disc of about `radius` px with a hole, centred: (H, W) bool."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    angle = np.arctan2(yy - height / 2, xx - width / 2)
    wobble = 1 + 0.15 * np.sin(7 * angle + rng.uniform(0, 6))
    distance = np.hypot(yy - height / 2, xx - width / 2)
    return (distance < radius * wobble) & (distance > radius * 0.2)


def peer(rle: dict) -> list[np.ndarray]:
    """The stored RLE decoded, as ours is, then OpenCV's outer contours, simplified."""
    mask = decode_rle(rle)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return [cv2.approxPolyDP(c, 1.0, True).reshape(-1, 2) for c in contours]


def peer_back(rings: list[np.ndarray], height: int, width: int) -> np.ndarray:
    canvas = np.zeros((height, width), np.uint8)
    cv2.fillPoly(canvas, [r.astype(np.int32) for r in rings], color=1)
    return canvas.astype(bool)


def median_ms(repeat: int, fn, *args) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def row(mask: np.ndarray, repeat: int) -> str:
    """One table row for `mask` (H, W) bool: ours, then the OpenCV peer, then the ratio."""
    height, width = mask.shape
    rle = encode_rle(mask)
    segment = Segment(height=height, width=width, rle_counts=rle["counts"])
    polygon = segment_polygon(segment, tolerance=1.0, max_vertices=1000)
    rings = [ring.tolist() for ring in polygon.rings]
    get = median_ms(repeat, lambda: segment_polygon(segment, tolerance=1.0, max_vertices=1000))
    put = median_ms(repeat, polygon_rle, rings, height, width)
    moved = int((rings_to_mask(polygon.rings, height, width) ^ mask).sum())
    theirs = peer(rle)
    peer_get = median_ms(repeat, peer, rle)
    peer_put = median_ms(repeat, peer_back, theirs, height, width)
    peer_moved = int((peer_back(theirs, height, width) ^ mask).sum())
    return (
        f"{get:>11.1f} {put:>11.1f} {sum(map(len, rings)):>8} {moved:>8} | "
        f"{peer_get:>11.1f} {peer_put:>11.1f} {sum(map(len, theirs)):>8} {peer_moved:>8} | "
        f"{get / peer_get:>9.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image", default="3000x2000", help="WxH of the image")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    width, height = (int(v) for v in args.image.split("x"))
    print(f"image {width}x{height}, median of {args.repeat}")
    print(
        f"{'radius px':>9} | {'ours get ms':>11} {'ours put ms':>11} {'vertices':>8} "
        f"{'px moved':>8} | {'peer get ms':>11} {'peer put ms':>11} {'vertices':>8} "
        f"{'px moved':>8} | {'get ratio':>9}"
    )
    for radius in (20, 100, 400, 900):
        print(f"{radius:>9} | {row(blob(height, width, radius), args.repeat)}")


if __name__ == "__main__":
    main()
