"""Human actions to reach a share of correctly labelled segments, with propagation on or off.

Off: the map workflow of app/evaluation/lasso.py (lasso a pure region, assign its class).
On: the same lassos, but after each one the simulated user runs propagation and accepts every
suggestion at or above `threshold` in one action, then corrects each wrong accept (one action
each, as the review queue shows them). Ground truth drives the simulated user only.
vectors: (N, d) embeddings; positions: (N, 2) map coordinates; classes: (N,) int ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.evaluation.lasso import pure_regions, simulate_lasso
from app.similar.propagate import predict_labels

UNLABELLED = -1


@dataclass(frozen=True)
class PropagationEffort:
    """Actions to reach the target share; None when the workflow never gets there."""

    off: int | None
    on: int | None
    lassos: int  # the `on` run's breakdown
    accepts: int
    corrections: int


def actions_without_propagation(
    positions: np.ndarray, classes: np.ndarray, target: float
) -> int | None:
    return simulate_lasso(positions, classes).actions_for(target)


def actions_with_propagation(
    vectors: np.ndarray, positions: np.ndarray, classes: np.ndarray, target: float, threshold: float
) -> tuple[int | None, int, int, int]:
    """(actions or None, lassos, accepts, corrections) of the propagate-and-accept workflow."""
    labels = np.full(len(classes), UNLABELLED)
    need = int(np.ceil(target * len(classes)))
    lassos = accepts = corrections = 0
    for region in pure_regions(positions, classes):
        if (labels == classes).sum() >= need:
            break
        if (labels[region] == classes[region]).all():
            continue  # propagation already got this region right
        labels[region] = classes[region]
        lassos += 1
        accepted, wrong = _accept_confident(vectors, labels, classes, threshold)
        if accepted:
            accepts += 1
            corrections += len(wrong)
            labels[wrong] = classes[wrong]
    done = (labels == classes).sum() >= need
    return (lassos + accepts + corrections if done else None), lassos, accepts, corrections


def _accept_confident(
    vectors: np.ndarray, labels: np.ndarray, classes: np.ndarray, threshold: float
) -> tuple[int, np.ndarray]:
    """Give unlabelled rows of labels (in place) their suggestion when it is >= threshold.

    Returns (how many were accepted, indices of the wrong ones the user must correct)."""
    known, unknown = labels != UNLABELLED, np.flatnonzero(labels == UNLABELLED)
    # With one class known every vote is unanimous: wait for a second one to contrast with.
    if not unknown.size or len(np.unique(labels[known])) < 2:
        return 0, np.zeros(0, np.int64)
    found = predict_labels(vectors[known], labels[known], vectors[unknown], "knn")
    take = unknown[found.confidence >= threshold]
    labels[take] = found.labels[found.confidence >= threshold]
    return len(take), take[labels[take] != classes[take]]


def measure_propagation_effort(
    vectors: np.ndarray,
    positions: np.ndarray,
    classes: np.ndarray,
    *,
    target: float = 0.9,
    threshold: float = 0.9,
) -> PropagationEffort:
    """Actions to label `target` of the segments correctly, propagation off and on."""
    classes = np.asarray(classes, np.int64)
    on, lassos, accepts, corrections = actions_with_propagation(
        vectors, positions, classes, target, threshold
    )
    off = actions_without_propagation(positions, classes, target)
    return PropagationEffort(off, on, lassos, accepts, corrections)
