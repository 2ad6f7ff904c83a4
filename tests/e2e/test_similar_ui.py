"""Map page: "more like this" shows a segment's nearest neighbours and selects them, one can be
left out, the usual assign labels the rest; the map colours by suggested label on demand."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.review_seed import labels_on_map, propagate, seed_clusters
from tests.e2e.test_map_page import canvas_rgb


def reddish_pixels(page) -> int:  # type: ignore[no-untyped-def]
    """Map pixels of the cat colour at half opacity or more over the dark background (a
    suggestion is drawn more opaque the more confident it is)."""
    r, g, b = canvas_rgb(page)
    return int(((r > 120) & (g < 60) & (b < 60)).sum())


@pytest.fixture
def seeded(api: httpx.Client, server, project: dict) -> dict:  # type: ignore[no-untyped-def]
    return seed_clusters(api, server.data_dir, project)


def cell_ids(page) -> list[int]:  # type: ignore[no-untyped-def]
    cells = page.locator("#similar-results .similar-cell")
    return [int(c.get_attribute("data-segment-id")) for c in cells.all()]


def test_more_like_this_selects_the_neighbours_for_assign(
    page, api: httpx.Client, seeded: dict
) -> None:  # type: ignore[no-untyped-def]
    pid, dogs = seeded["pid"], seeded["members"][1]
    dog = seeded["labels"][1]["id"]
    query, left_out = dogs[5], dogs[10]
    page.goto(f"/projects/{pid}/map?similar={query}")  # the review page's "More like this" link
    page.wait_for_selector("body[data-map-ready=true]")
    page.wait_for_selector("#similar-results .similar-cell >> nth=0")
    assert not page.locator("#similar-panel").is_hidden()
    page.fill("#similar-k", "19")
    page.press("#similar-k", "Enter")
    page.wait_for_selector("#similar-caption:text('19 nearest to segment')")
    assert cell_ids(page)[0] == query and set(cell_ids(page)) == set(dogs)
    distances = [
        float(t) for t in page.locator("#similar-results .caption").all_text_contents()[1:]
    ]
    assert distances == sorted(distances) and all(0 <= d < 1 for d in distances)
    page.wait_for_selector("#selection-count:text('20 selected')")
    selected = page.evaluate(
        "window.lassolabelMap.state.selected.map((p) => window.lassolabelMap.model.map.segmentId[p])"
    )
    assert set(selected) == set(dogs)

    page.click(f"#similar-results .similar-cell[data-segment-id='{left_out}']")
    page.wait_for_selector("#selection-count:text('19 selected')")
    assert "included" not in page.get_attribute(
        f"#similar-results .similar-cell[data-segment-id='{left_out}']", "class"
    )
    screenshot(page, "more-like-this")
    page.keyboard.press("2")
    page.keyboard.press("a")
    page.wait_for_selector("#map-message:text('19 segments now have')")
    labels = labels_on_map(api, pid)
    assert {s for s in dogs if labels[s] == dog} == set(dogs) - {left_out}
    assert labels[left_out] is None

    # From the selection gallery: a single segment's own "more like this" button.

    page.locator("#gallery .cell .similar-button").first.click()
    page.wait_for_selector("#selection-count:text('20 selected')")


def test_map_colours_by_suggested_label(page, api: httpx.Client, seeded: dict) -> None:  # type: ignore[no-untyped-def]
    pid, cats = seeded["pid"], seeded["members"][0]
    propagate(api, pid)
    page.goto(f"/projects/{pid}/map")
    page.wait_for_selector("body[data-map-ready=true]")
    page.wait_for_timeout(300)
    by_labels = reddish_pixels(page)  # the 3 cats labelled by hand
    page.select_option("#color-mode", "suggestions")
    page.wait_for_selector("body[data-color-by=suggestions]")
    page.wait_for_timeout(300)
    assert reddish_pixels(page) > by_labels  # the 17 suggested cats, hand-labelled ones dimmed
    # The hover card names the suggestion.
    point = page.evaluate(f"window.lassolabelMap.model.pointOf({cats[-1]})")
    x, y = page.evaluate(f"window.lassolabelMap.scatter.screenPosition({point})")
    box = page.locator("#map-canvas").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.wait_for_selector(".hover-note:text('suggested: cat')")
    screenshot(page, "map-suggestions")
    page.select_option("#color-mode", "labels")
    page.wait_for_selector("body[data-color-by=labels]")
    page.wait_for_timeout(300)
    assert reddish_pixels(page) == by_labels
