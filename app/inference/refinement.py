"""Refining clicks that do not set the mask back.

A refining click feeds the previous answer's low-res logits back as mask_input and asks SAM
for its single mask (token 0). Now and then that mask is clearly worse than the one it refines:
a negative click that erases half the object, a positive one that floods the background. SAM's
own predicted IoU then mostly falls. When token 0's predicted IoU falls more than MARGIN below
the previous answer's and token 0 still keeps at least KEEP of the previous mask, the answer is
instead the token of the same decode (0 to 3) whose mask is closest to the previous mask: the
click still acts, without throwing the rest away.

The keep fraction tells a setback from a correction: a single mask that keeps almost none of
the previous mask moved to another object, which is what a click on a wrong first candidate
asks for (on nuclei such jumps turn IoU 0.01 into 0.8 while the predicted IoU falls). With it
the rule runs from the second click on, whose previous answer is a first click's candidate.
The click's place tells a trim from a correction too. A negative click near the previous
mask's edge (its depth, the L1 distance to the mask's edge over the mask's deepest point's,
under DEPTH) trims the mask and cannot ask for another object, so there a single mask that
keeps little of it is a setback after all (on camvid, clicks on good masks of poles and signs
lost 0.3-0.8 IoU so). Deeper inside, a negative click says "not this": real corrections hit
masks at depth 0.66-1.

The single mask also drifts back to the granularity SAM prefers: the user kept one of the
first click's three candidates (a project's picks often rank a smaller or larger one first),
and a refining single mask can swap it for the cluster around it or a part of it while its
predicted IoU holds. So when the single mask stands but keeps the previous mask at IoU < FAR
(the click changed much of it), the answer is whichever of the single mask and the same
decode's token of the chosen candidate (the chain's `candidate`) is closer to the previous
mask, as long as that token honours the click just made (contains a positive one, not a
negative one) and the click is not a negative one deep inside, whose single mask is what the
user asked for (kept to the candidate, such clicks lost 0.11 IoU on average on nuclei, 0.18
on camvid).

A positive click can make the single mask grow mostly away from it: a rim around a nucleus, a
neighbour joined at a corner, while the piece at the click is small. When less than NEAR of the
pixels the single mask adds lie in the added pieces the click is in or touches, the answer is
the token closest to the previous mask among those that contain the click.

Masks are the 256x256 logits > 0, so the browser's decoder (frontend/static/js/refinement.js)
reaches the same choice from the same numbers (the L1 distance is exact on both sides). MARGIN,
KEEP, DEPTH, FAR and NEAR come from bench/setback_rules.py (the tables in the README's MobileSAM
section).
"""

from __future__ import annotations

import cv2
import numpy as np

MARGIN = 0.05
KEEP = 0.3
DEPTH = 0.5
FAR = 0.8
NEAR = 0.3


def refining_token(
    low_res: np.ndarray,
    scores: np.ndarray,
    previous: np.ndarray,
    previous_score: float,
    candidate: int | None = None,
    click: tuple[int, int, bool] | None = None,
    margin: float = MARGIN,
    keep: float = KEEP,
    far: float = FAR,
    depth: float = DEPTH,
    near: float = NEAR,
) -> int:
    """The token answering a refining click.

    low_res: 4x256x256 float32 logits of one decode (token 0 = single mask); scores: its 4
    predicted IoUs clipped to [0, 1]; previous: the 256x256 logits fed back as mask_input;
    previous_score: the predicted IoU (clipped) of the answer those logits came from;
    candidate: the token (1..3) of the one-click candidate this chain of refinements began
    with, None when it began otherwise (a box, a single mask); click: (x, y, positive) of the
    click just made in low-res pixels, which the candidate's token must honour to answer
    and whose depth (under `depth`: a trim) tells a negative click's intent.
    """
    before = previous > 0
    negative = click is not None and not click[2]
    trims = click is not None and negative and _trims(before, click, depth)
    if float(scores[0]) < previous_score - margin:
        area = np.count_nonzero(before)
        kept = np.count_nonzero((low_res[0] > 0) & before) >= keep * area
        if area and (kept or trims):
            return _closest(low_res, before)
    honoured = [click is None or (token[click[1], click[0]] > 0) == click[2] for token in low_res]
    if candidate is not None and not (negative and not trims) and honoured[candidate]:
        single = _iou(low_res[0] > 0, before)
        if single < far and single < _iou(low_res[candidate] > 0, before):
            return candidate
    if (
        click is not None
        and click[2]
        and honoured[0]
        and 0 <= added_near_click(low_res[0] > 0, before, click) < near
    ):
        return _closest(low_res, before, honoured)
    return 0


def _closest(low_res: np.ndarray, before: np.ndarray, allowed: list[bool] | None = None) -> int:
    """The token whose mask has the highest IoU with `before`, among the allowed ones (all by
    default); the first of equals."""
    ious = [
        _iou(token > 0, before) if allowed is None or allowed[t] else -1.0
        for t, token in enumerate(low_res)
    ]
    return int(np.argmax(ious))


def added_near_click(mask: np.ndarray, before: np.ndarray, click: tuple[int, int, bool]) -> float:
    """The share of the pixels `mask` adds to `before` that lie in the added pieces (8-connected)
    the click is in or touches; -1 when it adds none."""
    added = (mask & ~before).astype(np.uint8)
    if not added.any():
        return -1.0
    _, labels = cv2.connectedComponents(added, connectivity=8)
    x, y = click[0], click[1]
    touched = np.unique(labels[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2])
    return float(np.isin(labels, touched[touched > 0]).sum() / added.sum())


def _trims(mask: np.ndarray, click: tuple[int, int, bool], depth: float) -> bool:
    """Whether the click lies inside the 256x256 mask at less than `depth` of its deepest
    point's L1 distance to the edge (the grid's border counts as edge)."""
    if not mask[click[1], click[0]]:
        return False
    at_click, deepest = click_depth(mask, click)
    return at_click < depth * deepest


def click_depth(mask: np.ndarray, click: tuple[int, int, bool]) -> tuple[float, float]:
    """(the click's L1 distance to the 256x256 mask's edge, 0 outside it; the deepest point's),
    the grid's border counting as edge: the same integers as refinement.js's trims()."""
    distance = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L1, 3)
    return float(distance[click[1] + 1, click[0] + 1]), float(distance.max())


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union
