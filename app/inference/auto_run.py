"""Automatic masks that can be stopped between point batches (a cancelled segment job)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.inference.base import AutoMask, PreparedImage, Segmenter


class AutoStopped(Exception):
    """An automatic-mask run was stopped between two point batches (its job was cancelled)."""


def auto_until(
    segmenter: Segmenter,
    state: PreparedImage,
    image: Any,
    params: dict[str, Any],
    stop: Callable[[], bool] | None,
) -> list[AutoMask]:
    # Runs on the worker thread, the only user of the segmenter: swapping its hook is safe.
    hook = getattr(segmenter, "between_batches", None)
    if stop is None or hook is None:
        return segmenter.auto(state, image, params)

    def checked() -> None:
        hook()
        if stop():
            raise AutoStopped()

    segmenter.between_batches = checked  # type: ignore[attr-defined]
    try:
        return segmenter.auto(state, image, params)
    finally:
        segmenter.between_batches = hook  # type: ignore[attr-defined]
