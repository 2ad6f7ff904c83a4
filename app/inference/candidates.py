"""Which of SAM's three one-click candidates to show first: the one a project's people keep.

SAM's three multimask tokens are granularities (roughly part, object, group). Its own IoU
prediction picks the best of the three for only part of the clicks; what a project wants is
steady (nuclei: the smallest almost always; street scenes: larger ones), so the pick a
project's annotators made before is a strong prior. Each saved segment is matched to the
candidates of its image's last one-click answer; the token it came from counts for the
project. Ranking: predicted IoU + WEIGHT * log(share of picks of that token), the shares
Laplace-smoothed so a new project ranks by predicted IoU alone. The in-page decoder ranks its
own candidates with the same formula on `counts` and `weight` (candidate-picks.js) and says
which token a saved segment came from, so its picks count here too.

Counts live in memory (they are relearnt after a restart, a few segments suffice).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from pycocotools import mask as coco_mask

from app.inference.base import PredictedMask

# bench/sam_quality.py (MobileSAM, simulated annotators who keep their best candidate): 0.05
# closes about two thirds of the gap between top-scored and best-of-3 on both nuclei and
# camvid objects; 0.1 and up overfit nuclei and lose on camvid.
WEIGHT = 0.05
TOKENS = 4  # SAM's mask tokens: 0 single-mask, 1..3 multimask
# A saved segment counts as a kept candidate only when it overlaps it at least this much.
MATCH_IOU = 0.5
_REMEMBERED_IMAGES = 256


@dataclass(frozen=True)
class _Offer:
    tokens: list[int]
    rles: list[dict]

    def match(self, rle: dict) -> int | None:
        """The token of the offered candidate the saved mask overlaps most, if enough."""
        ious = coco_mask.iou([_coco(rle)], [_coco(r) for r in self.rles], [0] * len(self.rles))
        best = int(np.argmax(ious[0]))
        return self.tokens[best] if ious[0][best] >= MATCH_IOU else None


class CandidatePicks:
    """Thread-safe per-project counts of kept multimask tokens, and the last offers."""

    def __init__(self, weight: float = WEIGHT) -> None:
        self.weight = weight
        self._lock = threading.Lock()
        self._counts: dict[int, np.ndarray] = {}
        self._offers: OrderedDict[int, _Offer] = OrderedDict()  # image id -> last offer

    def order(self, project_id: int, masks: list[PredictedMask]) -> list[PredictedMask]:
        """masks (one prompt's candidates) best first for this project."""
        if len(masks) < 2 or any(m.token < 0 for m in masks):
            return masks
        with self._lock:
            counts = self._counts.get(project_id, np.zeros(TOKENS)) + 1.0
        share = counts / counts[[m.token for m in masks]].sum()
        return sorted(masks, key=lambda m: -(m.score + self.weight * np.log(share[m.token])))

    def offered(self, image_id: int, masks: list[PredictedMask], rles: list[dict]) -> None:
        """Remember one-click candidates (with their RLEs) shown for an image."""
        if len(masks) < 2 or any(m.token < 0 for m in masks):
            return
        with self._lock:
            self._offers[image_id] = _Offer([m.token for m in masks], rles)
            self._offers.move_to_end(image_id)
            while len(self._offers) > _REMEMBERED_IMAGES:
                self._offers.popitem(last=False)

    def counts(self, project_id: int) -> list[int]:
        """How many saved segments came from each token (index 0..TOKENS-1) in this project."""
        with self._lock:
            return [int(c) for c in self._counts.get(project_id, np.zeros(TOKENS))]

    def kept(self, project_id: int, image_id: int, rle: dict, token: int | None = None) -> None:
        """A segment was saved on image_id: count the candidate it came from, if any: `token`
        when the page decoded the candidates itself (the one the user chose), else the
        candidate of the image's last offer that the saved mask matches."""
        with self._lock:
            offer = self._offers.pop(image_id, None)
        if token is None and offer is not None:
            token = offer.match(rle)
        if token is not None:
            with self._lock:
                self._counts.setdefault(project_id, np.zeros(TOKENS))[token] += 1


def _coco(rle: dict) -> dict:
    counts = rle["counts"]
    return {"size": rle["size"], "counts": counts.encode() if isinstance(counts, str) else counts}
