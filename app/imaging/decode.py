"""Bytes -> the canonical frame: the single pipeline behind import and every later read.

Pipeline (identical for ``decode_image`` and ``open_canonical``): sniff magic bytes ->
parse the header with only that format's plugin -> refuse pixel counts over ``max_pixels``
or Pillow's bomb limit -> decode the first frame -> mode rule (``modes.to_rgb``) -> apply
EXIF orientation once. The result is the canonical frame: its pixels are the coordinate
frame of masks, thumbnails, display images and model input.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from app.imaging.errors import ImageRejected
from app.imaging.formats import SNIFF_BYTES, describe_unsupported, sniff_format
from app.imaging.modes import to_rgb

# Pillow names a multi-picture JPEG (most phone cameras) "MPO"; it is still a JPEG.
_PILLOW_FORMATS = {
    "JPEG": ("JPEG", "MPO"),
    "PNG": ("PNG",),
    "WEBP": ("WEBP",),
    "TIFF": ("TIFF",),
    "BMP": ("BMP",),
}

# EXIF Orientation (tag 0x0112) -> the transpose that brings the stored pixels upright.
_ORIENTATION_TAG = 0x0112
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# warnings.catch_warnings swaps process-global filters; without a lock two threads
# decoding at once can restore each other's filters and leave one header parse unguarded.
_WARNINGS_LOCK = threading.Lock()


@dataclass(frozen=True)
class DecodedImage:
    """A validated upload: canonical frame plus facts about the original bytes."""

    image: Image.Image  # canonical: mode "RGB", EXIF-transposed, fully loaded
    format: str  # one of SUPPORTED_FORMATS, from magic bytes
    sha256: str  # hex digest of the original file bytes

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


def decode_image(data: bytes, *, max_bytes: int, max_pixels: int) -> DecodedImage:
    """Validate raw upload bytes and decode their canonical frame; raises ImageRejected.

    Both limits are inclusive. ``max_bytes`` is checked before any parsing; ``max_pixels``
    against the header's width x height before pixel data is decoded. Pillow's own bomb
    limit (Image.MAX_IMAGE_PIXELS, read but never changed; ~89.5 Mpx by default) also
    applies, so a max_pixels above it is effectively capped there.
    """
    if not data:
        raise ImageRejected("empty", "File is empty (0 bytes).")
    if len(data) > max_bytes:
        raise ImageRejected(
            "too_large", f"File is {len(data)} bytes; the limit is {max_bytes} bytes."
        )
    image, image_format = canonical_frame(data, max_pixels=max_pixels)
    return DecodedImage(image, image_format, hashlib.sha256(data).hexdigest())


def open_canonical(path: Path, *, max_pixels: int) -> Image.Image:
    """The canonical RGB frame of a stored original, by the same pipeline as decode_image.

    Raises ImageRejected if the file no longer decodes, OSError if it cannot be read.
    """
    data = Path(path).read_bytes()
    if not data:
        raise ImageRejected("empty", f"Stored image {Path(path).name} is empty (0 bytes).")
    return canonical_frame(data, max_pixels=max_pixels)[0]


def canonical_frame(data: bytes, *, max_pixels: int) -> tuple[Image.Image, str]:
    """(canonical RGB image, format) of non-empty ``data``; raises ImageRejected."""
    image_format = sniff_format(data[:SNIFF_BYTES])
    if image_format is None:
        raise ImageRejected("unsupported_format", describe_unsupported(data[:64]))
    with _open_header(data, image_format) as source:
        _check_pixels(source, image_format, max_pixels)
        _load_first_frame(source, image_format)
        orientation = _exif_orientation(source)
        canonical = _convert(source, image_format)
    if orientation in _UPRIGHT:
        canonical = canonical.transpose(_UPRIGHT[orientation])
    # Nothing from the original's metadata (EXIF orientation, ICC) may follow the pixels
    # into re-encoded display images or thumbnails: it would be applied a second time.
    canonical.info = {}
    return canonical, image_format


@contextlib.contextmanager
def _pillow_warnings() -> Iterator[None]:
    """Pillow's bomb warning raises; its metadata warnings (corrupt EXIF) are ignored."""
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _open_header(data: bytes, image_format: str) -> Image.Image:
    """Parse the header only, with only ``image_format``'s plugin."""
    try:
        with _pillow_warnings():
            return Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[image_format][0]])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        message = f"Image refused as a likely decompression bomb: {exc}"
        raise ImageRejected("decompression_bomb", message) from exc
    except UnidentifiedImageError as exc:
        message = f"File starts like {image_format} but its header cannot be parsed."
        raise ImageRejected("corrupt", message) from exc
    except Exception as exc:  # any parser failure on untrusted bytes means "not decodable"
        message = f"{image_format} header cannot be parsed: {_reason(exc)}."
        raise ImageRejected("corrupt", message) from exc


def _check_pixels(source: Image.Image, image_format: str, max_pixels: int) -> None:
    width, height = source.size
    if source.format not in _PILLOW_FORMATS[image_format]:
        raise ImageRejected("corrupt", f"File starts like {image_format} but is not one.")
    if width < 1 or height < 1:
        raise ImageRejected("corrupt", f"{image_format} header declares a {width}x{height} image.")
    if width * height > max_pixels:
        raise ImageRejected(
            "too_many_pixels",
            f"Image is {width}x{height} = {width * height} pixels; the limit is {max_pixels}.",
        )


def _load_first_frame(source: Image.Image, image_format: str) -> None:
    """Decode frame 0 only (animated WebP/APNG, multi-page TIFF, MPO)."""
    try:
        source.seek(0)
        source.load()
    except Exception as exc:  # as in _open_header: untrusted bytes, any failure rejects
        reason = _reason(exc)
        if "truncated" in reason.lower() or isinstance(exc, EOFError):
            message = f"{image_format} pixel data ends early: {reason}."
            raise ImageRejected("truncated", message) from exc
        raise ImageRejected("corrupt", f"{image_format} pixel data is corrupt: {reason}.") from exc


def _convert(source: Image.Image, image_format: str) -> Image.Image:
    try:
        return to_rgb(source)
    except Exception as exc:  # a pixel layout Pillow decodes but cannot convert
        message = f"{image_format} pixel layout {source.mode!r} is not supported: {_reason(exc)}."
        raise ImageRejected("unsupported_format", message) from exc


def _exif_orientation(source: Image.Image) -> int:
    """EXIF Orientation 1..8 of ``source``; 1 when absent or the EXIF block is malformed."""
    try:
        with _pillow_warnings():
            orientation = source.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block must not reject otherwise good pixels
        return 1
    return orientation if isinstance(orientation, int) else 1


def _reason(exc: BaseException) -> str:
    return str(exc).rstrip(".") or type(exc).__name__
