"""Label propagation: predict a label and a confidence for unlabelled vectors from labelled ones.

Two predictors on unit-normalised embeddings: a similarity-weighted k-nearest-neighbour vote and
a logistic-regression head. `auto` picks the one with the better cross-validated accuracy on
the labelled set (ties go to kNN, which needs no fitting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from app.similar.index import normalise

Method = Literal["auto", "knn", "logistic"]
KNN_K = 10
VOTE_TEMPERATURE = 0.2
# A query as close to the labelled set as the closest 90% of same-class labelled pairs is familiar.
FAMILIAR_PERCENTILE = 10
MAX_FOLDS = 5


@dataclass(frozen=True)
class Prediction:
    """labels (M,) int64 label ids; confidence (M,) float32 in [0, 1]; the method used;
    held_out_accuracy of that method (None when the labelled set was too small to check)."""

    labels: np.ndarray
    confidence: np.ndarray
    method: str
    held_out_accuracy: float | None


def knn_vote(
    train: np.ndarray, labels: np.ndarray, query: np.ndarray, k: int = KNN_K
) -> tuple[np.ndarray, np.ndarray]:
    """Similarity-weighted (softmax) vote of the k nearest labelled rows; all arrays unit-normalised.

    train (N, d), labels (N,), query (M, d) -> (label (M,), share of the vote (M,) float32).
    """
    classes, index = np.unique(labels, return_inverse=True)
    k = min(k, len(train))
    similarity = query @ train.T
    top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    # Softmax over similarity: the nearest voters dominate, so a large class cannot outvote a
    # small one just by filling the k slots.
    near = np.take_along_axis(similarity, top, axis=1)
    weight = np.exp((near - near.max(axis=1, keepdims=True)) / VOTE_TEMPERATURE)
    votes = np.zeros((len(query), len(classes)), np.float64)
    np.add.at(votes, (np.arange(len(query))[:, None], index[top]), weight)
    share = votes / votes.sum(axis=1, keepdims=True)
    best = share.argmax(axis=1)
    confidence = share[np.arange(len(query)), best] * _familiarity(train, labels, near.max(axis=1))
    return classes[best], confidence.astype(np.float32)


def _familiarity(train: np.ndarray, labels: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    """(M,) in [0, 1]: how close each query's nearest labelled vector is, relative to how
    close labelled vectors of one class typically are to each other. A query of a class
    nobody labelled yet is far from all of them: the vote alone would be confidently wrong."""
    similarity = train @ train.T
    np.fill_diagonal(similarity, -np.inf)
    similarity[labels[:, None] != labels[None, :]] = -np.inf
    same = similarity.max(axis=1)
    same = same[np.isfinite(same)]
    if not same.size:
        return np.ones(len(nearest))
    typical = max(float(np.percentile(same, FAMILIAR_PERCENTILE)), 1e-6)
    return np.clip(nearest / typical, 0, 1)


def logistic_head(
    train: np.ndarray, labels: np.ndarray, query: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression: (label (M,), its probability (M,) float32)."""
    model = LogisticRegression(C=10.0, max_iter=500).fit(train, labels)
    probability = model.predict_proba(query)
    best = probability.argmax(axis=1)
    return model.classes_[best], probability[np.arange(len(query)), best].astype(np.float32)


PREDICTORS = {"knn": knn_vote, "logistic": logistic_head}


def held_out_accuracy(method: str, train: np.ndarray, labels: np.ndarray) -> float | None:
    """Stratified k-fold accuracy of a method on the labelled set; None if too small."""
    folds = min(MAX_FOLDS, int(np.unique(labels, return_counts=True)[1].min()))
    if folds < 2:
        return None
    correct = 0
    splits = StratifiedKFold(folds, shuffle=True, random_state=0).split(train, labels)
    for fit, check in splits:
        predicted, _ = PREDICTORS[method](train[fit], labels[fit], train[check])
        correct += int((predicted == labels[check]).sum())
    return correct / len(labels)


def predict_labels(
    train: np.ndarray, labels: np.ndarray, query: np.ndarray, method: Method = "auto"
) -> Prediction:
    """Predict a label for every query row.

    train (N, d) labelled vectors (any float, any scale), labels (N,) int label ids,
    query (M, d). With a single class every query gets it, confidence = kNN similarity.
    """
    train, query = normalise(train), normalise(query)
    labels = np.asarray(labels, np.int64)
    if len(np.unique(labels)) < 2:
        similarity = np.clip((query @ train.T).max(axis=1, initial=0.0), 0, 1)
        return Prediction(
            np.full(len(query), labels[0]), similarity.astype(np.float32), "knn", None
        )
    candidates = ["knn", "logistic"] if method == "auto" else [method]
    scores = {name: held_out_accuracy(name, train, labels) for name in candidates}
    chosen = max(candidates, key=lambda name: scores[name] or 0.0)
    predicted, confidence = PREDICTORS[chosen](train, labels, query)
    return Prediction(predicted, confidence, chosen, scores[chosen])
