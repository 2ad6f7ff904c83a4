"""The simulated annotator of bench/effort.py: what it may know, what each action costs."""

from __future__ import annotations

import numpy as np

from app.evaluation.annotator import PAGE, Annotator, Policy
from app.evaluation.ledger import Ledger
from app.evaluation.truth import AMBIGUOUS, paint, pixel_tally, segment_truth


class FakeProduct:
    """Points on a line, labels kept in memory; records which rows the person saw."""

    def __init__(self, xy: np.ndarray) -> None:
        self.xy = xy
        self.current = np.full(len(xy), -1)
        self.fixed: list[int] = []

    def positions(self):
        return np.arange(len(self.xy)), self.xy

    def labels(self):
        return self.current.copy()

    def assign(self, rows, cls, seen):
        self.current[rows] = cls

    def fix(self, row, cls):
        self.fixed.append(row)
        self.current[row] = cls

    def propagate(self):
        pass

    def accept_all(self, min_confidence):
        pass

    def review_page(self, limit):
        return None


def run(truth: np.ndarray, xy: np.ndarray, policy: Policy, budget: int = 10_000):
    product = FakeProduct(xy)
    seen: list[int] = []

    def oracle(row: int) -> int:
        seen.append(row)
        return int(truth[row])

    ledger = Annotator(product, oracle, Ledger.start(truth), budget).run(policy)
    return ledger, product, seen


def test_pure_blobs_cost_one_lasso_each():
    truth = np.repeat([0, 1, 2], 40)
    xy = np.stack([np.repeat([0.0, 100.0, 200.0], 40) + np.arange(120) % 40 * 0.01,
                   np.zeros(120)], axis=1)  # fmt: skip
    ledger, product, _ = run(truth, xy, Policy("lasso", lasso_size=40, review=False))
    assert ledger.actions == 3 and ledger.kinds == {"lasso": 3}
    assert (product.current == truth).all()
    assert ledger.actions_to(0.9) == 3


def test_an_unseen_wrong_label_stays_wrong():
    # One blob of 120 points: the page shows the first 50 (all class 0); the tail's class-1
    # points get class 0 and nobody fixes what no page showed.
    truth = np.zeros(120, int)
    truth[100:] = 1
    xy = np.stack([np.arange(120.0), np.zeros(120)], axis=1)
    ledger, product, seen = run(truth, xy, Policy("lasso", lasso_size=500, review=False))
    assert max(seen) < PAGE
    assert ledger.actions == 1 and product.fixed == []
    assert (product.current[100:] == 0).all()
    assert ledger.actions_to(0.9) is None and ledger.actions_to(0.8) == 1


def test_seen_minority_is_fixed_one_action_each():
    truth = np.zeros(30, int)
    truth[[3, 7]] = 1
    xy = np.stack([np.arange(30.0), np.zeros(30)], axis=1)
    ledger, product, _ = run(truth, xy, Policy("lasso", review=False))
    assert ledger.kinds == {"lasso": 1, "fix": 2} and sorted(product.fixed) == [3, 7]
    assert (product.current == truth).all()


def test_budget_caps_the_session():
    truth = np.arange(200) % 7
    xy = np.random.default_rng(0).normal(size=(200, 2))
    ledger, _, _ = run(truth, xy, Policy("lasso"), budget=25)
    assert ledger.actions == 25
    assert ledger.labels_at("n10") is not None and ledger.labels_at("n25") is not None


def test_segment_truth_majority_and_ambiguity():
    labels = np.array([[0, 0, 1, 11], [0, 0, 1, 11]])
    assert segment_truth(np.ones_like(labels, bool), labels, void=11) == (0, False)
    mostly_void = np.zeros_like(labels, bool)
    mostly_void[:, 2:] = True
    assert segment_truth(mostly_void, labels, void=11) == (1, False)  # half is not under half
    all_void = np.zeros_like(labels, bool)
    all_void[:, 3] = True
    assert segment_truth(all_void, labels, void=11) == (AMBIGUOUS, True)
    split = np.zeros_like(labels, bool)
    split[0, 1:] = True
    assert segment_truth(split, labels, void=11)[1]  # 1/3 each: ambiguous


def test_pixel_miou_ignores_void_and_counts_unlabelled_as_missed():
    truth = np.array([[0, 0, 1, 11]])
    whole = np.array([[True, True, False, False]])
    painted = paint([(whole, 0)], truth.shape, background=11)
    tally = pixel_tally([painted], [truth], ["a", "b"], void=11)
    assert tally.ious() == {"a": 1.0, "b": 0.0}
