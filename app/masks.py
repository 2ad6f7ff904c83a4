"""Binary masks as COCO run-length encodings (RLE), the one form masks travel and rest in.

An RLE is ``{"size": [h, w], "counts": ...}`` where counts are alternating run lengths of
0s and 1s over the mask read in column-major (Fortran) order, starting with 0s. ``counts`` is
either the compact COCO string (what we emit) or an uncompressed list of ints (accepted).
Masks are HxW bool arrays in canonical image pixels. Invalid input raises ValueError.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pycocotools import mask as coco_mask

Rle = dict[str, Any]


def encode_rle(mask: np.ndarray) -> Rle:
    """HxW bool (or 0/1) mask -> {"size": [h, w], "counts": compact COCO string}."""
    if mask.ndim != 2:
        raise ValueError(f"a mask must be 2-D (HxW), got shape {mask.shape}")
    encoded = coco_mask.encode(np.asfortranarray(mask, dtype=np.uint8))
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": encoded["counts"].decode()}


def decode_rle(rle: Rle) -> np.ndarray:
    """RLE (string or list counts) -> HxW bool mask."""
    height, width, runs = _parse(rle)
    # pycocotools' decode trips numpy 2's __array__ deprecation; runs decode in numpy is as fast.
    values = np.arange(len(runs)) % 2 == 1
    return np.repeat(values, runs).reshape(width, height).T.copy()


def normalize_rle(rle: Rle) -> Rle:
    """Validate an RLE and return it with compact string counts."""
    if isinstance(rle, dict) and isinstance(rle.get("counts"), str):
        _parse(rle)
        return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"]}
    return encode_rle(decode_rle(rle))


def rle_area(rle: Rle) -> int:
    """Number of foreground pixels."""
    _, _, runs = _parse(rle)
    return int(sum(runs[1::2]))


def rle_bbox(rle: Rle) -> list[float]:
    """Tight box [x, y, w, h] (COCO XYWH, pixels) around the foreground; zeros when empty."""
    return mask_xywh(decode_rle(rle))


def mask_xywh(mask: np.ndarray) -> list[float]:
    """Tight box [x, y, w, h] (COCO XYWH, pixels) around an HxW bool mask; zeros when empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return [0.0, 0.0, 0.0, 0.0]
    x, y = float(cols[0]), float(rows[0])
    return [x, y, float(cols[-1] + 1 - x), float(rows[-1] + 1 - y)]


def _parse(rle: Rle) -> tuple[int, int, list[int]]:
    """(height, width, run lengths) of a validated RLE."""
    height, width = _parse_size(rle)
    counts = rle.get("counts")
    if isinstance(counts, str):
        runs = _parse_compact_counts(counts)
    elif isinstance(counts, list):
        runs = counts
    else:
        raise ValueError("rle.counts must be a COCO string or a list of run lengths")
    _check_runs(runs, height * width)
    return height, width, runs


def _parse_size(rle: Any) -> tuple[int, int]:
    if not isinstance(rle, dict):
        raise ValueError("an RLE must be an object with 'size' and 'counts'")
    size = rle.get("size")
    if not (
        isinstance(size, list | tuple)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise ValueError("rle.size must be [height, width] with positive integers")
    return int(size[0]), int(size[1])


def _check_runs(runs: list[Any], n_pixels: int) -> None:
    if any(not isinstance(r, int) or isinstance(r, bool) or r < 0 for r in runs):
        raise ValueError("rle.counts must hold non-negative integers")
    if sum(runs) != n_pixels:
        raise ValueError(f"rle.counts cover {sum(runs)} pixels but size implies {n_pixels}")


def _parse_compact_counts(text: str) -> list[int]:
    """Decode COCO's compact counts string (6-bit groups, deltas after the 2nd run)."""
    runs: list[int] = []
    pos = 0
    while pos < len(text):
        value, shift, more = 0, 0, True
        while more:
            if pos >= len(text):
                raise ValueError("rle.counts string is truncated")
            char = ord(text[pos]) - 48
            if not 0 <= char < 64:
                raise ValueError("rle.counts string holds an invalid character")
            value |= (char & 0x1F) << shift
            more = bool(char & 0x20)
            pos += 1
            shift += 5
            if not more and char & 0x10:
                value |= -1 << shift
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs
