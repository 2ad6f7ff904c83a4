"""Format identification from magic bytes: the allowlist, and names for what it refuses.

The file extension and the client's Content-Type are never consulted: a GIF renamed
``.jpg`` is a GIF, and an HTML page renamed ``.png`` is not an image at all.
"""

from __future__ import annotations

SUPPORTED_FORMATS: frozenset[str] = frozenset({"JPEG", "PNG", "WEBP", "TIFF", "BMP"})

# How many leading bytes sniff_format needs to decide.
SNIFF_BYTES = 16

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),  # BigTIFF
    (b"MM\x00+", "TIFF"),
    (b"BM", "BMP"),
)

# Recognised but refused, so the rejection message can say what the file really is.
_REFUSED_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"%!PS", "a PostScript/EPS document"),
    (b"\xc5\xd0\xd3\xc6", "an EPS document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (b"\x00\x00\x01\x00", "an ICO icon"),
    (b"8BPS", "a Photoshop document"),
)

_FORMAT_NAMES = "JPEG, PNG, WebP, TIFF or BMP"


def sniff_format(head: bytes) -> str | None:
    """Name of the supported format ``head`` (the file's first bytes) starts with, else None.

    Returns one of SUPPORTED_FORMATS. Only magic bytes are inspected, never names.
    """
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


def describe_unsupported(head: bytes) -> str:
    """Human sentence saying what an unsupported file appears to be and what is accepted."""
    return f"File is {_what_is(head)}; only {_FORMAT_NAMES} images are accepted."


def _what_is(head: bytes) -> str:
    if head[8:12] in (b"avif", b"heic", b"heix", b"mif1") and head[4:8] == b"ftyp":
        return "an AVIF/HEIC image"
    for magic, description in _REFUSED_MAGIC:
        if head.startswith(magic):
            return description
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<svg", b"<?xml")):
        return "an SVG/XML document"
    if text.startswith((b"<!doctype", b"<html", b"<")):
        return "an HTML/markup document"
    return "not a recognised image format"
