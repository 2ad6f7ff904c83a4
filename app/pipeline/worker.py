"""How pipeline jobs reach the inference worker and the canonical pixels of an image."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.context import AppContext
from app.errors import ServiceUnavailable
from app.inference.worker import InferenceWorker
from app.models import Image


def require_worker(app: AppContext) -> InferenceWorker:
    """The running worker with a model, else a clear error (the job fails, saying why)."""
    worker: InferenceWorker | None = app.extras.get("inference")
    if worker is None or not worker.available:
        reason = (
            worker.unavailable_reason
            if worker is not None
            else "the inference worker is not running"
        )
        raise ServiceUnavailable(reason, code="model_unavailable")
    return worker


def image_loader(app: AppContext, image: Image) -> Callable[[], np.ndarray]:
    """A loader of the canonical HxWx3 uint8 pixels, called only when they are needed."""
    stored_path = image.stored_path
    return lambda: app.files.load_array(stored_path)
