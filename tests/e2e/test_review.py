"""Review page: suggestions from the real propagate job (plus one exemplar proposal) accepted
above a threshold, walked from the keyboard (reject, correct with a digit, accept), refreshed
by other users' changes, and started from the page when there are none. Names are text."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from app.similar.exemplar_job import DEFAULT_MIN_SCORE
from tests.e2e.conftest import screenshot, upload_images
from tests.e2e.review_seed import labels_on_map, propagate, seed_clusters, suggestions
from tests.e2e.seed import seed_proposal


@pytest.fixture
def reviewed(api: httpx.Client, server, project: dict) -> dict:  # type: ignore[no-untyped-def]
    seeded = seed_clusters(api, server.data_dir, project)
    propagate(api, seeded["pid"])
    return seeded


def open_review(page, pid: int) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/projects/{pid}/review")
    page.wait_for_selector("body[data-review-ready=true]")


def wait_total(page, n: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(f"#review-total:text('{n} to review')")


def current(page) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    card = page.locator(".review-card[aria-selected=true]")
    return int(card.get_attribute("data-segment-id")), card.get_attribute("data-kind")


def test_accept_everything_above_a_threshold(page, api: httpx.Client, reviewed: dict) -> None:  # type: ignore[no-untyped-def]
    pid = reviewed["pid"]
    items = suggestions(api, pid)["items"]
    assert len(items) == 51  # 60 segments, 9 labelled
    open_review(page, pid)
    wait_total(page, 51)
    confidences = sorted(s["confidence"] for s in items)
    threshold = round(confidences[len(confidences) // 2], 2)
    above = [s for s in items if s["confidence"] >= threshold]
    assert 0 < len(above) < len(items)
    page.fill("#review-threshold-value", str(threshold))
    page.wait_for_selector(f"#review-accept-all[data-count='{len(above)}']")
    assert f"Accept {len(above)} ≥ {threshold:.2f}" == page.text_content("#review-accept-all")
    page.click("#review-accept-all")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    wait_total(page, len(items) - len(above))
    labels = labels_on_map(api, pid)
    assert all(labels[s["segment_id"]] == s["label_id"] for s in above)
    assert all(labels[s["segment_id"]] is None for s in items if s not in above)
    # The markup label is shown as its own text and never parsed.
    names = page.locator(".review-card .label-name").all_text_contents()
    assert (
        reviewed["labels"][2]["name"] in names + page.locator("#review-labels").all_text_contents()
    )
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src='x']").count() == 0


def test_walk_the_uncertain_ones_from_the_keyboard(
    page, api: httpx.Client, server, reviewed: dict
) -> None:  # type: ignore[no-untyped-def]
    pid, (cat, dog, _) = reviewed["pid"], reviewed["labels"]
    proposal = seed_proposal(  # an exemplar proposal: a new segment, suggested as a cat
        server.data_dir,
        project_id=pid,
        image=reviewed["image"],
        label_id=cat["id"],
        confidence=0.01,
    )
    uncertain = suggestions(api, pid, order="uncertain", kind="propagate")["items"]
    open_review(page, pid)
    wait_total(page, 52)
    assert current(page) == (proposal, "exemplar")
    assert page.locator(".review-card[aria-selected=true] .badge").text_content() == "exemplar"
    screenshot(page, "review")

    page.keyboard.press("r")
    wait_total(page, 51)
    assert suggestions(api, pid, kind="exemplar")["total"] == 0
    assert api.get(f"/api/segments/{proposal}").status_code == 404  # a rejected proposal goes
    assert current(page) == (uncertain[0]["segment_id"], "propagate")

    page.keyboard.press("ArrowRight")
    assert current(page)[0] == uncertain[1]["segment_id"]
    page.keyboard.press("2")  # not the suggestion: dog, through the ordinary assign
    wait_total(page, 50)
    assert labels_on_map(api, pid)[uncertain[1]["segment_id"]] == dog["id"]
    assert current(page)[0] == uncertain[2]["segment_id"]

    page.keyboard.press("ArrowLeft")
    page.keyboard.press("a")
    wait_total(page, 49)
    first = uncertain[0]
    assert labels_on_map(api, pid)[first["segment_id"]] == first["label_id"]

    # Someone else labels a listed segment: it leaves this page's queue by itself.
    other = uncertain[5]["segment_id"]
    assert page.locator(f".review-card[data-segment-id='{other}']").count() == 1
    api.post(f"/api/projects/{pid}/assign", json={"segment_ids": [other], "label_id": cat["id"]})
    wait_total(page, 48)
    assert page.locator(f".review-card[data-segment-id='{other}']").count() == 0


def test_run_propagate_from_the_review_page(page, api: httpx.Client, server, project: dict) -> None:  # type: ignore[no-untyped-def]
    seeded = seed_clusters(api, server.data_dir, project)
    open_review(page, seeded["pid"])
    wait_total(page, 0)
    assert "Run propagate" in page.text_content("#review-empty")
    page.uncheck("#review-embed-missing")  # the vectors are seeded; this server has no embedder
    page.click("#review-propagate")
    page.wait_for_selector("#review-jobs li[data-state=succeeded]")
    wait_total(page, 51)
    assert page.locator(".review-card").count() == 51


def test_find_more_with_sam_from_the_review_page(page, api: httpx.Client, project: dict) -> None:  # type: ignore[no-untyped-def]
    """The exemplar job started from the page (tiny SAM): its proposals arrive in the queue.
    The page offers the benchmarked min_score; the tiny random SAM scores below it, so the
    test lowers it, which proves the page's value reaches the job."""
    from app.masks import encode_rle

    pid = project["id"]
    images = upload_images(api, pid, 3)
    label = api.post(f"/api/projects/{pid}/labels", json={"name": "<b>blob</b>"}).json()
    mask = np.zeros((120, 160), bool)
    mask[30:80, 40:110] = True
    exemplar = {"rle": encode_rle(mask), "label_id": label["id"]}
    assert api.post(f"/api/images/{images[0]['id']}/segments", json=exemplar).status_code == 201
    open_review(page, pid)
    assert page.locator("#review-exemplar-label option").all_text_contents() == ["<b>blob</b>"]
    page.fill("#review-exemplar-count", "2")
    assert float(page.input_value("#review-exemplar-min-score")) == DEFAULT_MIN_SCORE
    page.fill("#review-exemplar-min-score", "0")
    page.click("#review-exemplar")
    page.wait_for_selector("#review-jobs li[data-state=succeeded]", timeout=120_000)
    job = api.get(f"/api/projects/{pid}/jobs").json()["items"][0]
    assert (job["kind"], job["params"]) == (
        "exemplar",
        {"label_id": label["id"], "max_per_image": 2, "min_score": 0},
    )
    found = suggestions(api, pid, kind="exemplar")["total"]
    assert found > 0  # seeded tiny SAM and images: the same proposals every run
    wait_total(page, found)
    assert page.locator(".review-card[data-kind=exemplar]").count() == found
