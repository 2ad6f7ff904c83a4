"""Annotator: click -> mask overlay, Enter -> segment, undo/redo, with the tiny random SAM."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import screenshot, upload_images
from tests.e2e.mask_tools import H, W, open_with_square, square_rle


def overlay_pixels(page) -> int:  # type: ignore[no-untyped-def]
    """Non-transparent pixels of the candidate mask layer (image resolution)."""
    return page.evaluate(
        """() => {
            const layer = window.lassolabelAnnotator.state.maskLayer;
            if (!layer) return 0;
            const data = layer.getContext("2d").getImageData(0, 0, layer.width, layer.height).data;
            let n = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i]) n++;
            return n;
        }"""
    )


def test_click_accept_undo_redo(page, api: httpx.Client, project: dict) -> None:  # type: ignore[no-untyped-def]
    images = upload_images(api, project["id"], 2, size=(320, 240))
    label = api.post(
        f"/api/projects/{project['id']}/labels", json={"name": "cat", "color": "#ff0000"}
    ).json()
    page.goto(f"/projects/{project['id']}/annotate?image={images[0]['id']}")
    canvas = page.locator("#annotator-canvas")
    page.wait_for_function("window.lassolabelAnnotator?.state.image")
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("body[data-annotator=mask]", timeout=120_000)
    candidates = page.locator("#candidates button")
    assert candidates.count() >= 1
    # The overlay is the chosen candidate decoded at image resolution: same pixel count as its area.
    size, area = page.evaluate(
        """() => { const s = window.lassolabelAnnotator.state;
                   return [[s.maskLayer.width, s.maskLayer.height], s.answer.masks[s.chosen].area]; }"""
    )
    assert size == [320, 240]
    assert overlay_pixels(page) == area
    if candidates.count() > 1:
        page.keyboard.press("Tab")
        assert candidates.nth(1).get_attribute("class") == "active"
    screenshot(page, "annotator")

    page.keyboard.press("Enter")
    page.wait_for_selector("#segment-list li")
    segments = api.get(f"/api/images/{images[0]['id']}/segments").json()
    segments = segments["segments"]
    assert [s["label_id"] for s in segments] == [label["id"]]

    page.keyboard.press("Control+z")
    page.wait_for_function("document.querySelectorAll('#segment-list li').length === 0")
    assert api.get(f"/api/images/{images[0]['id']}/segments").json()["segments"] == []
    page.keyboard.press("Control+Shift+z")
    page.wait_for_selector("#segment-list li")
    assert len(api.get(f"/api/images/{images[0]['id']}/segments").json()["segments"]) == 1
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"location.search === '?image={images[1]['id']}'")


def test_a_segment_made_before_the_live_stream_opens_still_appears(
    page, api: httpx.Client, project: dict
) -> None:  # type: ignore[no-untyped-def]
    """The event stream replays nothing from before its first hello, so a segment someone
    makes between the page's first read and then reaches the page by a second read."""
    held = []  # the stream's requests, waiting until released
    page.route("**/api/projects/*/events", lambda route: held.append(route))
    image, _ = open_with_square(page, api, project)
    other = api.post(
        f"/api/images/{image['id']}/segments", json={"rle": square_rle(H, W, (200, 80, 240, 160))}
    ).json()
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert page.locator(f"#segment-list li[data-segment-id='{other['id']}']").count() == 0
    for route in held:
        route.continue_()
    page.unroute("**/api/projects/*/events")
    page.wait_for_selector("body[data-live=open]")
    page.wait_for_selector(f"#segment-list li[data-segment-id='{other['id']}']")
