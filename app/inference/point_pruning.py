"""Which grid points automatic masks still decode: none where the image looks like the points
that found no object.

On nuclei most grid points lie on background, and each returns only masks of (nearly) the
whole image, which NMS then reduces to one. SAM's own image embedding tells such points
apart before they are decoded: a pending point whose embedding vector is closer (cosine) to
those of points that found no object than to those of points that found one, and closer than
SIMILARITY, is skipped. Points are visited coarse to fine, so the first batch (an 8x8
subgrid at SAM's 32x32) shows both kinds.

Skipping points inside masks already found (the earlier rule) lost objects: a point's finest
mask can merge neighbours (two touching nuclei, a car and a pole), whose own points then never
ran. Replayed on every point's recorded masks at 32x32 (bench/amg_pruning.py): nuclei images
0-5 (where SIMILARITY was chosen) decode 31% of the points at unchanged recall@0.5 (0.667),
images 6-11 32% at 0.600 against 0.607; 6 camvid-dev frames 76% at unchanged recall (0.783).
"""

from __future__ import annotations

import numpy as np

SIMILARITY = 0.9
# A point found an object when one of its kept masks is at most this share of the image.
OBJECT_MAX_SHARE = 0.25


class PointPruner:
    """Remembers what decoded points found and says which pending points to skip.

    features: 1 x C x h x w image embedding (SAM's 64x64 grid over the 1024 model frame);
    coords: P x 2 grid points (X, Y) in the model frame, indexed as the caller's points.
    """

    def __init__(self, features: np.ndarray, coords: np.ndarray, cell: float = 16.0) -> None:
        grid = features.shape[-1]
        cells = np.clip((coords / cell).astype(int), 0, grid - 1)
        vectors = features[0][:, cells[:, 1], cells[:, 0]].T.astype(np.float32)  # P x C
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors = vectors / np.maximum(norms, 1e-6)
        self.empty: list[int] = []  # decoded points that found no object
        self.found: list[int] = []  # decoded points that found one

    def skips(self, index: int) -> bool:
        """Whether point `index` looks like the points that found nothing (see module doc)."""
        if not self.empty:
            return False
        vector = self.vectors[index]
        near_empty = float((self.vectors[self.empty] @ vector).max())
        near_found = float((self.vectors[self.found] @ vector).max()) if self.found else -1.0
        return near_empty > SIMILARITY and near_empty > near_found

    def learn(self, index: int, mask_shares: list[float]) -> None:
        """Point `index` was decoded; mask_shares: its kept masks' areas / the image's."""
        found = any(share <= OBJECT_MAX_SHARE for share in mask_shares)
        (self.found if found else self.empty).append(index)
