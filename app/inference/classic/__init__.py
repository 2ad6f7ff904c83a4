"""The offline segmenter: no weights, superpixels and colour models (issue 9)."""

from .segmenter import MODEL_ID, ClassicSegmenter

__all__ = ["MODEL_ID", "ClassicSegmenter"]
