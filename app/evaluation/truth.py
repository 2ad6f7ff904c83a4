"""A segment's true class on a semantic label map, and the pixel mIoU its labels give.

Label maps are HxW int arrays of class indices in the image's canonical frame; `void` is the
index of the unlabelled class (CamVid's 11), never a segment's class and never scored.
A segment's true class is the majority class of its non-void pixels. It is *ambiguous* (left
out of accuracy, shown in tables) when that majority covers less than half of all its pixels,
which also covers a mostly-void segment.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from app.evaluation.metrics import SemanticTally

AMBIGUOUS = -1
MAJORITY = 0.5


def segment_truth(mask: np.ndarray, label_map: np.ndarray, void: int) -> tuple[int, bool]:
    """(majority non-void class or AMBIGUOUS when all pixels are void, ambiguous?)."""
    values = label_map[mask]
    counts = np.bincount(values[values != void], minlength=1)
    if not counts.any():
        return AMBIGUOUS, True
    best = int(counts.argmax())
    return best, counts[best] < MAJORITY * values.size


def paint(
    masks: Iterable[tuple[np.ndarray, int]], shape: tuple[int, int], background: int
) -> np.ndarray:
    """HxW int class map of (mask, class) pairs: larger masks first, smaller on top (as
    app/evaluation/project.class_map does for an export); `background` where none is."""
    result = np.full(shape, background, np.int32)
    for mask, cls in sorted(masks, key=lambda pair: -int(np.count_nonzero(pair[0]))):
        result[mask] = cls
    return result


def pixel_tally(
    predictions: Iterable[np.ndarray], label_maps: Iterable[np.ndarray], names: list[str], void: int
) -> SemanticTally:
    """Per-class pixel IoU of painted class maps against label maps, void pixels ignored.
    Unlabelled pixels (painted `void`) count against recall only."""
    tally = SemanticTally()
    for predicted, truth in zip(predictions, label_maps, strict=True):
        scored = truth != void
        # SemanticTally's class maps are 1-based with 0 = nothing.
        gt = np.where(scored, truth + 1, 0)
        pred = np.where(scored & (predicted != void), predicted + 1, 0)
        tally.add(gt, pred, names)
    return tally
