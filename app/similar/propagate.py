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
# Learn from at most this many labelled rows, a per-class sample: a 100k-row lasso as seeds
# made the kNN vote over 1M queries 1e14 flops and the familiarity check a 40 GB matrix.
MAX_SEEDS = 5_000
# Bytes of one chunk's (queries x seeds) float32 similarity matrix.
SCORE_BYTES = 256 * 2**20
# Seeds whose nearest same-class seed sets the typical similarity (a percentile: a sample does).
FAMILIAR_ANCHORS = 2_000


@dataclass(frozen=True)
class Prediction:
    """labels (M,) int64 label ids; confidence (M,) float32 in [0, 1]; the method used;
    held_out_accuracy of that method (None when the labelled set was too small to check)."""

    labels: np.ndarray
    confidence: np.ndarray
    method: str
    held_out_accuracy: float | None


def knn_vote(
    train: np.ndarray,
    labels: np.ndarray,
    query: np.ndarray,
    k: int = KNN_K,
    typical: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Similarity-weighted (softmax) vote of the k nearest labelled rows; all arrays unit-normalised.

    train (N, d), labels (N,), query (M, d) -> (label (M,), share of the vote (M,) float32).
    typical: typical_similarity(train, labels), when the caller computed it once for many calls.
    """
    classes, share, nearest = vote_shares(train, labels, query, k)
    best = share.argmax(axis=1)
    if typical is None:
        typical = typical_similarity(train, labels)
    familiarity = np.clip(nearest / typical, 0, 1) if typical > 0 else np.ones(len(query))
    return classes[best], (share[np.arange(len(query)), best] * familiarity).astype(np.float32)


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


def typical_similarity(train: np.ndarray, labels: np.ndarray) -> float:
    """How close labelled vectors of one class typically are to each other (0: no class has
    two, so familiarity is not judged). A query's familiarity is its nearest labelled similarity over this: a query of
    a class nobody labelled yet is far from all of them, and the vote alone would be
    confidently wrong. Measured from up to FAMILIAR_ANCHORS seeds, so memory is (A, N)."""
    anchors = np.arange(len(train))
    if len(train) > FAMILIAR_ANCHORS:
        anchors = np.sort(np.random.default_rng(0).choice(len(train), FAMILIAR_ANCHORS, False))
    similarity = train[anchors] @ train.T
    similarity[np.arange(len(anchors)), anchors] = -np.inf
    similarity[labels[anchors][:, None] != labels[None, :]] = -np.inf
    same = similarity.max(axis=1)
    same = same[np.isfinite(same)]
    if not same.size:
        return 0.0
    return max(float(np.percentile(same, FAMILIAR_PERCENTILE)), 1e-6)


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


Predict = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Predictor:
    """A fitted method. predict: unit (M, d) float32 -> (label ids (M,), confidence (M,));
    chunk_rows: query rows to pass at once so one chunk's scores stay within SCORE_BYTES."""

    predict: Predict
    method: str
    held_out_accuracy: float | None
    chunk_rows: int


def fit_predictor(
    train: np.ndarray, labels: np.ndarray, method: Method = "auto", *, chunk_rows: int = QUERY_CHUNK
) -> Predictor:
    """Choose and fit a method on train (N, d) labelled vectors (any float, any scale) with
    labels (N,) int label ids, learning from at most MAX_SEEDS of them (a per-class sample).
    With a single class every query gets it, confidence = kNN similarity."""
    labels = np.asarray(labels, np.int64)
    keep = sample_seeds(labels, MAX_SEEDS)
    train, labels = normalise(train[keep]), labels[keep]
    if len(np.unique(labels)) < 2:
        chosen, score = "knn", None
        predict = _single_class(train, int(labels[0]))
    else:
        candidates = ["knn", "logistic"] if method == "auto" else [method]
        scores = {name: held_out_accuracy(name, train, labels) for name in candidates}
        chosen = max(candidates, key=lambda name: scores[name] or 0.0)
        score = scores[chosen]
        predict = _fitted(chosen, train, labels)
    rows = max(1, min(chunk_rows, SCORE_BYTES // (4 * len(train))))
    return Predictor(predict, chosen, score, rows)


def predict_labels(
    train: np.ndarray,
    labels: np.ndarray,
    query: np.ndarray,
    method: Method = "auto",
    *,
    chunk_rows: int = QUERY_CHUNK,
) -> Prediction:
    """Predict a label for every query row (M, d); see fit_predictor. Float16 store rows are
    fine: they are normalised a chunk at a time, so M queries never exist as float32 at once."""
    fitted = fit_predictor(train, labels, method, chunk_rows=chunk_rows)
    predicted = np.empty(len(query), np.int64)
    confidence = np.empty(len(query), np.float32)
    for start in range(0, len(query), fitted.chunk_rows):
        rows = slice(start, start + fitted.chunk_rows)
        predicted[rows], confidence[rows] = fitted.predict(normalise(query[rows]))
    return Prediction(predicted, confidence, fitted.method, fitted.held_out_accuracy)


def sample_seeds(labels: np.ndarray, limit: int) -> np.ndarray:
    """Indices (<= about limit,) sorted of a seeded per-class sample of labels (N,): each class
    keeps its share, and at least min(its count, MAX_FOLDS * 4) rows so it stays checkable."""
    if len(labels) <= limit:
        return np.arange(len(labels))
    rng = np.random.default_rng(0)
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    quota = np.minimum(counts, np.maximum(counts * limit // len(labels), MAX_FOLDS * 4))
    picked = [
        rng.choice(np.flatnonzero(inverse == c), quota[c], replace=False)
        for c in range(len(classes))
    ]
    return np.sort(np.concatenate(picked))


def _single_class(train: np.ndarray, label: int) -> Predict:
    def predict(query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        similarity = np.clip((query @ train.T).max(axis=1, initial=0.0), 0, 1)
        return np.full(len(query), label), similarity.astype(np.float32)

    return predict


def _fitted(method: str, train: np.ndarray, labels: np.ndarray) -> Predict:
    """The method ready to apply to query chunks (the logistic head is fitted once)."""
    if method == "knn":
        typical = typical_similarity(train, labels)
        return lambda query: knn_vote(train, labels, query, typical=typical)
    return _logistic(train, labels)


def _logistic(train: np.ndarray, labels: np.ndarray) -> Predict:
    model = LogisticRegression(C=10.0, max_iter=500).fit(train, labels)

    def predict(query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probability = model.predict_proba(query)
        best = probability.argmax(axis=1)
        return model.classes_[best], probability[np.arange(len(query)), best].astype(np.float32)

    return predict
