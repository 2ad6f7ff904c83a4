"""The PerSAM location prior and prompting on hand-made feature maps, where the answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from app.inference.base import PredictedMask, PreparedImage, Prompt
from app.similar.exemplar import (
    cell_point,
    image_cells,
    prompt_points,
    propose,
    similarity_map,
    suppress,
    target_feature,
)

# A 384x512 (W x H) image: SAM resizes it to 768x1024, so 48 of 64 grid columns are image.
ORIGINAL = (512, 384)
INPUT = (1024, 768)
TARGET_CELL, SECOND_CELL, ANTI_CELL = (10, 20), (40, 30), (50, 5)


def planted_state(seed: int = 0) -> tuple[PreparedImage, np.ndarray]:
    """Features of weak noise with the target direction planted at TARGET_CELL (strong) and
    SECOND_CELL (weaker), its opposite at ANTI_CELL, and an even stronger opposite in the
    padding, which the prior must ignore. Returns (state, target (256,) unit)."""
    rng = np.random.default_rng(seed)
    target = rng.normal(size=256)
    target /= np.linalg.norm(target)
    features = 0.02 * rng.normal(size=(256, 64, 64))
    features[:, TARGET_CELL[0], TARGET_CELL[1]] += target
    features[:, SECOND_CELL[0], SECOND_CELL[1]] += 0.5 * target
    features[:, ANTI_CELL[0], ANTI_CELL[1]] -= target
    features[:, :, 48:] -= 10 * target[:, None, None]  # padding: must never be a prompt
    state = PreparedImage(
        model_id="test",
        arrays={"features": features[None].astype(np.float16)},
        original_size=ORIGINAL,
        input_size=INPUT,
    )
    return state, target


def test_similarity_map_covers_only_the_image_cells() -> None:
    state, target = planted_state()
    similarity = similarity_map(state, target)
    assert similarity.shape == image_cells(INPUT) == (64, 48)
    assert similarity.dtype == np.float32
    assert np.all(np.abs(similarity) <= 1.0 + 1e-5)
    assert np.unravel_index(similarity.argmax(), similarity.shape) == TARGET_CELL
    assert np.unravel_index(similarity.argmin(), similarity.shape) == ANTI_CELL


def test_prompts_are_the_argmax_positive_and_argmin_negative_in_canonical_pixels() -> None:
    state, target = planted_state()
    points, labels = prompt_points(similarity_map(state, target), state)
    # cell (row, col) centre: input pixel ((col + .5) * 16, (row + .5) * 16), halved.
    assert points.tolist() == [[20.5 * 8, 10.5 * 8], [5.5 * 8, 50.5 * 8]]
    assert labels.tolist() == [1, 0]


def test_suppressed_cells_are_never_prompts() -> None:
    state, target = planted_state()
    similarity = similarity_map(state, target)
    found = np.zeros(ORIGINAL, bool)
    found[80:88, 160:168] = True  # exactly the input pixels of TARGET_CELL, at half scale
    suppress(similarity, found, state)
    assert not np.isfinite(similarity[TARGET_CELL])
    points, _ = prompt_points(similarity, state)
    assert points[0].tolist() == list(cell_point(SECOND_CELL, state))
    assert points[1].tolist() == list(cell_point(ANTI_CELL, state))  # not the -inf cells


@pytest.mark.parametrize("input_size", [(1000, 750), (1024, 1), (7, 1024)])
def test_cell_points_stay_inside_the_image(input_size: tuple[int, int]) -> None:
    original = (input_size[0] * 3, input_size[1] * 3)
    state = PreparedImage("test", {}, original, input_size)
    rows, cols = image_cells(input_size)
    x, y = cell_point((rows - 1, cols - 1), state)
    assert 0 <= x < original[1] and 0 <= y < original[0]


def test_target_of_one_exemplar_is_its_pooled_feature() -> None:
    state, target = planted_state()
    mask = np.zeros(ORIGINAL, bool)
    mask[80:88, 160:168] = True  # TARGET_CELL
    first = target_feature([state], [mask])
    assert first.shape == (256,) and first.dtype == np.float32
    assert float(first @ target) > 0.95
    # Two exemplars: the mean of both unit features, renormalised.
    other = np.zeros(ORIGINAL, bool)
    other[400:408, 40:48] = True  # ANTI_CELL
    assert abs(float(target_feature([state, state], [mask, other]) @ target)) < 0.2


class RecordingSegmenter:
    """Decodes a 24x24 square around the positive point; records every prompt."""

    name = "sam"
    model_id = "test"

    def __init__(self) -> None:
        self.prompts: list[Prompt] = []

    def predict(self, state: PreparedImage, prompt: Prompt) -> list[PredictedMask]:
        self.prompts.append(prompt)
        x, y = (int(v) for v in prompt.points[0])
        mask = np.zeros(state.original_size, bool)
        mask[max(y - 12, 0) : y + 12, max(x - 12, 0) : x + 12] = True
        logits = np.full((256, 256), float(len(self.prompts)), np.float32)
        return [PredictedMask(mask, 0.9, logits), PredictedMask(mask, 0.5, -logits)]


def test_propose_refines_with_the_first_mask_and_its_box_then_moves_to_the_next_peak() -> None:
    state, target = planted_state()
    segmenter = RecordingSegmenter()
    found = propose(segmenter, state, target, count=2)  # type: ignore[arg-type]
    first, refine, second, _ = segmenter.prompts
    assert first.mask_input is None and first.box is None and first.multimask
    assert refine.points.tolist() == first.points.tolist()
    assert refine.mask_input is not None and np.all(refine.mask_input == 1.0)  # pass 1 logits
    x, y = cell_point(TARGET_CELL, state)
    assert refine.box is not None
    assert refine.box.tolist() == [int(x) - 12, int(y) - 12, int(x) + 12, int(y) + 12]
    assert second.points[0].tolist() == list(cell_point(SECOND_CELL, state))
    assert [p.point for p in found] == [
        cell_point(TARGET_CELL, state),
        cell_point(SECOND_CELL, state),
    ]
    for proposal in found:
        assert 0 <= proposal.similarity <= 1
        assert proposal.score == pytest.approx(0.9 * proposal.similarity)
    assert found[0].similarity > found[1].similarity > 0  # the planted peak is the stronger
