"""The picture of one segment for hover cards and galleries: its masked crop, cached."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from app import imaging
from app.embeddings.crops import masked_crop, resized_image
from app.masks import decode_rle
from app.models import Image, Segment
from app.services.image_files import ImageFiles, write_atomic

log = logging.getLogger(__name__)

# People need some context around the object; the embedder sees none (background_keep=0).
CONTEXT_MARGIN = 0.15
BACKGROUND_KEEP = 0.35


def segment_thumbnail(files: ImageFiles, segment: Segment, image: Image, size: int) -> Path:
    """A size x size JPEG: the segment's box with a margin, outside the mask dimmed. Keyed by
    the mask itself, so an edited mask never serves a stale picture."""
    mask_key = hashlib.sha1(segment.rle_counts.encode(), usedforsecurity=False).hexdigest()[:16]
    cached = files.root / "cache" / "segment-thumbs" / f"{segment.id}_{size}_{mask_key}.jpg"
    if not cached.is_file():
        pixels = files.load_array(image.stored_path)
        mask = _mask_or_none(segment, pixels.shape[:2])
        crop = (
            masked_crop(
                pixels, mask, size=size, margin=CONTEXT_MARGIN, background_keep=BACKGROUND_KEEP
            )
            if mask is not None and mask.any()
            else resized_image(pixels, size)
        )
        write_atomic(cached, imaging.encode_jpeg(crop))
    return cached


def _mask_or_none(segment: Segment, shape: tuple[int, ...]) -> np.ndarray | None:
    """The segment's mask, or None (whole-image picture) when the stored RLE is unusable:
    a picture is never worth a 500."""
    try:
        mask = decode_rle(segment.rle)
    except ValueError:
        log.warning("segment %s has an invalid mask", segment.id)
        return None
    if mask.shape != shape:
        log.warning("segment %s mask %s does not match its image %s", segment.id, mask.shape, shape)
        return None
    return mask
