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

The single mask also drifts back to the granularity SAM prefers: the user kept one of the
first click's three candidates (a project's picks often rank a smaller or larger one first),
and a refining single mask can swap it for the cluster around it or a part of it while its
predicted IoU holds. So when the single mask stands but keeps the previous mask at IoU < FAR
(the click changed much of it), the answer is whichever of the single mask and the same decode's
token of the chosen candidate (the chain's `candidate`) is closer to the previous mask, as
long as that token honours the click just made (contains a positive one, not a negative one).

Masks are the 256x256 logits > 0, so the browser's decoder (frontend/static/js/refinement.js)
reaches the same choice from the same numbers. MARGIN, KEEP and FAR come from
bench/setback_rules.py (the tables in the README's MobileSAM section).
"""

from __future__ import annotations

import numpy as np

MARGIN = 0.05
KEEP = 0.3
FAR = 0.8


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
) -> int:
    """The token answering a refining click.

    low_res: 4x256x256 float32 logits of one decode (token 0 = single mask); scores: its 4
    predicted IoUs clipped to [0, 1]; previous: the 256x256 logits fed back as mask_input;
    previous_score: the predicted IoU (clipped) of the answer those logits came from;
    candidate: the token (1..3) of the one-click candidate this chain of refinements began
    with, None when it began otherwise (a box, a single mask); click: (x, y, positive) of the
    click just made in low-res pixels, which the candidate's token must honour to answer.
    """
    before = previous > 0
    if float(scores[0]) < previous_score - margin:
        area = np.count_nonzero(before)
        if area and np.count_nonzero((low_res[0] > 0) & before) >= keep * area:
            return int(np.argmax([_iou(token > 0, before) for token in low_res]))
    if candidate is None or (click and (low_res[candidate][click[1], click[0]] > 0) != click[2]):
        return 0
    single = _iou(low_res[0] > 0, before)
    return 0 if single >= far or single >= _iou(low_res[candidate] > 0, before) else candidate


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union
