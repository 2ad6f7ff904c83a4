"""The map-workflow simulator on synthetic clusters."""

from __future__ import annotations

import numpy as np

from app.evaluation.lasso import pure_regions, simulate_lasso


def blobs(centres, per_blob=30, spread=0.3, seed=0):
    rng = np.random.default_rng(seed)
    points = np.concatenate([rng.normal(c, spread, (per_blob, 2)) for c in centres])
    classes = np.repeat(np.arange(len(centres)), per_blob)
    return points, classes


def test_separated_clusters_need_one_lasso_each():
    points, classes = blobs([(0, 0), (10, 0), (0, 10), (10, 10)])
    curve = simulate_lasso(points, classes)
    assert curve.actions_for(1.0) == 4 and curve.actions_for(0.5) == 2
    assert curve.labelled[-1] == curve.total == 120


def test_two_clusters_of_the_same_class_are_two_lassos():
    points, _ = blobs([(0, 0), (10, 0), (20, 0)])
    classes = np.repeat([0, 1, 0], 30)
    assert simulate_lasso(points, classes).actions_for(1.0) == 3


def test_an_intruder_splits_a_region_and_costs_an_action():
    points, classes = blobs([(0, 0), (10, 0)])
    classes = classes.copy()
    classes[5] = 1  # a class-1 segment inside the class-0 cluster
    regions = pure_regions(points, classes)
    assert sum(len(r) for r in regions) == 60
    assert all(len(set(classes[r])) == 1 for r in regions)
    assert simulate_lasso(points, classes).actions_for(1.0) >= 3


def test_unclassed_points_are_not_counted_and_degenerate_inputs_work():
    points, classes = blobs([(0, 0), (10, 0)])
    classes = classes.copy()
    classes[:10] = -1
    assert simulate_lasso(points, classes).total == 50
    line = np.stack([np.arange(5.0), np.zeros(5)], axis=1)
    assert simulate_lasso(line, np.zeros(5, int)).actions_for(1.0) == 1  # a thin lasso
    assert simulate_lasso(np.zeros((0, 2)), np.zeros(0, int)).actions_for(0.9) == 0
