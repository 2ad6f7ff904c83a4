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

Masks are the 256x256 logits > 0, so the browser's decoder (frontend/static/js/refinement.js)
reaches the same choice from the same numbers. MARGIN and KEEP come from
bench/setback_rules.py (the table in the README's MobileSAM section).
"""

from __future__ import annotations

import numpy as np

MARGIN = 0.05
KEEP = 0.3


def refining_token(
    low_res: np.ndarray,
    scores: np.ndarray,
    previous: np.ndarray,
    previous_score: float,
    margin: float = MARGIN,
    keep: float = KEEP,
) -> int:
    """The token answering a refining click.

    low_res: 4x256x256 float32 logits of one decode (token 0 = single mask); scores: its 4
    predicted IoUs clipped to [0, 1]; previous: the 256x256 logits fed back as mask_input;
    previous_score: the predicted IoU (clipped) of the answer those logits came from.
    """
    if float(scores[0]) >= previous_score - margin:
        return 0
    before = previous > 0
    area = np.count_nonzero(before)
    if area == 0 or np.count_nonzero((low_res[0] > 0) & before) < keep * area:
        return 0
    return int(np.argmax([_iou(token > 0, before) for token in low_res]))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union
