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
    *,
    between_batches: Callable[[], None],
    stop: Callable[[], bool] | None,
) -> list[AutoMask]:
    """segmenter.auto, calling `between_batches` before each point batch and then raising
    AutoStopped as soon as `stop()` says so."""

    def checked() -> None:
        between_batches()
        if stop is not None and stop():
            raise AutoStopped()

    return segmenter.auto(state, image, params, checked)
