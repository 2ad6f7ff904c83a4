"""SAM's decoder in the page (onnxruntime-web): served by the app, equal to /predict, hover
previews without requests, and the /predict fallback when WebAssembly is missing."""

from __future__ import annotations

from urllib.parse import urlparse

import cv2
import httpx
import numpy as np
import pytest

from app.inference.refinement import added_near_click, refining_token
from app.masks import decode_rle
from tests.e2e.conftest import screenshot, upload_images

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def model_id(api: httpx.Client) -> str:
    return api.get("/api/health").json()["segmenter"]["model_id"]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def blobs(rng: np.random.Generator, quantile: float, sigma: float) -> np.ndarray:
    """256x256 logits of smoothed noise, positive on the (1 - quantile) share of the grid."""
    noise = cv2.GaussianBlur(rng.normal(0, 1, (256, 256)), (0, 0), sigma)
    return (noise - np.quantile(noise, quantile)).astype(np.float32)


def open_annotator(page, project_id: int, image_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Open the annotator; -> the list that collects every request URL from now on."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"/projects/{project_id}/annotate?image={image_id}&decoder=local")
    page.wait_for_function("window.lassolabelAnnotator?.state.image")
    page.wait_for_function("document.body.dataset.decoder", timeout=60_000)
    return requests


def test_decoder_onnx_has_strong_etag(api: httpx.Client) -> None:
    etags = set()
    for query in ("", "?part=full", "?part=image", "?part=prompt"):
        url = f"/api/models/{model_id(api)}/decoder.onnx{query}"
        first = api.get(url)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert etag.startswith('"') and not etag.startswith("W/")
        assert len(first.content) > 1000
        again = api.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["etag"] == etag
        etags.add(etag)
    assert len(etags) == 3  # no part is the full graph
    assert api.get("/api/models/not-this-model/decoder.onnx").status_code == 404
    assert api.get(f"/api/models/{model_id(api)}/decoder.onnx?part=other").status_code == 422


def test_pages_are_cross_origin_isolated(api: httpx.Client, project: dict) -> None:
    for url in ("/", f"/projects/{project['id']}/annotate"):
        headers = api.get(url).headers
        assert headers["cross-origin-opener-policy"] == "same-origin"
        assert headers["cross-origin-embedder-policy"] == "require-corp"


def test_local_click_matches_server(page, api: httpx.Client, project: dict) -> None:  # type: ignore[no-untyped-def]
    images = upload_images(api, project["id"], 1, size=(320, 240))
    requests = open_annotator(page, project["id"], images[0]["id"])
    assert page.evaluate("document.body.dataset.decoder") == "local"
    assert page.evaluate("self.crossOriginIsolated")
    # A first click has no mask input: the prompt graph on the image graph's outputs answers it.
    assert page.evaluate("window.lassolabelAnnotator.predictor.local.split")
    box = page.locator("#annotator-canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
    page.wait_for_selector("body[data-annotator=mask]", timeout=60_000)
    assert page.evaluate("window.lassolabelAnnotator.state.answer.local")
    points = page.evaluate("window.lassolabelAnnotator.state.prompts.points")
    screenshot(page, "annotator-local-decoder")
    page.keyboard.press("Enter")
    page.wait_for_selector("#segment-list li")

    (segment,) = api.get(f"/api/images/{images[0]['id']}/segments").json()["segments"]
    server = api.post(
        f"/api/images/{images[0]['id']}/predict", json={"points": points, "point_labels": [1]}
    ).json()
    local_mask = decode_rle(segment["rle"])
    server_mask = decode_rle(server["masks"][0]["rle"])
    assert local_mask.shape == (240, 320)
    assert iou(local_mask, server_mask) >= 0.99
    assert any("/decoder.onnx?part=prompt" in u for u in requests)
    assert not [u for u in requests if urlparse(u).hostname not in LOCAL_HOSTS]
    assert not [u for u in requests if u.endswith("/predict")]


def click_at(page, fraction_x: float, fraction_y: float = 0.5) -> None:  # type: ignore[no-untyped-def]
    """Click the canvas at a fraction of its size and wait for the new answer."""
    box = page.locator("#annotator-canvas").bounding_box()
    page.evaluate("window.previousAnswer = window.lassolabelAnnotator.state.answer")
    page.mouse.click(box["x"] + box["width"] * fraction_x, box["y"] + box["height"] * fraction_y)
    page.wait_for_function(
        "window.lassolabelAnnotator.state.answer"
        " && window.lassolabelAnnotator.state.answer !== window.previousAnswer",
        timeout=60_000,
    )


def accepted_mask(page, api: httpx.Client, image_id: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Accept the shown mask (Enter) and read it back from the server."""
    page.keyboard.press("Enter")
    page.wait_for_selector("#segment-list li")
    (segment,) = api.get(f"/api/images/{image_id}/segments").json()["segments"]
    return decode_rle(segment["rle"])


def server_refinement(api: httpx.Client, image_id: int, points: list, candidate: int) -> dict:
    """/predict for the first point, then each next point refining the last answer (the
    first answer's `candidate`-th mask), as the annotator does."""
    url = f"/api/images/{image_id}/predict"
    answer = api.post(url, json={"points": points[:1], "point_labels": [1]}).json()
    handle = answer["masks"][candidate]["handle"]
    for n in range(2, len(points) + 1):
        body = {"points": points[:n], "point_labels": [1] * n, "mask_input": handle}
        answer = api.post(url, json=body | {"multimask": False}).json()
        handle = answer["mask_input"]
    return answer


@pytest.mark.parametrize("candidate", [0, 1])
def test_refining_clicks_refine_the_chosen_mask_as_the_server_does(  # type: ignore[no-untyped-def]
    page, api: httpx.Client, project: dict, candidate: int
) -> None:
    """The second click refines the candidate on screen (Tab chose it) with one mask: SAM's
    single mask; the third refines that under the refinement rule (refinement.js). Each is
    the server's answer to the same clicks."""
    images = upload_images(api, project["id"], 1, size=(320, 240))
    requests = open_annotator(page, project["id"], images[0]["id"])
    click_at(page, 0.4)
    for _ in range(candidate):
        page.keyboard.press("Tab")
    click_at(page, 0.6)
    click_at(page, 0.5, 0.3)
    answer = page.evaluate(
        "(() => { const a = window.lassolabelAnnotator.state.answer;"
        " return { local: a.local, n: a.masks.length, size: a.masks[0].logits.length }; })()"
    )
    assert answer == {"local": True, "n": 1, "size": 256 * 256}
    points = page.evaluate("window.lassolabelAnnotator.state.prompts.points")
    assert len(points) == 3
    local = accepted_mask(page, api, images[0]["id"])
    server = server_refinement(api, images[0]["id"], points, candidate)
    assert len(server["masks"]) == 1
    assert iou(local, decode_rle(server["masks"][0]["rle"])) >= 0.99
    assert not [u for u in requests if u.endswith("/predict")]


def test_refinement_rule_in_the_page_is_the_servers(page) -> None:  # type: ignore[no-untyped-def]
    """refinement.js' refiningToken gives app/inference/refinement.py's token on the same
    logits and scores, whether the single mask's predicted IoU holds or falls, whether the
    single mask keeps enough of the previous mask (cases 8, 9: it keeps about a fifth), and
    with or without the chain's candidate (cases 10-13: the single mask grown far past the
    previous mask, the candidate's token close to it)."""
    page.goto("/")
    rng, tokens = np.random.default_rng(0), []
    for case in range(14):
        logits = rng.normal(0, 4, (4, 256, 256)).astype(np.float32)
        near = -logits[0] if case >= 8 else logits[case % 4]
        previous = (near + rng.normal(0, 3, (256, 256))).astype(np.float32)
        scores = rng.uniform(0.3, 1.0, 4).astype(np.float32)
        previous_score = float(np.float32(rng.uniform(0.5, 1.0)))
        scores[0] = previous_score - (0.3 if case % 2 or case >= 8 else 0.01)  # falls, or not
        candidate = None
        if case >= 10:
            candidate = 1 + case % 3
            logits[candidate] = previous + rng.normal(0, 1, (256, 256))
            scores[0] = previous_score
        got = page.evaluate(
            """async ([logits, scores, previous, previousScore, candidate]) => {
              const { refiningToken } = await import("/static/js/refinement.js");
              return refiningToken(Float32Array.from(logits), scores,
                                   Float32Array.from(previous), previousScore, candidate);
            }""",
            [logits.ravel().tolist(), scores.tolist(), previous.ravel().tolist(),
             previous_score, candidate],
        )  # fmt: skip
        assert got == refining_token(logits, scores, previous, previous_score, candidate), case
        tokens.append(got)
    assert set(tokens[:8]) > {0}
    assert tokens[8:10] == [0, 0]
    assert tokens[10:] == [1 + case % 3 for case in range(10, 14)]


def test_trimming_clicks_in_the_page_are_the_servers(page) -> None:  # type: ignore[no-untyped-def]
    """Negative clicks on a mask, where the single mask keeps little of it or leaves the chosen
    candidate: refinement.js and refinement.py agree on whether each trims the mask (near its
    edge: the token closest to it, or the candidate's token) or says "not this object" (deep
    inside: the single mask), on blobs of every shape and depth, the grid's border included."""
    page.goto("/")
    rng = np.random.default_rng(1)
    previous = blobs(rng, 0.6, 12)  # 40% inside, many shapes
    inside = np.argwhere(previous > 0)
    clicks = [(int(x), int(y), False) for y, x in inside[rng.choice(len(inside), 40)]]
    clicks += [(0, 0, False), (255, 255, False), (128, 0, True)]
    logits = np.stack([-previous, previous - 1, previous, previous + 0.01]).astype(np.float32)
    for x, y, _ in clicks:
        logits[3, y, x] = -1.0  # the candidate's token (3) honours every click
    cases = [([0.5, 0.9, 0.9, 0.9], None), ([0.9, 0.9, 0.9, 0.9], 3)]  # falls; holds
    got = page.evaluate(
        """async ([logits, previous, clicks, cases]) => {
          const { refiningToken } = await import("/static/js/refinement.js");
          const [l, p] = [Float32Array.from(logits), Float32Array.from(previous)];
          return cases.map(([scores, candidate]) =>
            clicks.map((click) => refiningToken(l, scores, p, 0.9, candidate, click)));
        }""",
        [logits.ravel().tolist(), previous.ravel().tolist(), clicks, cases],
    )
    for (scores, candidate), tokens in zip(cases, got, strict=True):
        python = [refining_token(logits, np.array(scores), previous, 0.9, candidate, click)
                  for click in clicks]  # fmt: skip
        assert tokens == python
        assert set(tokens[:40]) == {0, 2 if candidate is None else 3}  # trims and "not this"


def test_spreading_clicks_in_the_page_are_the_servers(page) -> None:  # type: ignore[no-untyped-def]
    """Positive clicks outside the mask whose single mask adds pieces at and away from them:
    refinement.js and refinement.py compute the same share of the added pixels that touch the
    click (pieces 8-connected, on speckle joined at corners too) and answer the same token."""
    page.goto("/")
    rng = np.random.default_rng(2)
    previous = blobs(rng, 0.8, 6)
    for extra in (blobs(rng, 0.95, 10), blobs(rng, 0.85, 1.5)):  # large pieces; speckle
        left = np.where(np.arange(256) < 128, extra, -1.0).astype(np.float32)
        logits = np.stack(
            [np.maximum(previous, extra), previous, np.maximum(previous, left), extra]
        )
        grown = np.argwhere((logits[0] > 0) & (previous <= 0))
        clicks = [(int(x), int(y), True) for y, x in grown[rng.choice(len(grown), 40)]]
        shares, tokens = page.evaluate(
            """async ([logits, previous, clicks]) => {
              const { addedNearClick, refiningToken } = await import("/static/js/refinement.js");
              const [l, p] = [Float32Array.from(logits), Float32Array.from(previous)];
              return [clicks.map((click) => addedNearClick(l, p, click)),
                      clicks.map((click) => refiningToken(l, [0.9, 0.9, 0.9, 0.9], p, 0.9, null,
                                                          click, { near: 0.1 }))];
            }""",
            [logits.ravel().tolist(), previous.ravel().tolist(), clicks],
        )
        single = logits[0] > 0
        assert shares == [added_near_click(single, previous > 0, click) for click in clicks]
        holds = np.full(4, 0.9)
        assert tokens == [refining_token(logits, holds, previous, 0.9, None, click, near=0.1)
                          for click in clicks]  # fmt: skip
    assert len(set(tokens)) > 1
