"""Small image makers shared by the hostile corpus and the imaging tests.

All return encoded bytes or Pillow images built in code; nothing is read from disk.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

Probe = tuple[int, int, tuple[int, int, int]]
RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255,) * 3, (0,) * 3


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_from_rows(width: int, height: int, idat: bytes, *, bit_depth: int = 1) -> bytes:
    """Hand-made greyscale PNG with the given (already compressed) IDAT payload."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def zero_png(width: int, height: int, rows: int | None = None) -> bytes:
    """1-bit black PNG of width x height; only ``rows`` rows of data when given."""
    row = b"\x00" * (1 + (width + 7) // 8)
    return png_from_rows(width, height, zlib.compress(row * (height if rows is None else rows), 9))


def textured(width: int, height: int, seed: int = 0) -> Image.Image:
    """RGB gradient plus noise: compresses poorly enough that truncation hits pixel data."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack(
        [x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (x + y) % 256], -1
    )
    noise = rng.integers(0, 40, (height, width, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def solid(
    colour: tuple[int, ...], size: tuple[int, int] = (16, 12), mode: str = "RGB"
) -> Image.Image:
    return Image.new(mode, size, colour)


def patch_jpeg_size(jpeg: bytes, width: int, height: int) -> bytes:
    sof = jpeg.index(b"\xff\xc0")
    return jpeg[: sof + 5] + struct.pack(">HH", height, width) + jpeg[sof + 9 :]


# Visual (canonical) test card: 64x48, red top-left and green top-right 16 px squares.
CARD_SIZE = (64, 48)
CARD_PROBES: tuple[Probe, ...] = ((8, 8, RED), (55, 8, GREEN), (8, 39, WHITE), (55, 39, WHITE))


def card() -> np.ndarray:
    """HxWx3 uint8 canonical test card."""
    pixels = np.full((CARD_SIZE[1], CARD_SIZE[0], 3), 255, np.uint8)
    pixels[:16, :16] = RED
    pixels[:16, -16:] = GREEN
    return pixels


def stored_for_orientation(visual: np.ndarray, orientation: int) -> np.ndarray:
    """Pixels a camera stores so that ``visual`` is seen under EXIF ``orientation``.

    EXIF 2.3 names, for each value, the visual side of stored row 0 and of stored column 0:
    1 top/left, 2 top/right, 3 bottom/right, 4 bottom/left,
    5 left/top, 6 right/top, 7 right/bottom, 8 left/bottom.
    """
    flip_rows = visual[::-1]  # visual bottom first
    flip_cols = visual[:, ::-1]  # visual right first
    swap = np.swapaxes  # stored rows run along visual columns
    return {
        1: visual,
        2: flip_cols,
        3: visual[::-1, ::-1],
        4: flip_rows,
        5: swap(visual, 0, 1),
        6: swap(flip_cols, 0, 1),
        7: swap(visual[::-1, ::-1], 0, 1),
        8: swap(flip_rows, 0, 1),
    }.get(orientation, visual)  # invalid values (0, 9, ...) mean nothing: stored upright


def with_orientation(fmt: str, orientation: int, **options: object) -> bytes:
    stored = Image.fromarray(np.ascontiguousarray(stored_for_orientation(card(), orientation)))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, fmt, exif=exif.tobytes(), **options)


def bmp_header_only(width: int, height: int) -> bytes:
    """24-bit BMP file and info headers declaring width x height, followed by 64 bytes."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 64, 0, 0, 54) + info + b"\x00" * 64


def tiff_header_only(width: int, height: int) -> bytes:
    """Little-endian 8-bit grey TIFF whose one IFD declares width x height; 64 data bytes."""
    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1)]
    tags += [(273, 4, 8 + 2 + 12 * 8 + 4), (278, 4, height), (279, 4, 64)]
    ifd = struct.pack("<H", len(tags))
    ifd += b"".join(struct.pack("<HHII", tag, kind, 1, value) for tag, kind, value in tags)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\x00" * 64
