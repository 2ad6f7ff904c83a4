"""Polygon vertex editing in the annotator: O shows the selected segment's outline as rings
with vertices; dragging one, clicking an edge (then dragging), right-click and Delete on a
vertex each commit one versioned polygon edit the server rasterises; Ctrl+Z undoes it."""

from __future__ import annotations

import math

import httpx

from tests.e2e.conftest import screenshot
from tests.e2e.mask_tools import at, open_with_square, segment, select, stroke

RINGS = "() => window.lassolabelAnnotator.polygon.shape.rings"


def nearest_vertex(page, x: float, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    points = [p for ring in page.evaluate(RINGS) for p in ring]
    return min(points, key=lambda p: math.dist(p, (x, y)))


def saved(page, version: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(f"body[data-mask-saved='{version}']")


def right(box: list[float]) -> float:
    return box[0] + box[2]


def bottom(box: list[float]) -> float:
    return box[1] + box[3]


def test_polygon_vertices_drag_add_remove_and_undo(page, api: httpx.Client, project: dict) -> None:  # type: ignore[no-untyped-def]
    _, made = open_with_square(page, api, project)
    select(page, made["id"], 140, 120)
    page.keyboard.press("o")
    page.wait_for_selector("body[data-mask-tool=polygon]")
    page.wait_for_selector("body[data-polygon-vertices]", state="attached")
    count = len([p for ring in page.evaluate(RINGS) for p in ring])
    assert 4 <= count <= 12  # a square: its corners, not one vertex per boundary pixel

    corner = nearest_vertex(page, 180, 80)
    stroke(page, [corner, (215, 45)])  # drag the top-right corner out
    saved(page, 2)
    grown = segment(api, made["id"])
    assert grown["area"] > made["area"] + 500 and right(grown["bbox"]) >= 210
    screenshot(page, "mask-polygon")

    stroke(page, [(140, 160), (140, 200)])  # press on the bottom edge: a new vertex, dragged
    saved(page, 3)
    assert len([p for ring in page.evaluate(RINGS) for p in ring]) == count + 1
    assert bottom(segment(api, made["id"])["bbox"]) >= 195

    page.mouse.click(*at(page, *nearest_vertex(page, 140, 200)), button="right")  # remove it
    saved(page, 4)
    assert bottom(segment(api, made["id"])["bbox"]) <= 161

    page.mouse.click(*at(page, *nearest_vertex(page, 215, 45)))  # select a vertex ...
    page.keyboard.press("Delete")  # ... and delete it, not the segment
    saved(page, 5)
    page.keyboard.press("Delete")  # no vertex selected now: still never the segment
    page.wait_for_selector("#annotator-message:text('Click a vertex first')")
    back = segment(api, made["id"])
    assert right(back["bbox"]) <= 181 and back["version"] == 5

    page.keyboard.press("Control+z")
    page.wait_for_function(
        "(id) => window.lassolabelAnnotator.store.items.find((s) => s.id === id).version === 6",
        arg=made["id"],
    )
    undone = segment(api, made["id"])
    assert right(undone["bbox"]) >= 210 and bottom(undone["bbox"]) <= 161  # the vertex is back
    page.wait_for_function(f"({RINGS})().flat().some(([x, y]) => x > 205 && y < 55)")
    kinds = [b["kind"] for b in api.get(f"/api/projects/{project['id']}/history").json()["items"]]
    assert kinds[:5] == ["edit"] * 5
