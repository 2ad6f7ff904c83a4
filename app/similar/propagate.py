"""Label propagation: predict a label and a confidence for unlabelled vectors from labelled ones.

Two predictors on unit-normalised embeddings: a similarity-weighted k-nearest-neighbour vote and
a logistic-regression head. `auto` picks the one with the better cross-validated accuracy on
the labelled set (ties go to kNN, which needs no fitting).
"""

from __future__ import annotations

from collections.abc import Callable
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
# Query rows normalised and scored at once: 50k x 1280 float32 is 256 MB.
QUERY_CHUNK = 50_000


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
    classes, share, nearest = vote_shares(train, labels, query, k)
    best = share.argmax(axis=1)
    confidence = share[np.arange(len(query)), best] * _familiarity(train, labels, nearest)
    return classes[best], confidence.astype(np.float32)


def vote_shares(
    train: np.ndarray, labels: np.ndarray, query: np.ndarray, k: int = KNN_K
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(classes (C,) sorted, share of the vote per class (M, C), nearest similarity (M,))."""
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
    return classes, votes / votes.sum(axis=1, keepdims=True), near.max(axis=1)


def label_support(
    train: np.ndarray, labels: np.ndarray, query: np.ndarray, query_labels: np.ndarray
) -> np.ndarray:
    """(M,) float32 in [0, 1]: the share of the trusted neighbours' vote that agrees with each
    query row's current label (any float vectors; 0 for a label no trusted row has)."""
    train, query = normalise(train), normalise(query)
    classes, share, _ = vote_shares(train, np.asarray(labels, np.int64), query)
    at = np.searchsorted(classes, query_labels)
    known = (at < len(classes)) & (classes[np.minimum(at, len(classes) - 1)] == query_labels)
    support = np.where(known, share[np.arange(len(query)), np.minimum(at, len(classes) - 1)], 0)
    return support.astype(np.float32)


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
    return _logistic(train, labels)(query)


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
    train: np.ndarray,
    labels: np.ndarray,
    query: np.ndarray,
    method: Method = "auto",
    *,
    chunk_rows: int = QUERY_CHUNK,
) -> Prediction:
    """Predict a label for every query row.

    train (N, d) labelled vectors (any float, any scale), labels (N,) int label ids,
    query (M, d) (float16 store rows are fine: they are normalised `chunk_rows` at a time, so
    a million queries never exist as float32 at once). With a single class every query gets
    it, confidence = kNN similarity.
    """
    train = normalise(train)
    labels = np.asarray(labels, np.int64)
    if len(np.unique(labels)) < 2:
        chosen, score = "knn", None
        predict = _single_class(train, int(labels[0]))
    else:
        candidates = ["knn", "logistic"] if method == "auto" else [method]
        scores = {name: held_out_accuracy(name, train, labels) for name in candidates}
        chosen = max(candidates, key=lambda name: scores[name] or 0.0)
        score = scores[chosen]
        predict = _fitted(chosen, train, labels)
    predicted = np.empty(len(query), np.int64)
    confidence = np.empty(len(query), np.float32)
    for start in range(0, len(query), chunk_rows):
        rows = slice(start, start + chunk_rows)
        predicted[rows], confidence[rows] = predict(normalise(query[rows]))
    return Prediction(predicted, confidence, chosen, score)


Predict = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def _single_class(train: np.ndarray, label: int) -> Predict:
    def predict(query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        similarity = np.clip((query @ train.T).max(axis=1, initial=0.0), 0, 1)
        return np.full(len(query), label), similarity.astype(np.float32)

    return predict


def _fitted(method: str, train: np.ndarray, labels: np.ndarray) -> Predict:
    """The method ready to apply to query chunks (the logistic head is fitted once)."""
    if method == "knn":
        return lambda query: knn_vote(train, labels, query)
    return _logistic(train, labels)


def _logistic(train: np.ndarray, labels: np.ndarray) -> Predict:
    model = LogisticRegression(C=10.0, max_iter=500).fit(train, labels)

    def predict(query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probability = model.predict_proba(query)
        best = probability.argmax(axis=1)
        return model.classes_[best], probability[np.arange(len(query)), best].astype(np.float32)

    return predict
