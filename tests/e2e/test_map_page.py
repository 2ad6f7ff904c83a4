"""Map page: points drawn in WebGL, programmatic lasso selects a known set, batch assign, undo."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.e2e.conftest import screenshot, upload_images
from tests.e2e.seed import seed_segments

RED = "#ff0000"


def canvas_rgb(page) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """The map canvas's red, green and blue channels (H, W) int."""
    shot = np.asarray(
        Image.open(io.BytesIO(page.locator("#map-canvas").screenshot())).convert("RGB")
    )
    r, g, b = (shot[..., i].astype(int) for i in range(3))
    return r, g, b


def red_pixels(page) -> int:  # type: ignore[no-untyped-def]
    """How many pixels of the map canvas are (nearly) the label colour."""
    r, g, b = canvas_rgb(page)
    return int(((r > 200) & (g < 60) & (b < 60)).sum())


def wait_text(page, selector: str, text: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "([s, t]) => document.querySelector(s)?.textContent === t", arg=[selector, text]
    )


def map_labels(api: httpx.Client, project_id: int) -> dict[int, int | None]:
    points = api.get(f"/api/projects/{project_id}/map", params={"format": "json"}).json()["points"]
    return {p["segment_id"]: p["label_id"] for p in points}


@pytest.fixture
def seeded(api: httpx.Client, server, project: dict) -> dict:  # type: ignore[no-untyped-def]
    """Two clusters: 400 points around (0.5, 0.5) and 1600 around (5, 5)."""
    image = upload_images(api, project["id"], 1)[0]
    image = api.get(f"/api/images/{image['id']}").json()
    rng = np.random.default_rng(0)
    xy = np.concatenate([rng.uniform(0, 1, (400, 2)), rng.uniform(4, 6, (1600, 2))]).astype(
        np.float32
    )
    ids = seed_segments(
        server.data_dir, project_id=project["id"], image=image, embedder=project["embedder"], xy=xy
    )
    cat = api.post(
        f"/api/projects/{project['id']}/labels", json={"name": "cat", "color": RED}
    ).json()
    return {"project": project, "ids": ids, "near": set(ids[:400]), "cat": cat}


def test_lasso_assign_recolours_and_undo(page, api: httpx.Client, seeded: dict) -> None:  # type: ignore[no-untyped-def]
    project_id = seeded["project"]["id"]
    page.goto(f"/projects/{project_id}/map")
    page.wait_for_selector("body[data-map-ready=true]")
    page.wait_for_timeout(300)  # one frame after the draw promise
    assert red_pixels(page) == 0

    page.evaluate(
        "window.lassolabelMap.lasso([[-0.2, -0.2], [1.2, -0.2], [1.2, 1.2], [-0.2, 1.2]])"
    )
    page.wait_for_selector("#selection-count:text('400 selected')")
    selected = page.evaluate(
        "window.lassolabelMap.state.selected.map((p) => window.lassolabelMap.model.map.segmentId[p])"
    )
    assert set(selected) == seeded["near"]
    assert page.text_content("#selection-breakdown") == "unlabelled400"

    # Clicking a gallery item removes it from the selection.
    removed = int(page.locator("#gallery .cell").first.get_attribute("data-segment-id"))
    page.locator("#gallery .cell").first.click()
    page.wait_for_selector("#selection-count:text('399 selected')")

    page.keyboard.press("1")
    page.keyboard.press("a")
    wait_text(page, "#selection-breakdown", "cat399")
    labels = map_labels(api, project_id)
    assert {s for s, label in labels.items() if label == seeded["cat"]["id"]} == seeded["near"] - {
        removed
    }
    page.wait_for_timeout(300)
    assert red_pixels(page) > 50
    assert "399 / 2000 labelled" in page.text_content("#project-progress")
    screenshot(page, "map")

    page.keyboard.press("Control+z")
    wait_text(page, "#selection-breakdown", "unlabelled399")
    assert set(map_labels(api, project_id).values()) == {None}
    page.wait_for_timeout(300)
    assert red_pixels(page) == 0


def test_map_filters_and_empty_state(page, api: httpx.Client, seeded: dict, project: dict) -> None:  # type: ignore[no-untyped-def]
    project_id = seeded["project"]["id"]
    api.post(
        f"/api/projects/{project_id}/assign",
        json={"segment_ids": seeded["ids"][:10], "label_id": seeded["cat"]["id"]},
    )
    page.goto(f"/projects/{project_id}/map")
    page.wait_for_selector("body[data-map-ready=true]")
    page.check("#filter-unlabelled")
    page.evaluate(
        "window.lassolabelMap.lasso([[-0.2, -0.2], [1.2, -0.2], [1.2, 1.2], [-0.2, 1.2]])"
    )
    page.wait_for_selector("#selection-count:text('390 selected')")
    page.uncheck("#filter-unlabelled")

    # Source and area come with the map: the seeded squares alternate manual/auto, 16 px each.
    assert page.locator("#filter-source option").all_text_contents() == ["any", "auto", "manual"]
    page.select_option("#filter-source", "manual")
    page.evaluate(
        "window.lassolabelMap.lasso([[-0.2, -0.2], [1.2, -0.2], [1.2, 1.2], [-0.2, 1.2]])"
    )
    page.wait_for_selector("#selection-count:text('200 selected')")
    page.select_option("#filter-source", "")
    page.fill("#filter-area-min", "17")
    page.dispatch_event("#filter-area-min", "change")
    page.wait_for_selector("#selection-count:text('0 selected')")
    page.fill("#filter-area-min", "16")
    page.fill("#filter-area-max", "16")
    page.dispatch_event("#filter-area-max", "change")
    page.evaluate(
        "window.lassolabelMap.lasso([[-0.2, -0.2], [1.2, -0.2], [1.2, 1.2], [-0.2, 1.2]])"
    )
    page.wait_for_selector("#selection-count:text('400 selected')")


def test_escape_on_a_project_with_no_map_yet(page, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    """No points placed: no scatter; Escape (deselect) must not throw."""
    empty = api.post("/api/projects", json={"name": "no map yet"}).json()
    page.goto(f"/projects/{empty['id']}/map")
    page.wait_for_selector("#map-message:text('No map yet')")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.wait_for_timeout(200)  # an uncaught error would reach the console guard


def test_concurrent_redraws_wait_their_turn(page, seeded: dict) -> None:  # type: ignore[no-untyped-def]
    """Two recolours at once (an assign's and a live batch's): both draw, no library warning."""
    page.goto(f"/projects/{seeded['project']['id']}/map")
    page.wait_for_selector("body[data-map-ready=true]")
    drawn = page.evaluate(
        """async () => {
          const { scatter, model } = window.lassolabelMap;
          await Promise.all([1, 2, 3].map(() => scatter.recolor(model.categories, [], null)));
          return true;
        }"""
    )
    assert drawn
    assert page.locator("#assign-error").is_hidden()


def test_selection_gallery_is_visible_without_scrolling_at_1440x900(  # type: ignore[no-untyped-def]
    page, api: httpx.Client, seeded: dict
) -> None:
    project_id = seeded["project"]["id"]
    for name in ("dog", "bird", "car", "tree", "road", "sky", "person"):
        api.post(f"/api/projects/{project_id}/labels", json={"name": name})
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/projects/{project_id}/map")
    page.wait_for_selector("body[data-map-ready=true]")
    page.evaluate(
        "window.lassolabelMap.lasso([[-0.2, -0.2], [1.2, -0.2], [1.2, 1.2], [-0.2, 1.2]])"
    )
    page.wait_for_selector("#gallery .cell")
    box = page.locator("#gallery").bounding_box()
    assert box["y"] + 150 < 900, box  # at least two rows of thumbnails on screen
    assert page.evaluate("document.querySelector('.side').scrollTop") == 0
    screenshot(page, "map-1440x900")


def test_stale_assign_shows_the_other_writers_labels_then_overwrites(  # type: ignore[no-untyped-def]
    page, api: httpx.Client, seeded: dict, console
) -> None:
    """Writes behind the page's back (no live stream) make its assign a conflict, never an
    overwrite; the page shows the other writer's labels, and assigning again overwrites."""
    console.expect(r"status of 409 \(Conflict\).*/assign")
    project_id, cat, near = seeded["project"]["id"], seeded["cat"]["id"], seeded["ids"][:400]
    dog = api.post(f"/api/projects/{project_id}/labels", json={"name": "dog"}).json()["id"]
    page.route("**/api/projects/*/events", lambda route: route.fulfill(status=204))
    page.goto(f"/projects/{project_id}/map")
    page.wait_for_selector("body[data-map-ready=true]")
    page.evaluate(
        "window.lassolabelMap.lasso([[-0.2, -0.2], [1.2, -0.2], [1.2, 1.2], [-0.2, 1.2]])"
    )
    page.wait_for_selector("#selection-count:text('400 selected')")
    page.keyboard.press("1")

    def shown_labels(ids: list[int]) -> list[int | None]:
        return page.evaluate(
            "ids => ids.map((id) => lassolabelMap.model.labelIdAt(lassolabelMap.model.pointOf(id)))",
            ids,
        )

    # A short list of changes (detail.changed names them all), then one cut short at 100.
    for behind in (near[:2], near[100:250]):
        api.post(
            f"/api/projects/{project_id}/assign", json={"segment_ids": behind, "label_id": dog}
        ).raise_for_status()
        page.keyboard.press("a")
        wait_text(
            page,
            "#assign-error",
            f"{len(behind)} of the selected segments were changed by someone else since you "
            "loaded them: they now show the new labels. Assign again to overwrite.",
        )
        labels = map_labels(api, project_id)
        assert {labels[i] for i in behind} == {dog}  # the other writer's labels are kept
        assert shown_labels(behind) == [dog] * len(behind)
        assert sum(labels[i] == cat for i in near) == (0 if behind == near[:2] else 400 - 150)

        page.keyboard.press("a")
        wait_text(page, "#map-message", "400 segments now have “cat”")
        assert page.is_hidden("#assign-error")
        assert {map_labels(api, project_id)[i] for i in near} == {cat}
        assert set(shown_labels(near)) == {cat}

    # Undo bumps the versions on the server: the page knows it without the live stream.
    page.keyboard.press("Control+z")
    wait_text(page, "#map-message", "last batch undone")
    assert {map_labels(api, project_id)[i] for i in near[100:250]} == {dog}
    page.keyboard.press("a")
    wait_text(page, "#map-message", "400 segments now have “cat”")
    assert page.is_hidden("#assign-error")
