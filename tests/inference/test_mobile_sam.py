"""MobileSAM (vit_t): the official checkpoint through the real loading code, and every prompt
kind on a real photograph (one encode per module; the tiny random SAM serves the other tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from app.inference.architecture import PRESETS, infer_architecture, load_sam, read_state_dict
from app.inference.base import PreparedImage, Prompt
from app.inference.batch_decoder import BatchRunner
from app.inference.checkpoints import verify_official
from app.inference.decoder_files import DECODER_GRAPH, graph_path
from app.inference.sam import SamSegmenter
from app.inference.split_decoder import IMAGE_OUTPUTS
from tests.fixtures.coins import Coins, coins, iou


def test_official_checkpoint_is_recognised_and_loads_with_every_key(mobile_sam_path: Path):
    verify_official(mobile_sam_path, "vit_t")
    state = read_state_dict(mobile_sam_path)
    assert infer_architecture(state) == PRESETS["vit_t"]
    sam = load_sam(state, PRESETS["vit_t"])  # strict: refuses missing or unexpected keys
    assert set(sam.state_dict()) == set(state)
    assert not sam.training


def test_encoder_output_on_a_real_photo_is_pinned(mobile_sam: SamSegmenter):
    """Values from MobileSAM's own predictor (mobilesam-mirror 1.0.0, eval() after loading) on
    the same image; ours agree to float16 rounding (max abs difference 2.4e-4)."""
    image = np.ascontiguousarray(data.astronaut()[::2, ::2])  # 256x256x3
    assert not mobile_sam.sam.training  # BatchNorm on running statistics
    features = mobile_sam.prepare([image])[0].arrays["features"].astype(np.float32)
    assert features.shape == (1, 256, 64, 64)
    assert features.mean() == pytest.approx(-0.0027604, abs=2e-5)
    assert features.std() == pytest.approx(0.102507, abs=2e-4)
    expected = [
        [0.0166747, 0.0391855, -0.0273669, 0.0065428],
        [0.0883847, 0.0668995, 0.0970837, 0.0475974],
    ]
    np.testing.assert_allclose(features[0, :2, 10, 20:24], expected, atol=1e-3)


# -- every prompt kind on a real photograph, against each coin's known region ---------------


@pytest.fixture(scope="module")
def coins_state(mobile_sam: SamSegmenter) -> PreparedImage:
    return mobile_sam.prepare([coins().image])[0]


def click(x: int, y: int, *more: tuple[int, int, int], multimask: bool = True) -> Prompt:
    points = [(x, y), *((px, py) for px, py, _ in more)]
    labels = [1, *(label for _, _, label in more)]
    return Prompt(
        points=np.array(points, np.float32), point_labels=np.array(labels), multimask=multimask
    )


def test_one_click_on_a_coin_gives_that_coin_best_first(mobile_sam, coins_state):
    truth = coins()
    for coin in truth.ids[::4]:
        masks = mobile_sam.predict(coins_state, click(*truth.centre(coin)))
        assert len(masks) == 3 and [m.mask.shape for m in masks] == [(303, 384)] * 3
        assert [m.score for m in masks] == sorted((m.score for m in masks), reverse=True)
        assert all(0 <= m.score <= 1 for m in masks)
        assert iou(masks[0].mask, truth.region(coin)) >= 0.9, coin


def test_three_candidates_are_distinct_nested_readings(mobile_sam, coins_state):
    truth = coins()
    coin = truth.ids[0]
    masks = mobile_sam.predict(coins_state, click(*truth.centre(coin)))
    areas = sorted(int(m.mask.sum()) for m in masks)
    assert len(set(areas)) == 3  # a part, the coin, a larger whole: not three copies
    assert max(iou(m.mask, truth.region(coin)) for m in masks) >= 0.9


def test_box_around_a_coin_gives_that_coin(mobile_sam, coins_state):
    truth = coins()
    for coin in truth.ids[1::5]:
        box = np.array(truth.box(coin), np.float32)
        mask = mobile_sam.predict(coins_state, Prompt(box=box, multimask=False))[0]
        assert iou(mask.mask, truth.region(coin)) >= 0.9, coin


def test_box_over_two_coins_with_an_excluding_point_keeps_the_other(mobile_sam, coins_state):
    truth = coins()
    left, right = _neighbours(truth)
    (x0, y0, _, _), (_, _, x1, y1) = truth.box(left), truth.box(right)
    lx, ly = truth.centre(left)
    box = np.array([x0, min(y0, truth.box(right)[1]), x1, max(y1, truth.box(left)[3])], np.float32)
    prompt = Prompt(points=np.array([[lx, ly]], np.float32), point_labels=np.array([0]), box=box)
    mask = mobile_sam.predict(coins_state, prompt)[0].mask
    assert iou(mask, truth.region(right)) >= 0.8
    assert np.count_nonzero(mask & truth.region(left)) < 0.05 * truth.region(left).sum()


def test_refinement_with_the_previous_logits_adds_the_missed_coin(mobile_sam, coins_state):
    """A click, then its low-res logits fed back with a second positive click on a neighbour:
    the refined mask covers both coins (and the first answer only one)."""
    truth = coins()
    left, right = _neighbours(truth)
    first = mobile_sam.predict(coins_state, click(*truth.centre(left)))[0]
    assert first.low_res_logits.shape == (256, 256)
    both = truth.region(left) | truth.region(right)
    assert iou(first.mask, both) < 0.6
    refine = Prompt(
        points=np.array([truth.centre(left), truth.centre(right)], np.float32),
        point_labels=np.array([1, 1]),
        mask_input=first.low_res_logits[None],
        multimask=False,
    )
    refined = mobile_sam.predict(coins_state, refine)[0]
    assert iou(refined.mask, both) >= 0.8


def test_page_decoder_graphs_give_the_servers_masks(mobile_sam, coins_state, models_dir):
    """The image + prompt graphs the page runs (split at the image, exported for vit_t like for
    vit_b) on MobileSAM's real embedding give the server's low-res logits for a click."""
    import onnxruntime as ort

    truth = coins()
    prompt = click(*truth.centre(truth.ids[2]))
    server = mobile_sam.predict(coins_state, prompt)
    full = models_dir / "onnx" / f"{mobile_sam.model_id}.{DECODER_GRAPH}.onnx"
    image, page = (
        ort.InferenceSession(str(graph_path(full, part))) for part in ("image", "prompt")
    )
    features, coords, labels, _, _ = mobile_sam._decoder_inputs(coins_state, prompt)
    projected = image.run(IMAGE_OUTPUTS, {"image_embeddings": features})
    feed = {"image_embeddings": features, "point_coords": coords, "point_labels": labels}
    low_res, scores = page.run(None, feed | dict(zip(IMAGE_OUTPUTS, projected, strict=True)))
    matched = []
    for mask in server:  # the server's three candidates are page tokens 1..3 by its score
        gaps = [float(np.abs(low_res[t] - mask.low_res_logits).max()) for t in (1, 2, 3)]
        token = int(np.argmin(gaps)) + 1
        assert gaps[token - 1] < 1e-3
        assert np.array_equal(mobile_sam._upscale(low_res[[token]], coins_state)[0], mask.mask)
        matched.append(token)
    assert sorted(matched) == [1, 2, 3]


def _neighbours(truth: Coins) -> tuple[int, int]:
    """Two coins side by side in one row, left first (the first such pair)."""
    for a in truth.ids:
        ax0, ay0, ax1, ay1 = truth.box(a)
        for b in truth.ids:
            bx0, by0, _, by1 = truth.box(b)
            if 0 < bx0 - ax1 < 25 and abs(by0 - ay0) < 10 and abs(by1 - ay1) < 10:
                return a, b
    raise AssertionError("no two neighbouring coins")


def test_automatic_mask_pruning_keeps_every_coin_it_finds(mobile_sam, coins_state):
    """Skipping the grid points that look like those that found nothing decodes fewer points
    and finds the same coins as decoding every point (16x16 grid, batches of 16)."""
    truth = coins()
    mobile_sam.auto(coins_state, truth.image, {"points_per_side": 1})
    assert mobile_sam._auto is not None
    runner = mobile_sam._auto.runner
    counting = CountingRunner(runner)
    mobile_sam._auto.runner = counting
    found, points = {}, {}
    try:
        for prune in (False, True):
            counting.decoded = 0
            params = {"points_per_side": 16, "points_per_batch": 16, "prune": prune}
            masks = mobile_sam.auto(coins_state, truth.image, params)
            points[prune] = counting.decoded
            found[prune] = {
                c for c in truth.ids if any(iou(m.mask, truth.region(c)) >= 0.5 for m in masks)
            }
    finally:
        mobile_sam._auto.runner = runner
    assert points[False] == 256 and points[True] < 256
    assert found[True] == found[False] and len(found[False]) >= len(truth.ids) // 2


class CountingRunner:
    """A BatchRunner that counts the prompts it decodes."""

    def __init__(self, runner: BatchRunner) -> None:
        self.runner, self.name, self.decoded = runner, runner.name, 0

    def project(self, features: np.ndarray) -> tuple[np.ndarray, ...]:
        return self.runner.project(features)

    def __call__(self, features, projected, coords, labels):  # type: ignore[no-untyped-def]
        self.decoded += len(coords)
        return self.runner(features, projected, coords, labels)
