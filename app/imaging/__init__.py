"""Image validation, canonicalisation and re-encoding: the only package that imports Pillow.

Every consumer (import, display, thumbnails, model input, mask coordinates) sees the same
canonical frame: first frame, mode rule (modes.py), EXIF orientation applied once.
"""

from app.imaging.decode import DecodedImage, decode_image, open_canonical
from app.imaging.encode import (
    DEFAULT_THUMBNAIL_SIZE,
    THUMBNAIL_MAX_SIZE,
    THUMBNAIL_MIN_SIZE,
    encode_display,
    encode_jpeg,
    make_thumbnail,
    thumbnail_size,
)
from app.imaging.errors import ImageRejected
from app.imaging.formats import SUPPORTED_FORMATS, sniff_format
from app.imaging.modes import as_array, to_rgb

__all__ = [
    "DEFAULT_THUMBNAIL_SIZE",
    "SUPPORTED_FORMATS",
    "THUMBNAIL_MAX_SIZE",
    "THUMBNAIL_MIN_SIZE",
    "DecodedImage",
    "ImageRejected",
    "as_array",
    "decode_image",
    "encode_display",
    "encode_jpeg",
    "make_thumbnail",
    "open_canonical",
    "sniff_format",
    "thumbnail_size",
    "to_rgb",
]
