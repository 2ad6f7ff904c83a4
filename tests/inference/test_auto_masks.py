"""Fast automatic masks: segment-anything's generator on the batched decoder, with pruning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from segment_anything import SamAutomaticMaskGenerator
from segment_anything.utils.amg import build_point_grid
from segment_anything.utils.transforms import ResizeLongestSide

from app.evaluation.metrics import iou_matrix
from app.inference.auto_masks import AutoParams, FastAutoMasks, grid_points
from app.inference.base import PreparedImage
from tests.inference.conftest import photo

LOOSE = {"pred_iou_thresh": 0.0, "stability_score_thresh": 0.0, "points_per_side": 4}


def test_grid_is_segment_anythings_coarse_to_fine() -> None:
    points = grid_points(8, 60, 80)
    expected = build_point_grid(8) * [80, 60]
    assert sorted(map(tuple, points.round(3))) == sorted(map(tuple, expected.round(3)))
    assert points[0].tolist() == pytest.approx([5.0, 3.75])  # the coarsest level first


def test_without_pruning_it_gives_segment_anythings_masks(tiny_segmenter) -> None:
    """Same grid, thresholds and NMS as SamAutomaticMaskGenerator on the same features."""
    image = photo()
    state = tiny_segmenter.prepare([image])[0]
    generator = SamAutomaticMaskGenerator(tiny_segmenter.sam, **LOOSE)
    predictor = generator.predictor
    predictor.set_image(image)
    predictor.features = torch.from_numpy(state.arrays["features"].astype(np.float32))
    predictor.set_image = lambda *args, **kwargs: None  # keep the fp16-rounded features
    expected = [r["segmentation"] for r in generator.generate(image)]
    ours = tiny_segmenter.auto(state, image, {**LOOSE, "prune": False})
    assert len(ours) == len(expected) > 0
    ious = iou_matrix([m.mask for m in ours], expected)
    # OpenCV's bilinear upscaling differs from torch's by a pixel here and there.
    assert (ious.max(axis=1) > 0.95).all() and (ious.max(axis=0) > 0.95).all()


class SquaresRunner:
    """A fake batch decoder on a 128x128 image with two square objects: a point inside one
    gets that square (all three tokens), any other point the whole image."""

    name = "squares"

    def __init__(self) -> None:
        self.objects = [(8, 40), (72, 120)]  # [start, stop) on both axes
        self.decoded: list[tuple[float, float]] = []

    def project(self, features: np.ndarray) -> tuple[np.ndarray, ...]:
        return ()

    def __call__(self, features, projected, coords, labels):  # type: ignore[no-untyped-def]
        low_res = np.full((len(coords), 3, 256, 256), 10.0, np.float32)
        for b, (x, y) in enumerate(coords[:, 0] / 8):  # model frame 1024 -> image pixels
            self.decoded.append((x, y))
            for start, stop in self.objects:
                if start <= x < stop and start <= y < stop:
                    low_res[b] = -10.0
                    low_res[b, :, 2 * start : 2 * stop, 2 * start : 2 * stop] = 10.0
        return low_res, np.full((len(coords), 3), 0.95, np.float32)


def squares_state() -> PreparedImage:
    """The 128x128 image's embedding (64x64 cells of 2 image pixels): one vector on the
    squares, another on the background."""
    features = np.zeros((1, 256, 64, 64), np.float16)
    features[0, 0] = 1.0
    for start, stop in SquaresRunner().objects:
        cells = slice(start // 2, stop // 2)
        features[0, :2, cells, cells] = [[[0.0]], [[1.0]]]
    return PreparedImage("fake", {"features": features}, (128, 128), (1024, 1024))


def test_pruning_skips_points_that_look_like_those_that_found_nothing() -> None:
    results = {}
    for prune in (False, True):
        runner = SquaresRunner()
        generator = FastAutoMasks(runner, ResizeLongestSide(1024))
        params = AutoParams(points_per_side=8, points_per_batch=4, prune=prune)
        masks = generator(squares_state(), params)
        results[prune] = (runner.decoded, sorted(int(m.mask.sum()) for m in masks))
    assert len(results[False][0]) == 64
    inside = [
        p
        for p in results[False][0]
        if any(a <= p[0] < b and a <= p[1] < b for a, b in SquaresRunner().objects)
    ]
    assert len(inside) == 13
    # Every point on a square is decoded; of the background only the first batch, which found
    # nothing but the whole image (a batch that learnt nothing yet skips nothing).
    assert set(inside) <= set(results[True][0])
    assert len(results[True][0]) <= len(inside) + 4
    assert results[True][1] == results[False][1] == [32 * 32, 48 * 48, 128 * 128]
