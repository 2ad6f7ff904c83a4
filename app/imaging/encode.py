"""Re-encoding the canonical frame for browsers: display images and thumbnails.

Both are encoded from the canonical frame (see decode.py) and carry no metadata, so a
browser never applies an EXIF orientation a second time and display pixels are mask pixels.

Display rule: sources in a lossless format (PNG, TIFF, BMP) up to DISPLAY_PNG_MAX_PIXELS are
served as PNG, so a labeller tracing a 1-pixel structure in a microscopy frame or screenshot
sees the real pixels; everything else is JPEG quality 90 without chroma subsampling (colour
edges stay where the mask edges go), except PNG when a side exceeds JPEG's 65500 px limit.
Thumbnails are always JPEG: they are for recognising an image in a grid, not for tracing.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from app.imaging.modes import to_rgb

THUMBNAIL_MIN_SIZE = 32
THUMBNAIL_MAX_SIZE = 1024
DEFAULT_THUMBNAIL_SIZE = 256
THUMBNAIL_QUALITY = 85

DISPLAY_JPEG_QUALITY = 90
# 2048x2048: above this a lossless PNG of a photo-like frame gets too large to serve quickly.
DISPLAY_PNG_MAX_PIXELS = 2048 * 2048
LOSSLESS_FORMATS = frozenset({"PNG", "TIFF", "BMP"})
JPEG_MAX_SIDE = 65500  # libjpeg's limit; longer strips are served as PNG


def encode_display(image: Image.Image, *, source_format: str | None = None) -> tuple[bytes, str]:
    """(encoded bytes, media type) of the canonical ``image`` at full size for the browser.

    ``source_format`` is the original's format (DecodedImage.format); None means unknown
    and gives JPEG.
    """
    rgb = _canonical_rgb(image)
    if display_media(source_format, rgb.width, rgb.height) == "image/png":
        return _save(rgb, "PNG", compress_level=1), "image/png"
    return _save(rgb, "JPEG", quality=DISPLAY_JPEG_QUALITY, subsampling=0), "image/jpeg"


def display_media(source_format: str | None, width: int, height: int) -> str:
    """The media type encode_display gives a canonical image of this size and source format
    (so an export without image files can name them without decoding any)."""
    small_lossless = source_format in LOSSLESS_FORMATS and width * height <= DISPLAY_PNG_MAX_PIXELS
    return "image/png" if small_lossless or max(width, height) > JPEG_MAX_SIDE else "image/jpeg"


def make_thumbnail(image: Image.Image, size: int = DEFAULT_THUMBNAIL_SIZE) -> bytes:
    """JPEG bytes of the canonical ``image`` shrunk so its longest side is min(size, longest).

    Aspect ratio kept (short side rounded, at least 1 px); never enlarged.
    ``size`` must lie in [THUMBNAIL_MIN_SIZE, THUMBNAIL_MAX_SIZE] or ValueError is raised.
    """
    if not THUMBNAIL_MIN_SIZE <= size <= THUMBNAIL_MAX_SIZE:
        raise ValueError(
            f"thumbnail size {size} outside [{THUMBNAIL_MIN_SIZE}, {THUMBNAIL_MAX_SIZE}]"
        )
    rgb = _canonical_rgb(image)
    target = thumbnail_size(rgb.width, rgb.height, size)
    if target != rgb.size:
        rgb = rgb.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return _save(rgb, "JPEG", quality=THUMBNAIL_QUALITY)


def thumbnail_size(width: int, height: int, size: int) -> tuple[int, int]:
    """(width, height) of the thumbnail make_thumbnail produces for a width x height image."""
    longest = max(width, height)
    if longest <= size:
        return width, height
    scale = size / longest

    def shrink(side: int) -> int:
        return size if side == longest else max(1, int(side * scale + 0.5))

    return shrink(width), shrink(height)


def _canonical_rgb(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else to_rgb(image)


def _save(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    # No exif/icc_profile options are passed: the output must carry no metadata.
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def encode_jpeg(pixels: np.ndarray, quality: int = THUMBNAIL_QUALITY) -> bytes:
    """JPEG bytes of an HxWx3 uint8 RGB array (e.g. a segment's masked crop)."""
    return _save(
        Image.fromarray(np.ascontiguousarray(pixels, np.uint8), "RGB"), "JPEG", quality=quality
    )
