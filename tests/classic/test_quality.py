"""Automatic masks and mask quality against the trivial baselines, on real images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.inference.base import Prompt
from app.inference.classic import ClassicSegmenter

from .photo_set import coin_masks, composites
from .test_interface import iou, tight_box

NUCLEI = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "nuclei"


def ellipse_iou(gt: np.ndarray) -> float:
    x0, y0, x1, y1 = tight_box(gt)
    ys, xs = np.mgrid[0 : gt.shape[0], 0 : gt.shape[1]] + 0.5
    inside = ((xs - (x0 + x1) / 2) / ((x1 - x0) / 2)) ** 2 + (
        (ys - (y0 + y1) / 2) / ((y1 - y0) / 2)
    ) ** 2 <= 1
    return iou(inside, gt)


@pytest.fixture(scope="module")
def segmenter() -> ClassicSegmenter:
    return ClassicSegmenter()


@pytest.fixture(scope="module")
def coins(segmenter):
    image, masks = coin_masks()
    return image, masks, segmenter.prepare([image])[0]


def test_auto_masks_contract(segmenter, coins):
    image, _, state = coins
    masks = segmenter.auto(state, image, {"points_per_side": 32, "crop_n_layers": 1})
    assert masks
    assert [m.predicted_iou for m in masks] == sorted(m.predicted_iou for m in masks)[::-1]
    for m in masks:
        assert m.mask.shape == image.shape[:2] and m.mask.dtype == bool and m.mask.any()
        assert 0.0 <= m.predicted_iou <= 1.0 and 0.0 <= m.stability_score <= 1.0


def test_auto_params_filter(segmenter, coins):
    image, _, state = coins
    everything = segmenter.auto(state, image, {})
    big = segmenter.auto(state, image, {"min_mask_region_area": 1500, "max_masks": 5})
    assert 0 < len(big) <= 5 < len(everything)
    assert all(m.mask.sum() >= 1500 for m in big)
    strict = segmenter.auto(state, image, {"pred_iou_thresh": 0.9})
    assert all(m.predicted_iou >= 0.9 for m in strict) and len(strict) < len(everything)


def test_auto_masks_find_most_coins(segmenter, coins):
    image, gts, state = coins
    masks = [m.mask for m in segmenter.auto(state, image, {})]
    best = [max(iou(m, gt) for m in masks) for gt in gts]
    assert np.mean(np.array(best) > 0.5) > 0.6


def test_box_beats_both_baselines_on_composites(segmenter):
    ours, box, ellipse = [], [], []
    for image, (gt,) in composites(6, seed=1):
        state = segmenter.prepare([image])[0]
        prompt = Prompt(box=tight_box(gt), multimask=False)
        ours.append(iou(segmenter.predict(state, prompt)[0].mask, gt))
        box.append(gt.sum() / np.prod(np.diff(tight_box(gt).reshape(2, 2), axis=0)))
        ellipse.append(ellipse_iou(gt))
    assert np.mean(ours) > max(np.mean(box), np.mean(ellipse))


@pytest.mark.skipif(not NUCLEI.is_dir(), reason=f"nuclei dataset not found at {NUCLEI}")
def test_box_beats_box_as_mask_on_nuclei(segmenter):
    ours, trivial = [], []
    for path in sorted((NUCLEI / "images").glob("*.png"))[:3]:
        image = np.array(Image.open(path).convert("RGB"))
        instances = np.array(Image.open(NUCLEI / "instances" / path.name))
        state = segmenter.prepare([image])[0]
        for i in [i for i in np.unique(instances) if i][:15]:
            gt = instances == i
            prompt = Prompt(box=tight_box(gt), multimask=False)
            ours.append(iou(segmenter.predict(state, prompt)[0].mask, gt))
            trivial.append(gt.sum() / np.prod(np.diff(tight_box(gt).reshape(2, 2), axis=0)))
    assert np.mean(ours) > np.mean(trivial) + 0.05
