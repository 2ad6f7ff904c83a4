"""The refining-click rule (app/inference/refinement.py) on hand-made logits."""

from __future__ import annotations

import numpy as np

from app.inference.refinement import DEPTH, KEEP, MARGIN, refining_token

LOW = 256


def square(x0: int, y0: int, size: int) -> np.ndarray:
    """256x256 logits: +5 inside a square, -5 elsewhere."""
    logits = np.full((LOW, LOW), -5.0, np.float32)
    logits[y0 : y0 + size, x0 : x0 + size] = 5.0
    return logits


PREVIOUS = square(100, 100, 60)
# token 0 erased more than half of the previous mask (keeps 1600 of its 3600 pixels); token 2
# is the previous mask with a corner cut.
TOKENS = np.stack(
    [square(100, 100, 40), square(10, 10, 30), square(100, 100, 55), square(0, 0, 200)]
)
FALLS = np.array([0.6, 0.99, 0.5, 0.99])  # token 0's predicted IoU far below 0.9


def test_single_mask_when_its_predicted_iou_holds() -> None:
    scores = np.array([0.85, 0.9, 0.9, 0.9])
    assert refining_token(TOKENS, scores, PREVIOUS, previous_score=0.85 + MARGIN / 2) == 0


def test_closest_token_to_the_previous_mask_when_the_single_mask_falls() -> None:
    assert refining_token(TOKENS, FALLS, PREVIOUS, previous_score=0.9) == 2


def test_token_zero_when_it_is_also_the_closest() -> None:
    tokens = TOKENS.copy()
    tokens[0] = PREVIOUS
    assert refining_token(tokens, np.array([0.1, 0.9, 0.9, 0.9]), PREVIOUS, 0.9) == 0


def test_margin_is_a_parameter() -> None:
    scores = np.array([0.7, 0.9, 0.9, 0.9])
    assert refining_token(TOKENS, scores, PREVIOUS, 0.9, margin=0.25) == 0
    assert refining_token(TOKENS, scores, PREVIOUS, 0.9, margin=0.15) == 2


def test_a_single_mask_that_moved_to_another_object_answers_even_when_it_falls() -> None:
    """A click on a wrong first candidate: the single mask keeps none of it (a correction)."""
    tokens = TOKENS.copy()
    tokens[0] = square(180, 180, 40)
    assert refining_token(tokens, FALLS, PREVIOUS, 0.9) == 0


def test_keep_fraction_is_a_parameter() -> None:
    kept = 1600 / 3600  # of the previous mask, by token 0
    assert kept > KEEP
    assert refining_token(TOKENS, FALLS, PREVIOUS, 0.9, keep=kept) == 2
    assert refining_token(TOKENS, FALLS, PREVIOUS, 0.9, keep=kept + 0.01) == 0


def test_an_empty_previous_mask_leaves_nothing_to_keep() -> None:
    empty = np.full((LOW, LOW), -1.0, np.float32)
    tokens = np.stack([square(0, 0, 10), empty, empty, square(5, 5, 5)])
    assert refining_token(tokens, np.array([0.0, 0.5, 0.5, 0.5]), empty, 0.9) == 0


# The chain began with candidate 2, which is PREVIOUS with one column more; the single mask
# (token 0) holds its predicted IoU but swallows the neighbourhood (IoU 3600/10000 with it).
CHOSEN = np.stack(
    [square(80, 80, 100), square(10, 10, 30), square(100, 100, 61), square(0, 0, 200)]
)
HOLDS = np.array([0.9, 0.9, 0.9, 0.9])


def test_the_chosen_candidates_token_when_the_single_mask_changes_much_of_the_mask() -> None:
    assert refining_token(CHOSEN, HOLDS, PREVIOUS, 0.9, candidate=2) == 2
    assert refining_token(CHOSEN, HOLDS, PREVIOUS, 0.9, candidate=None) == 0


def test_the_single_mask_when_it_stays_close_or_is_closer_than_the_candidates_token() -> None:
    close = CHOSEN.copy()
    close[0] = square(100, 100, 62)  # IoU 3600/3844 with the previous mask: >= FAR
    assert refining_token(close, HOLDS, PREVIOUS, 0.9, candidate=2) == 0
    assert refining_token(CHOSEN, HOLDS, PREVIOUS, 0.9, candidate=3) == 0  # token 3: farther
    assert refining_token(CHOSEN, HOLDS, PREVIOUS, 0.9, candidate=2, far=0.3) == 0


# Negative clicks on PREVIOUS (deepest point 30 px from its edge): 3 px inside its left edge,
# and at its centre.
NEAR_EDGE, CENTRE = (102, 130, False), (130, 130, False)


def test_a_negative_click_near_the_edge_trims_so_a_single_mask_that_leaves_is_a_setback() -> None:
    tokens = TOKENS.copy()
    tokens[0] = square(180, 180, 40)  # keeps none of the previous mask
    assert refining_token(tokens, FALLS, PREVIOUS, 0.9, click=NEAR_EDGE) == 2
    assert refining_token(tokens, FALLS, PREVIOUS, 0.9, click=CENTRE) == 0  # "not this object"
    assert refining_token(tokens, FALLS, PREVIOUS, 0.9, click=(102, 130, True)) == 0
    assert DEPTH > 3 / 30
    assert refining_token(tokens, FALLS, PREVIOUS, 0.9, click=NEAR_EDGE, depth=3 / 30) == 0


def test_the_chosen_candidates_token_answers_a_trim_but_not_a_negative_click_deep_inside() -> None:
    tokens = CHOSEN.copy()
    for x, y, _ in (NEAR_EDGE, CENTRE):
        tokens[2, y, x] = -5.0  # the candidate's token honours both clicks
    assert refining_token(tokens, HOLDS, PREVIOUS, 0.9, candidate=2, click=NEAR_EDGE) == 2
    assert refining_token(tokens, HOLDS, PREVIOUS, 0.9, candidate=2, click=CENTRE) == 0
    assert refining_token(CHOSEN, HOLDS, PREVIOUS, 0.9, candidate=2, click=NEAR_EDGE) == 0


def test_a_positive_click_whose_single_mask_grows_mostly_elsewhere_keeps_close() -> None:
    """The single mask adds the piece at the click and a larger piece away from it: the
    closest token that still contains the click answers (token 1, the previous mask, does not)."""
    at_click = np.where(square(160, 125, 10) > 0, 5.0, -5.0)  # touches the mask's right edge
    grown = np.maximum(PREVIOUS, at_click)
    tokens = np.stack([np.maximum(grown, square(20, 20, 30)), PREVIOUS, grown, square(0, 0, 200)])
    click = (165, 130, True)
    assert refining_token(tokens, HOLDS, PREVIOUS, 0.9, click=click) == 2  # 100 of 1000 px near
    assert refining_token(tokens, HOLDS, PREVIOUS, 0.9, click=click, near=0.05) == 0
    tokens[0] = grown  # grows only at the click
    assert refining_token(tokens, HOLDS, PREVIOUS, 0.9, click=click) == 0
