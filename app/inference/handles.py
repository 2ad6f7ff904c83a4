"""Short-lived handles for predicted masks: refine a click (mask_input) or save it (mask_handle).

A handle is an unguessable token naming one predicted mask of one image under one model; the
server keeps its low-res logits and its RLE in a bounded LRU, so the browser never has to send
a dense mask back.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.errors import Invalid


@dataclass(frozen=True)
class MaskHandle:
    """low_res_logits: 256x256 float32 (SAM's mask_input); rle: the full mask, COCO RLE;
    score: its predicted IoU, which the next refining click's compares with (refinement.py);
    candidate: the token (1..3) of the one-click candidate its chain of refinements began
    with (the candidate itself, or a mask refined from it), else None."""

    image_id: int
    model_id: str
    low_res_logits: np.ndarray
    rle: dict[str, Any]
    score: float
    candidate: int | None = None


class HandleStore:
    """Thread-safe LRU of MaskHandle by token (about 256 KiB of logits per entry)."""

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, MaskHandle] = OrderedDict()

    def add(self, entry: MaskHandle) -> str:
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._entries[token] = entry
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return token

    def require(
        self, token: str, field: str, image_id: int, *, model_id: str | None = None
    ) -> MaskHandle:
        """The handle `token` sent as `field`, if it names a mask of this image (and, for
        refining logits, of this model); else Invalid (422) saying to predict again."""
        entry = self.get(token)
        if entry is None or entry.image_id != image_id or model_id not in (None, entry.model_id):
            raise Invalid(f"{field} is unknown, expired or from another image; predict again")
        return entry

    def get(self, token: str) -> MaskHandle | None:
        with self._lock:
            entry = self._entries.get(token)
            if entry is not None:
                self._entries.move_to_end(token)
            return entry
