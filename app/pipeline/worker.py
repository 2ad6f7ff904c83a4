"""How jobs and routes reach the canonical pixels of an image, lazily."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.context import AppContext
from app.models import Image


def image_loader(ctx: AppContext, image: Image) -> Callable[[], np.ndarray]:
    """A loader of the canonical HxWx3 uint8 pixels, called only when they are needed."""
    stored_path = image.stored_path
    return lambda: ctx.files.load_array(stored_path)
