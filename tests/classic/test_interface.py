"""The classic segmenter honours the Segmenter protocol on real photographs."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from app.inference.base import PreparedImage, Prompt
from app.inference.classic import MODEL_ID, ClassicSegmenter
from app.inference.classic.lowres import from_low_res, to_low_res

from .photo_set import coin_masks


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(int((a | b).sum()), 1))


def tight_box(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


def centre_point(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([[xs.mean(), ys.mean()]], np.float32)


@pytest.fixture(scope="module")
def segmenter() -> ClassicSegmenter:
    return ClassicSegmenter()


@pytest.fixture(scope="module")
def coins(segmenter):
    image, masks = coin_masks()
    return image, masks, segmenter.prepare([image])[0]


def test_prepare_state_is_plain_arrays(coins):
    image, _, state = coins
    assert state.model_id == MODEL_ID
    assert state.original_size == image.shape[:2] == state.input_size
    assert all(isinstance(a, np.ndarray) for a in state.arrays.values())
    assert state.arrays["superpixels"].shape == image.shape[:2]
    assert state.nbytes > 0


def test_state_round_trips_through_npz(tmp_path, segmenter, coins):
    _, masks, state = coins
    np.savez(tmp_path / "state.npz", **state.arrays)
    with np.load(tmp_path / "state.npz") as stored:
        arrays = {k: stored[k] for k in stored.files}
    restored = PreparedImage(state.model_id, arrays, state.original_size, state.input_size)
    prompt = Prompt(box=tight_box(masks[0]), multimask=False)
    before = segmenter.predict(state, prompt)[0]
    after = segmenter.predict(restored, prompt)[0]
    assert np.array_equal(before.mask, after.mask)


@pytest.mark.parametrize("multimask, count", [(True, 3), (False, 1)])
def test_predict_output_contract(segmenter, coins, multimask, count):
    image, masks, state = coins
    out = segmenter.predict(state, Prompt(box=tight_box(masks[3]), multimask=multimask))
    assert len(out) == count
    assert [m.score for m in out] == sorted((m.score for m in out), reverse=True)
    for m in out:
        assert m.mask.shape == image.shape[:2] and m.mask.dtype == bool
        assert 0.0 <= m.score <= 1.0
        assert m.low_res_logits.shape == (256, 256) and m.low_res_logits.dtype == np.float32


def test_box_beats_box_as_mask_on_coins(segmenter, coins):
    image, masks, state = coins
    ours, trivial = [], []
    for gt in masks[:8]:
        box = tight_box(gt)
        ours.append(iou(segmenter.predict(state, Prompt(box=box, multimask=False))[0].mask, gt))
        as_mask = np.zeros_like(gt)
        x0, y0, x1, y1 = box.astype(int)
        as_mask[y0:y1, x0:x1] = True
        trivial.append(iou(as_mask, gt))
    assert np.mean(ours) > np.mean(trivial) + 0.1


def test_single_click_finds_the_coin(segmenter, coins):
    _, masks, state = coins
    scores = []
    for gt in masks[:6]:
        prompt = Prompt(centre_point(gt), np.ones(1, np.int32))
        scores.append(iou(segmenter.predict(state, prompt)[0].mask, gt))
    assert np.mean(scores) > 0.7


def test_negative_click_is_a_hard_constraint(segmenter, coins):
    _, masks, state = coins
    gt = masks[2]
    inside = np.argwhere(gt)[len(np.argwhere(gt)) // 3][::-1].astype(np.float32)
    prompt = Prompt(inside[None], np.zeros(1, np.int32), box=tight_box(gt), multimask=False)
    mask = segmenter.predict(state, prompt)[0].mask
    assert not mask[int(inside[1]), int(inside[0])]


def test_mask_input_refines_previous_answer(segmenter, coins):
    _, masks, state = coins
    first = segmenter.predict(state, Prompt(box=tight_box(masks[4]), multimask=False))[0]
    again = segmenter.predict(state, Prompt(mask_input=first.low_res_logits[None]))[0]
    assert iou(again.mask, first.mask) > 0.8
    other = centre_point(masks[5])
    grown = Prompt(other, np.ones(1, np.int32), mask_input=first.low_res_logits[None])
    both = segmenter.predict(state, grown)[0].mask
    assert both[int(other[0, 1]), int(other[0, 0])]


def test_empty_prompt_is_rejected(segmenter, coins):
    with pytest.raises(ValueError):
        segmenter.predict(coins[2], Prompt())


def test_large_image_works_at_reduced_resolution(segmenter):
    image = np.ascontiguousarray(np.repeat(np.repeat(data.coffee(), 3, axis=0), 3, axis=1))
    state = segmenter.prepare([image])[0]
    assert max(state.input_size) == 1024 and state.original_size == image.shape[:2]
    box = np.array([600, 300, 1400, 1000], np.float32)
    mask = segmenter.predict(state, Prompt(box=box, multimask=False))[0].mask
    assert mask.shape == image.shape[:2]
    assert mask[600:1000, 600:1400].any() and not mask[:, 1500:].any()


def test_low_res_frame_round_trips():
    logits = np.full((300, 450), -5.0, np.float32)
    logits[100:200, 150:300] = 5.0
    back = from_low_res(to_low_res(logits)[None], (300, 450))
    assert iou(back > 0, logits > 0) > 0.95
