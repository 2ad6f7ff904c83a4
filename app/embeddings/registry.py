"""build_embedder: embedder name (as stored in settings / per project) -> Embedder instance.

Names: "timm:<model_name>", "sam-pool", and parts joined by "+" (combined.py). torch/timm are imported only when a timm embedder
is built, so importing this module stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.embeddings.base import DEFAULT_EMBEDDER, Embedder, WeightsUnavailable
from app.embeddings.combined import SEPARATOR, CombinedEmbedder
from app.embeddings.sam_pool import SamPoolEmbedder
from app.inference.base import PreparedImage

log = logging.getLogger(__name__)


def build_embedder(
    name: str,
    *,
    weights_path: Path | None = None,
    sam_prepare: Callable[[np.ndarray], PreparedImage] | None = None,
) -> Embedder:
    """The embedder called `name`. A timm model without weights (no configured file, no
    download) logs why and falls back to DEFAULT_EMBEDDER: check the returned `.name`, it is
    the key the vectors must be stored under."""
    if SEPARATOR in name:
        parts = [
            build_embedder(part, weights_path=weights_path, sam_prepare=sam_prepare)
            for part in name.split(SEPARATOR)
        ]
        return CombinedEmbedder(parts)
    if name == SamPoolEmbedder.name:
        return SamPoolEmbedder(sam_prepare)
    if not name.startswith("timm:") or not name[5:]:
        raise ValueError(
            f"unknown embedder {name!r}: use 'timm:<model_name>', 'sam-pool' or parts joined by '+'"
        )
    from app.embeddings.timm_embedder import TimmEmbedder

    try:
        return TimmEmbedder(name[5:], weights_path=weights_path)
    except WeightsUnavailable as exc:
        if name == DEFAULT_EMBEDDER:
            raise
        log.warning("%s; falling back to %s", exc, DEFAULT_EMBEDDER)
        return TimmEmbedder(DEFAULT_EMBEDDER[5:])
