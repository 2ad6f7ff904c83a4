"""Hostile and edge-case image files, generated in code (no binaries in the repo).

``build_corpus(dir)`` writes every case into ``dir`` and returns the cases. Expectations
hold for ``decode_image(data, max_bytes=CORPUS_MAX_BYTES, max_pixels=CORPUS_MAX_PIXELS)``
(API tests: configure the app with the same two limits).

Probes are (x, y, (r, g, b)) in the canonical frame; lossy files carry a tolerance.
Orientation files are built from the EXIF 2.3 definition of each Orientation value (which
stored side is the visual top/left), not from any transpose table, so they check the
decoder's table independently.
"""

from __future__ import annotations

import functools
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from tests.imaging.samples import (
    BLACK,
    BLUE,
    CARD_PROBES,
    CARD_SIZE,
    GREEN,
    RED,
    WHITE,
    Probe,
    bmp_header_only,
    card,
    encode,
    patch_jpeg_size,
    solid,
    textured,
    tiff_header_only,
    with_orientation,
    zero_png,
)

CORPUS_MAX_BYTES = 1_000_000
CORPUS_MAX_PIXELS = 4_000_000


@dataclass(frozen=True)
class HostileCase:
    filename: str
    data: bytes
    expect: Literal["reject", "accept"]
    expected_size: tuple[int, int] | None  # canonical (width, height) when accepted
    note: str
    code: str | None = None  # ImageRejected.code when rejected
    probes: tuple[Probe, ...] = ()
    tolerance: int = 0  # max abs difference per channel for probes


def build_corpus(dir: Path) -> list[HostileCase]:
    """Write every case to ``dir / case.filename`` and return them (at least 25)."""
    dir.mkdir(parents=True, exist_ok=True)
    cases = list(all_cases())
    for case in cases:
        (dir / case.filename).write_bytes(case.data)
    return cases


@functools.cache
def all_cases() -> tuple[HostileCase, ...]:
    builders: list[Callable[[], list[HostileCase]]] = [
        _byte_level_cases,
        _impostor_cases,
        _corrupt_cases,
        _bomb_cases,
        _mode_cases,
        _animation_cases,
        _orientation_cases,
        _shape_cases,
    ]
    cases = tuple(case for build in builders for case in build())
    assert len({case.filename for case in cases}) == len(cases), "duplicate filenames"
    return cases


# --- case constructors ----------------------------------------------------------------


def reject(filename: str, data: bytes, code: str, note: str) -> HostileCase:
    return HostileCase(filename, data, "reject", None, note, code=code)


def accept(filename, data, size, note, probes=(), tolerance=0) -> HostileCase:
    return HostileCase(
        filename, data, "accept", size, note, probes=tuple(probes), tolerance=tolerance
    )


# --- case groups ----------------------------------------------------------------------


def _byte_level_cases() -> list[HostileCase]:
    noise = random.Random(1234).randbytes(4096)
    oversize = encode(solid(RED), "PNG") + b"\x00" * CORPUS_MAX_BYTES
    return [
        reject("zero_bytes.png", b"", "empty", "zero-byte file"),
        reject("random_bytes.jpg", noise, "unsupported_format", "4 KiB of random bytes"),
        reject("text.png", b"hello, world\n" * 10, "unsupported_format", "plain text"),
        reject(
            "oversize.png",
            oversize,
            "too_large",
            "a valid PNG padded past max_bytes: the byte cap applies before decoding",
        ),
    ]


def _impostor_cases() -> list[HostileCase]:
    html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    zip_bytes = b"PK\x03\x04" + b"\x00" * 26 + b"payload.exe"
    gif = encode(solid(RED), "GIF")
    png_bad_magic = b"\x88" + encode(solid(RED), "PNG")[1:]
    jpeg = encode(solid(BLUE), "JPEG", quality=95)
    unsupported = "unsupported_format"
    return [
        reject("html.png", html, unsupported, "HTML page renamed .png"),
        reject("svg.png", svg, unsupported, "SVG (script-capable XML) renamed .png"),
        reject("svg_bare.png", b"  \n<svg onload='alert(1)'/>", unsupported, "bare SVG tag"),
        reject("eps.png", eps, unsupported, "EPS renamed .png (Ghostscript must never run)"),
        reject("pdf.png", pdf, unsupported, "PDF renamed .png"),
        reject("zip.png", zip_bytes, unsupported, "ZIP archive renamed .png"),
        reject("gif.jpg", gif, unsupported, "a real GIF named .jpg: GIF is not allowed"),
        reject("png_bad_magic.png", png_bad_magic, unsupported, "PNG with first byte altered"),
        accept(
            "jpeg_named.png",
            jpeg,
            (16, 12),
            "JPEG named .png: magic bytes decide",
            [(8, 6, BLUE)],
            8,
        ),
        accept("jpeg_named.txt", jpeg, (16, 12), "JPEG named .txt", [(8, 6, BLUE)], 8),
    ]


def _corrupt_cases() -> list[HostileCase]:
    rng = random.Random(99)
    photo_jpeg = encode(textured(160, 120), "JPEG", quality=90)
    photo_png = encode(textured(160, 120), "PNG")
    good_png = encode(solid(RED), "PNG")
    crc_broken = good_png[:-20] + bytes([good_png[-20] ^ 0xFF]) + good_png[-19:]
    return [
        reject(
            "truncated.jpg", photo_jpeg[: len(photo_jpeg) // 2], "truncated", "JPEG cut in half"
        ),
        reject(
            "truncated.png", photo_png[: len(photo_png) // 2], "truncated", "PNG cut inside IDAT"
        ),
        reject(
            "header_only.png",
            photo_png[:33],
            "corrupt",
            "PNG signature and IHDR only",
        ),
        reject(
            "png_magic_garbage.png",
            b"\x89PNG\r\n\x1a\n" + rng.randbytes(500),
            "corrupt",
            "PNG signature then random bytes",
        ),
        reject(
            "jpeg_magic_garbage.jpg",
            b"\xff\xd8\xff\xe0" + rng.randbytes(500),
            "corrupt",
            "JPEG SOI then random bytes",
        ),
        reject(
            "webp_magic_garbage.webp",
            b"RIFF\x00\x01\x00\x00WEBPVP8 " + rng.randbytes(300),
            "corrupt",
            "RIFF/WEBP header then random bytes",
        ),
        reject(
            "bmp_magic_garbage.bmp", b"BM" + rng.randbytes(300), "corrupt", "BM then random bytes"
        ),
        reject(
            "tiff_magic_garbage.tif",
            b"II*\x00" + rng.randbytes(300),
            "corrupt",
            "TIFF header then random bytes",
        ),
        reject("png_bad_crc.png", crc_broken, "corrupt", "PNG with a corrupted chunk CRC"),
        reject("png_zero_width.png", zero_png(0, 10), "corrupt", "IHDR declares width 0"),
    ]


def _bomb_cases() -> list[HostileCase]:
    # 12000 x 12000 = 144 Mpx of valid, fully compressed zeros (~20 KB): above Pillow's
    # warning threshold, below its hard error, so only warning-as-error stops it.
    sof_bomb = patch_jpeg_size(encode(solid(RED), "JPEG"), 65000, 65000)
    return [
        reject(
            "bomb_png_144mpx.png",
            zero_png(12000, 12000),
            "decompression_bomb",
            "12000x12000 PNG of zeros, ~20 KB: Pillow's DecompressionBombWarning",
        ),
        reject(
            "bomb_png_2500mpx.png",
            zero_png(50000, 50000, rows=64),
            "decompression_bomb",
            "50000x50000 PNG header with a tiny stream: refused from the header",
        ),
        reject(
            "bomb_jpeg_sof.jpg",
            sof_bomb,
            "decompression_bomb",
            "valid 16x12 JPEG whose SOF was patched to 65000x65000",
        ),
        reject(
            "bomb_bmp_header.bmp",
            bmp_header_only(100_000, 100_000),
            "decompression_bomb",
            "BMP header declaring 100000x100000 over 64 bytes of data",
        ),
        reject(
            "bomb_tiff_header.tif",
            tiff_header_only(100_000, 100_000),
            "decompression_bomb",
            "TIFF IFD declaring 100000x100000 over 64 bytes of data",
        ),
        reject(
            "too_many_pixels.tif",
            tiff_header_only(4000, 1001),
            "too_many_pixels",
            "TIFF declaring 4 Mpx + 4000 px: refused before its (missing) strips are read",
        ),
        reject(
            "too_many_pixels.png",
            zero_png(2500, 2000),
            "too_many_pixels",
            "5 Mpx PNG: under Pillow's limit, over max_pixels",
        ),
    ]


def _mode_cases() -> list[HostileCase]:
    def row(values, dtype=None):
        return Image.fromarray(np.array([values], dtype=dtype))

    bilevel = Image.fromarray(np.array([[False, False, True, True]] * 2))
    palette = Image.new("P", (2, 1))
    palette.putpalette([*RED, *BLUE])
    palette.putpixel((1, 0), 1)
    la = Image.fromarray(np.array([[[0, 128], [0, 255], [0, 0]]], np.uint8), "LA")
    rgba = Image.fromarray(
        np.array([[[255, 0, 0, 0], [0, 0, 255, 255], [0, 0, 0, 128], [200, 100, 50, 51]]], np.uint8)
    )
    rgba_expected = [(0, 0, WHITE), (1, 0, BLUE), (2, 0, (127,) * 3), (3, 0, (244, 224, 214))]
    uint16 = row([1000, 2000, 3000], np.uint16)
    stretched = [(0, 0, BLACK), (1, 0, (128,) * 3), (2, 0, WHITE)]
    cmyk = solid((255, 0, 0, 0), mode="CMYK")
    return [
        accept(
            "mode_1.png", encode(bilevel, "PNG"), (4, 2), "1-bit", [(0, 1, BLACK), (3, 1, WHITE)]
        ),
        accept(
            "mode_L.png",
            encode(row([0, 100, 200], np.uint8), "PNG"),
            (3, 1),
            "8-bit grey, unchanged",
            [(0, 0, BLACK), (1, 0, (100,) * 3), (2, 0, (200,) * 3)],
        ),
        accept(
            "mode_L.bmp",
            encode(row([0, 100, 200], np.uint8), "BMP"),
            (3, 1),
            "8-bit grey BMP",
            [(1, 0, (100,) * 3)],
        ),
        accept(
            "mode_LA.png",
            encode(la, "PNG"),
            (3, 1),
            "grey+alpha on white",
            [(0, 0, (127,) * 3), (1, 0, BLACK), (2, 0, WHITE)],
        ),
        accept(
            "mode_P.png", encode(palette, "PNG"), (2, 1), "palette", [(0, 0, RED), (1, 0, BLUE)]
        ),
        accept(
            "mode_P_transparent.png",
            encode(palette, "PNG", transparency=1),
            (2, 1),
            "palette with a transparent index -> white",
            [(0, 0, RED), (1, 0, WHITE)],
        ),
        accept("mode_RGBA.png", encode(rgba, "PNG"), (4, 1), "RGBA on white", rgba_expected),
        accept(
            "mode_RGBA.webp",
            encode(rgba, "WEBP", lossless=True, exact=True),
            (4, 1),
            "lossless RGBA WebP on white",
            rgba_expected,
        ),
        accept("mode_RGBA.tif", encode(rgba, "TIFF"), (4, 1), "RGBA TIFF on white", rgba_expected),
        accept(
            "mode_CMYK.jpg",
            encode(cmyk, "JPEG", quality=95),
            (16, 12),
            "CMYK JPEG (Adobe)",
            [(8, 6, (0, 255, 255))],
            8,
        ),
        accept(
            "mode_CMYK.tif", encode(cmyk, "TIFF"), (16, 12), "CMYK TIFF", [(8, 6, (0, 255, 255))]
        ),
        accept("mode_I16.png", encode(uint16, "PNG"), (3, 1), "16-bit PNG, min-max", stretched),
        accept("mode_I16.tif", encode(uint16, "TIFF"), (3, 1), "16-bit TIFF, min-max", stretched),
        accept(
            "mode_I16B.tif",
            encode(row([1000, 2000, 3000], ">u2"), "TIFF"),
            (3, 1),
            "big-endian 16-bit TIFF",
            stretched,
        ),
        accept(
            "mode_I16_dim.tif",
            encode(row([100, 250, 400], np.uint16), "TIFF"),
            (3, 1),
            "dim microscopy frame (400 of 65535) still spans black..white",
            stretched,
        ),
        accept(
            "mode_I.tif",
            encode(row([-5, 0, 5], np.int32), "TIFF"),
            (3, 1),
            "signed 32-bit",
            stretched,
        ),
        accept(
            "mode_F.tif",
            encode(row([0.25, 0.5, 0.75, np.nan], np.float32), "TIFF"),
            (4, 1),
            "float32, NaN -> minimum",
            [*stretched, (3, 0, BLACK)],
        ),
    ]


def _animation_cases() -> list[HostileCase]:
    red, green = solid(RED), solid(GREEN)
    frames = {"save_all": True, "append_images": [green], "duration": 100, "loop": 0}
    first_red = [(8, 6, RED)]
    return [
        accept(
            "animated.png", encode(red, "PNG", **frames), (16, 12), "APNG: first frame", first_red
        ),
        accept(
            "animated.webp",
            encode(red, "WEBP", lossless=True, **frames),
            (16, 12),
            "animated WebP: first frame",
            first_red,
        ),
        reject(
            "animated.gif", encode(red, "GIF", **frames), "unsupported_format", "GIF not allowed"
        ),
        accept(
            "multipage.tif",
            encode(red, "TIFF", save_all=True, append_images=[green]),
            (16, 12),
            "two-page TIFF: first page",
            first_red,
        ),
        accept(
            "multipicture.jpg",
            encode(red, "MPO", save_all=True, append_images=[green]),
            (16, 12),
            "MPO (phone-camera JPEG): first picture",
            first_red,
            8,
        ),
    ]


def _orientation_cases() -> list[HostileCase]:
    jpeg = {"quality": 95, "subsampling": 0}
    cases = [
        accept(
            f"orientation_{n}.jpg",
            with_orientation("JPEG", n, **jpeg),
            CARD_SIZE,
            f"EXIF Orientation {n}; stored {'transposed' if n >= 5 else 'same'} size",
            CARD_PROBES,
            40,
        )
        for n in range(1, 9)
    ]
    upright = Image.fromarray(card())
    bad_exif = encode(upright, "JPEG", **jpeg)
    app1 = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + b"\xee" * 40
    bad_exif = bad_exif[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + bad_exif[2:]
    return [
        *cases,
        accept(
            "orientation_6.png",
            with_orientation("PNG", 6),
            CARD_SIZE,
            "PNG eXIf orientation 6",
            CARD_PROBES,
        ),
        accept(
            "orientation_8.webp",
            with_orientation("WEBP", 8, lossless=True),
            CARD_SIZE,
            "WebP EXIF orientation 8",
            CARD_PROBES,
        ),
        accept(
            "orientation_5.tif",
            with_orientation("TIFF", 5),
            CARD_SIZE,
            "TIFF orientation 5",
            CARD_PROBES,
        ),
        accept(
            "orientation_9.jpg",
            with_orientation("JPEG", 9, **jpeg),
            CARD_SIZE,
            "Orientation 9 (invalid) is ignored",
            CARD_PROBES,
            40,
        ),
        accept(
            "malformed_exif.jpg",
            bad_exif,
            CARD_SIZE,
            "garbage EXIF block is ignored",
            CARD_PROBES,
            40,
        ),
    ]


def _shape_cases() -> list[HostileCase]:
    strip = np.zeros((3, 10000, 3), np.uint8)
    strip[:, -1] = RED
    return [
        accept(
            "one_pixel.png", encode(solid(GREEN, (1, 1)), "PNG"), (1, 1), "1x1", [(0, 0, GREEN)]
        ),
        accept(
            "one_pixel.jpg",
            encode(solid(BLUE, (1, 1)), "JPEG", quality=95),
            (1, 1),
            "1x1 JPEG",
            [(0, 0, BLUE)],
            16,
        ),
        accept(
            "elongated.png",
            encode(Image.fromarray(strip), "PNG"),
            (10000, 3),
            "10000x3 strip",
            [(0, 0, BLACK), (9999, 2, RED)],
        ),
        accept(
            "tall.bmp",
            encode(solid(RED, (2, 5000)), "BMP"),
            (2, 5000),
            "2x5000 BMP",
            [(1, 4999, RED)],
        ),
        accept(
            "at_pixel_limit.png",
            zero_png(2000, 2000),
            (2000, 2000),
            "exactly max_pixels (2000x2000) is allowed",
            [(1999, 1999, BLACK)],
        ),
    ]
