"""The in-page decoder ranks one-click candidates as /predict does (predicted IoU and the
project's past picks, app/inference/candidates.py), and its saves teach the server."""

from __future__ import annotations

import httpx
import numpy as np

from app.inference.base import PredictedMask
from app.inference.candidates import CandidatePicks
from app.masks import decode_rle
from tests.e2e.conftest import upload_images
from tests.e2e.test_local_decoder import iou, open_annotator

# A click where the tiny SAM's three candidates are close in predicted IoU (after clipping):
# a few picks reorder them, and two tie at 0, so ties must break as the server's do.
CLICK = (0.45, 0.55)
PAGE_CANDIDATES = """async () => {
  const { encodeRle } = await import("/static/js/rle.js");
  const a = window.lassolabelAnnotator;
  return a.state.answer.masks.map((m) => ({
    token: m.token, rle: encodeRle(a.upscaler.mask(m.logits, m.frame)) }));
}"""


def counts(api: httpx.Client, project_id: int) -> list[int]:
    return api.get(f"/api/projects/{project_id}/candidate-picks").json()["counts"]


def click(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """A first click at CLICK (no prompts before it) -> the page's candidates, shown order."""
    box = page.locator("#annotator-canvas").bounding_box()
    page.evaluate("window.previousAnswer = window.lassolabelAnnotator.state.answer")
    page.mouse.click(box["x"] + box["width"] * CLICK[0], box["y"] + box["height"] * CLICK[1])
    page.wait_for_function(
        "window.lassolabelAnnotator.state.answer"
        " && window.lassolabelAnnotator.state.answer !== window.previousAnswer",
        timeout=60_000,
    )
    return page.evaluate(PAGE_CANDIDATES)


def save_candidate(page, index: int) -> None:  # type: ignore[no-untyped-def]
    """Tab to the index-th candidate, Enter; wait for the save and the picks' refresh."""
    for _ in range(index):
        page.keyboard.press("Tab")
    with page.expect_response(lambda r: "/candidate-picks" in r.url):
        page.keyboard.press("Enter")


def assert_same_as_predict(page, api: httpx.Client, image_id: int, shown: list[dict]) -> None:  # type: ignore[no-untyped-def]
    points = page.evaluate("window.lassolabelAnnotator.state.prompts.points")
    server = api.post(
        f"/api/images/{image_id}/predict", json={"points": points, "point_labels": [1]}
    ).json()["masks"]
    assert len(server) == len(shown) == 3
    for mine, theirs in zip(shown, server, strict=True):
        assert iou(decode_rle(mine["rle"]), decode_rle(theirs["rle"])) >= 0.99


def test_page_learns_picks_and_ranks_candidates_as_predict(  # type: ignore[no-untyped-def]
    page, api: httpx.Client, project: dict
) -> None:
    """Saving the last candidate from the page counts its token on the server; after a few
    such saves the page shows it first, and so does /predict for the same click."""
    (image,) = upload_images(api, project["id"], 1, size=(320, 240))
    open_annotator(page, project["id"], image["id"])
    assert page.evaluate("document.body.dataset.decoder") == "local"
    shown = click(page)
    assert_same_as_predict(page, api, image["id"], shown)
    top, target = shown[0]["token"], shown[-1]["token"]
    saves = 0
    while shown[0]["token"] != target:
        assert saves < 8, f"the last candidate never came first: {shown}"
        save_candidate(page, [c["token"] for c in shown].index(target))
        saves += 1
        assert counts(api, project["id"])[target] == saves
        shown = click(page)
    assert saves >= 1 and target != top
    assert sum(counts(api, project["id"])) == saves
    assert_same_as_predict(page, api, image["id"], shown)


def test_page_order_is_the_servers(page) -> None:  # type: ignore[no-untyped-def]
    """candidate-picks.js' orderCandidates gives CandidatePicks.order's tokens on the same
    scores and counts, ties (clipped scores at 0 or 1) included."""
    page.goto("/")
    rng = np.random.default_rng(1)
    empty = np.zeros((4, 4), bool)
    for case in range(40):
        scores = np.clip(rng.normal(0.5, 0.5, 3), 0, 1).astype(np.float32).tolist()
        offered = list(zip(rng.permutation([1, 2, 3]).tolist(), scores, strict=True))
        picks = CandidatePicks()
        for token in rng.integers(1, 4, int(rng.integers(0, 30))):
            picks.kept(1, 1, {}, int(token))
        masks = [PredictedMask(empty, s, empty, token=t) for t, s in offered]
        expected = [m.token for m in picks.order(1, masks)]
        got = page.evaluate(
            """async ([masks, picks]) => {
              const { orderCandidates } = await import("/static/js/candidate-picks.js");
              return orderCandidates(masks, picks).map((m) => m.token);
            }""",
            [
                [{"token": t, "score": s} for t, s in offered],
                {"weight": picks.weight, "counts": picks.counts(1)},
            ],
        )
        assert got == expected, (case, offered, picks.counts(1))
