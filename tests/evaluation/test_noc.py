"""The NoC simulator on synthetic images whose ground truth is known."""

from __future__ import annotations

import numpy as np

from app.evaluation.noc import box_iou, click_ious, clicks_to_reach, next_click, summarize
from app.evaluation.predictors import Prediction, SegmenterPredictor
from app.inference.classic.segmenter import ClassicSegmenter


def two_part_object() -> np.ndarray:
    gt = np.zeros((60, 80), bool)
    gt[10:40, 5:35] = True  # 900 px, deepest point at its centre
    gt[20:30, 50:60] = True  # 100 px
    return gt


class ComponentOracle:
    """Returns the ground-truth parts that hold a positive click, minus nothing else."""

    def __init__(self, gt: np.ndarray) -> None:
        from scipy import ndimage

        self.parts, _ = ndimage.label(gt)
        self.calls: list[tuple[np.ndarray, np.ndarray, bool]] = []

    def __call__(self, points, labels, *, box=None, mask_input=None, multimask=False):
        self.calls.append((points, labels, multimask))
        ids = {
            self.parts[int(y), int(x)] for (x, y), lab in zip(points, labels, strict=True) if lab
        }
        mask = np.isin(self.parts, [i for i in ids if i])
        return Prediction(mask, 1.0, handle=len(self.calls))


def test_first_click_is_the_deepest_point_of_the_object():
    click = next_click(two_part_object(), None)
    assert click.positive and 19 <= click.x <= 20 and 24 <= click.y <= 25


def test_next_click_goes_to_the_largest_error_and_has_its_sign():
    gt = two_part_object()
    missed = next_click(gt, gt & (np.arange(80) < 40)[None, :])
    assert missed.positive and 50 <= missed.x < 60 and 20 <= missed.y < 30
    spill = gt.copy()
    spill[45:60, 60:80] = True
    extra = next_click(gt, spill)
    assert not extra.positive and extra.x >= 60 and extra.y >= 45
    assert next_click(gt, gt) is None


def test_oracle_needs_one_click_per_part():
    gt = two_part_object()
    oracle = ComponentOracle(gt)
    ious = click_ious(oracle, gt, stop_iou=1.0)
    assert ious == [0.9, 1.0]
    assert clicks_to_reach(ious, 0.85) == 1 and clicks_to_reach(ious, 0.90) == 1
    assert clicks_to_reach(ious, 0.95) == 2 and clicks_to_reach([0.5], 0.9, max_clicks=20) == 20
    assert oracle.calls[0][2] is True and oracle.calls[1][2] is False  # multimask only first
    assert oracle.calls[1][1].tolist() == [1, 1]


def test_summary_counts_failures_at_max_clicks():
    summary = summarize([[0.9, 1.0], [0.5, 0.6]], box_ious=[0.8, 0.6], max_clicks=20)
    assert summary.noc[0.85] == (1 + 20) / 2 and summary.failures[0.9] == 1
    assert summary.first_click_miou == 0.7 and summary.box_miou == 0.7


def test_classic_segmenter_on_a_synthetic_image():
    rng = np.random.default_rng(0)
    image = rng.normal(60, 10, (120, 160, 3)).clip(0, 255).astype(np.uint8)
    rows, cols = np.mgrid[:120, :160]
    disc = (rows - 60) ** 2 + (cols - 50) ** 2 < 25**2
    square = np.zeros_like(disc)
    square[30:90, 100:140] = True
    image[disc], image[square] = (220, 40, 40), (40, 200, 60)
    predictor = SegmenterPredictor(ClassicSegmenter(), image)
    traces = [click_ious(predictor, gt, max_clicks=5) for gt in (disc, square)]
    for ious in traces:
        assert 1 <= len(ious) <= 5 and all(0.0 <= v <= 1.0 for v in ious)
    summary = summarize(traces, [box_iou(predictor, gt) for gt in (disc, square)], max_clicks=5)
    # High-contrast flat shapes: any working click segmenter gets them within a few clicks.
    assert summary.noc[0.85] <= 3 and summary.box_miou > 0.8


def test_noc_harness_through_the_real_predict_endpoint(sam_client) -> None:  # type: ignore[no-untyped-def]
    """The simulated annotator clicks through POST /predict (tiny SAM: figures meaningless,
    the path is what is exercised): every click returns a full-size mask, IoUs in [0, 1]."""
    from app.evaluation.predictors import HttpPredictor
    from tests.conftest import upload
    from tests.pipeline.conftest import photo_files

    pid = sam_client.post("/api/projects", json={"name": "noc"}).json()["id"]
    image = upload(sam_client, pid, photo_files(1))["imported"][0]
    gt = np.zeros((image["height"], image["width"]), bool)
    gt[40:120, 60:200] = True
    predictor = HttpPredictor(sam_client, image["id"])
    ious = click_ious(predictor, gt, max_clicks=3)
    assert 1 <= len(ious) <= 3 and all(0.0 <= v <= 1.0 for v in ious)
    assert 0.0 <= box_iou(predictor, gt) <= 1.0
    summary = summarize([ious], [box_iou(predictor, gt)], max_clicks=3)
    assert summary.objects == 1


def test_worker_predictor_answers_as_the_predict_endpoint(sam_client) -> None:  # type: ignore[no-untyped-def]
    """`lassolabel eval --noc` asks the worker directly: same masks and scores as /predict."""
    from app.evaluation.predictors import HttpPredictor, WorkerPredictor
    from app.pipeline.worker import image_loader
    from app.services.images import get_image
    from tests.conftest import upload
    from tests.pipeline.conftest import photo_files

    pid = sam_client.post("/api/projects", json={"name": "noc"}).json()["id"]
    image_id = upload(sam_client, pid, photo_files(1))["imported"][0]["id"]
    ctx = sam_client.app.state.context
    with ctx.db.read() as session:
        image = get_image(session, image_id)
    direct = WorkerPredictor(ctx.require_model(), image.sha256, image_loader(ctx, image))
    http = HttpPredictor(sam_client, image_id)
    click = (np.array([[100.0, 80.0]]), np.array([1]))
    ours, theirs = direct(*click, multimask=True), http(*click, multimask=True)
    assert ours.mask.shape == (image.height, image.width)
    assert np.array_equal(ours.mask, theirs.mask) and abs(ours.score - theirs.score) < 1e-6
    assert len(ours.candidates) == len(theirs.candidates) == 3
