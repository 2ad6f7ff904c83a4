"""Evaluation on hand-made cases whose figures are known in advance."""

from __future__ import annotations

import numpy as np
import pytest

from app.evaluation.metrics import average_precision, greedy_matches, iou_matrix, mask_iou
from app.evaluation.project import Instance, evaluate_instances


def box_mask(y0: int, y1: int, x0: int, x1: int, shape=(40, 60)) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_hand_made_case_has_the_known_miou_and_ap():
    gt = [Instance("a", box_mask(0, 10, 0, 10)), Instance("b", box_mask(20, 30, 20, 30))]
    pred = [
        Instance("a", box_mask(0, 10, 0, 4)),  # 40 of a's 100 pixels: IoU 0.4, unmatched
        Instance("b", box_mask(20, 30, 20, 30)),  # exact
        Instance("b", box_mask(0, 5, 50, 60), score=0.2),  # a false positive, 50 pixels
    ]
    result = evaluate_instances([(gt, pred)], lambda _: (40, 60))
    assert result.classes["a"].iou == pytest.approx(0.4)
    assert result.classes["b"].iou == pytest.approx(100 / 150)
    assert result.miou == pytest.approx((0.4 + 100 / 150) / 2)
    assert result.classes["a"].ap50 == 0.0 and result.classes["b"].ap50 == pytest.approx(1.0)
    assert result.map50 == pytest.approx(0.5)
    assert result.matched_iou_mean == pytest.approx(1.0)
    assert (result.precision50, result.recall50) == (pytest.approx(1 / 3), pytest.approx(0.5))


def test_semantic_iou_sums_over_images():
    first = ([Instance("a", box_mask(0, 10, 0, 10))], [Instance("a", box_mask(0, 10, 0, 10))])
    second = ([Instance("a", box_mask(0, 10, 0, 10))], [])
    result = evaluate_instances([first, second], lambda _: (40, 60))
    assert result.miou == pytest.approx(100 / 200)
    assert result.recall50 == pytest.approx(0.5)


def test_crowd_regions_are_neither_hits_nor_misses():
    gt = [
        Instance("a", box_mask(0, 20, 0, 20), crowd=True),
        Instance("a", box_mask(30, 40, 40, 50)),
    ]
    pred = [Instance("a", box_mask(0, 20, 0, 20)), Instance("a", box_mask(30, 40, 40, 50))]
    result = evaluate_instances([(gt, pred)], lambda _: (40, 60))
    assert result.classes["a"].gt_instances == 1 and result.classes["a"].predicted_instances == 1
    assert result.map50 == pytest.approx(1.0)


def test_matching_is_one_to_one_by_best_iou():
    gts = [box_mask(0, 10, 0, 10), box_mask(0, 10, 10, 20)]
    preds = [box_mask(0, 10, 0, 12), box_mask(0, 10, 0, 10)]
    ious = iou_matrix(gts, preds)
    assert ious[0, 1] == 1.0 and ious[1, 0] == pytest.approx(20 / 200)
    assert greedy_matches(ious, 0.5) == [(0, 1, 1.0)]
    assert mask_iou(gts[0], gts[0] & False) == 0.0


def test_average_precision_ranks_by_score():
    assert average_precision([0.9, 0.1], [True, False], 1) == pytest.approx(1.0)
    assert average_precision([0.1, 0.9], [True, False], 1) == pytest.approx(0.5, abs=0.01)
    assert average_precision([], [], 0) is None
