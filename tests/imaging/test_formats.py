"""sniff_format decides by magic bytes alone; describe_unsupported says what a file is."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.imaging import SUPPORTED_FORMATS, sniff_format
from app.imaging.formats import SNIFF_BYTES, describe_unsupported


def encoded(image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(buffer, image_format)
    return buffer.getvalue()


@pytest.mark.parametrize("image_format", sorted(SUPPORTED_FORMATS))
def test_sniffs_what_pillow_writes(image_format: str):
    assert sniff_format(encoded(image_format)[:SNIFF_BYTES]) == image_format


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"MM\x00*\x00\x00\x00\x08", "TIFF"),  # big-endian TIFF
        (b"II+\x00\x08\x00\x00\x00", "TIFF"),  # BigTIFF
        (b"RIFF\x10\x00\x00\x00WEBPVP8L", "WEBP"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),  # RIFF, but audio
        (b"\xff\xd8", None),  # too short to be sure
        (b"", None),
        (b"GIF89a\x01\x00", None),
        (b"<svg xmlns=", None),
        (b"\x00\x00\x00\x1cftypavif", None),
    ],
)
def test_sniff_format_edge_cases(head: bytes, expected: str | None):
    assert sniff_format(head) == expected


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (b"GIF87a....", "GIF"),
        (b"%PDF-1.7", "PDF"),
        (b"%!PS-Adobe-3.0 EPSF", "EPS"),
        (b"PK\x03\x04", "ZIP"),
        (b"\xef\xbb\xbf  <?xml version", "SVG"),
        (b"<!DOCTYPE html>", "HTML"),
        (b"\x00\x00\x00\x1cftypavif", "AVIF"),
        (b"\x01\x02\x03", "not a recognised"),
    ],
)
def test_describe_unsupported_names_the_real_type(head: bytes, words: str):
    message = describe_unsupported(head)
    assert words in message
    assert "JPEG, PNG, WebP, TIFF or BMP" in message
