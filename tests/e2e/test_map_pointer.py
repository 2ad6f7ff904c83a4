"""Map page: selecting with the mouse (lasso, box, click, shift adds, alt subtracts), and an
assign recolouring the points from its receipt without downloading the map again."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.test_map_page import red_pixels, seeded, wait_text  # noqa: F401 (the `seeded` fixture)


def near_box(page) -> tuple[float, float, float, float]:  # type: ignore[no-untyped-def]
    """Page pixels (x0, y0, x1, y1) around the first 400 points (the cluster near (0.5, 0.5))."""
    x0, y0, x1, y1 = page.evaluate(
        """() => {
          const { scatter } = window.lassolabelMap;
          const xy = Array.from({ length: 400 }, (_, p) => scatter.screenPosition(p));
          const xs = xy.map((q) => q[0]), ys = xy.map((q) => q[1]);
          return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
        }"""
    )
    canvas = page.locator("#map-canvas").bounding_box()
    pad = 12
    return (
        canvas["x"] + x0 - pad,
        canvas["y"] + y0 - pad,
        canvas["x"] + x1 + pad,
        canvas["y"] + y1 + pad,
    )


def drag(page, points: list[tuple[float, float]], key: str | None = None) -> None:  # type: ignore[no-untyped-def]
    if key:
        page.keyboard.down(key)
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=3)
    page.mouse.up()
    if key:
        page.keyboard.up(key)


def selected(page) -> str:  # type: ignore[no-untyped-def]
    return page.text_content("#selection-count")


@pytest.fixture
def opened(page, seeded: dict) -> dict:  # type: ignore[no-untyped-def]  # noqa: F811
    page.goto(f"/projects/{seeded['project']['id']}/map")
    page.wait_for_selector("body[data-map-ready=true]")
    return seeded


def test_mouse_lasso_box_click_shift_and_alt(page, opened: dict) -> None:  # type: ignore[no-untyped-def]
    x0, y0, x1, y1 = near_box(page)
    drag(page, [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0 + 2)])
    page.wait_for_selector("#selection-count:text('400 selected')")

    page.keyboard.press("b")  # box: a corner-to-corner drag round everything, shift adds
    canvas = page.locator("#map-canvas").bounding_box()
    corners = [(canvas["x"] + 2, canvas["y"] + 2)]
    corners.append((canvas["x"] + canvas["width"] - 2, canvas["y"] + canvas["height"] - 2))
    drag(page, corners, "Shift")
    page.wait_for_selector("#selection-count:text('2000 selected')")
    drag(page, [(x0, y0), (x1, y1)], "Alt")  # alt subtracts the near cluster
    page.wait_for_selector("#selection-count:text('1600 selected')")

    px, py = page.evaluate("window.lassolabelMap.scatter.screenPosition(7)")
    page.mouse.click(canvas["x"] + px, canvas["y"] + py)  # a click picks the point under it
    page.wait_for_selector("#selection-count:text('1 selected')")
    assert page.evaluate("window.lassolabelMap.state.selected") == [7]
    page.mouse.click(*corners[1])  # nothing there: deselects
    page.wait_for_selector("#selection-count:text('0 selected')")


def test_assign_recolours_from_the_receipt_without_a_new_map(  # type: ignore[no-untyped-def]
    page, api: httpx.Client, opened: dict
) -> None:
    project_id = opened["project"]["id"]
    maps: list[str] = []
    page.on(
        "request",
        lambda r: r.url.split("?")[0].endswith(f"/{project_id}/map") and maps.append(r.url),
    )
    page.evaluate(
        "window.lassolabelMap.lasso([[-0.2, -0.2], [1.2, -0.2], [1.2, 1.2], [-0.2, 1.2]])"
    )
    page.wait_for_selector("#selection-count:text('400 selected')")
    page.keyboard.press("1")
    page.keyboard.press("a")
    wait_text(page, "#selection-breakdown", "cat400")
    page.wait_for_timeout(300)
    own = red_pixels(page)
    assert own > 50
    # Another user's assign reaches the page as a live batch and recolours it too.
    far = opened["ids"][400:800]
    api.post(
        f"/api/projects/{project_id}/assign",
        json={"segment_ids": far, "label_id": opened["cat"]["id"]},
    ).raise_for_status()
    page.wait_for_function(
        "ids => ids.every((id) => lassolabelMap.model.labelIdAt(lassolabelMap.model.pointOf(id)) !== null)",
        arg=far,
    )
    page.wait_for_function("document.body.dataset.livePainted !== undefined")
    page.wait_for_timeout(300)
    assert red_pixels(page) > own
    assert maps == []  # neither recolour downloaded the map


def test_pan_and_wheel_zoom_move_the_points_and_lasso_follows(page, opened: dict) -> None:  # type: ignore[no-untyped-def]
    canvas = page.locator("#map-canvas").bounding_box()
    position = "window.lassolabelMap.scatter.screenPosition(0)"
    x, y = page.evaluate(position)
    page.keyboard.press("p")
    cx, cy = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
    drag(page, [(cx, cy), (cx + 60, cy - 40)])
    assert page.evaluate(position) == pytest.approx([x + 60, y - 40], abs=1)
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, 300)  # zoom out round the pointer: points gather towards it
    page.wait_for_function(f"{position}[0] !== {x + 60}")
    nx, ny = page.evaluate(position)
    assert abs(nx - cx) < abs(x + 60 - cx) and abs(ny - cy) < abs(y - 40 - cy)
    # A mouse lasso in the moved view still selects the near cluster exactly.
    page.keyboard.press("l")
    x0, y0, x1, y1 = near_box(page)
    drag(page, [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0 + 2)])
    page.wait_for_selector("#selection-count:text('400 selected')")
    page.keyboard.press("r")  # reset: the fitted view again
    assert page.evaluate(position) == pytest.approx([x, y], abs=1)


def test_grid_lasso_equals_brute_force_on_random_polygons(page, server) -> None:  # type: ignore[no-untyped-def]
    """The grid (cells taken or skipped whole, points tested only where an edge passes) selects
    exactly what testing every point selects: concave, self-crossing and off-map polygons, with
    and without a filter."""
    page.goto("/")
    mismatches = page.evaluate(
        """async () => {
          const { createPointGrid, insidePolygon } = await import("/static/js/point-grid.js");
          let seed = 7;
          const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
          const n = 20000, xs = new Float32Array(n), ys = new Float32Array(n);
          for (let i = 0; i < n; i++) {
            xs[i] = (i % 5) * 3 + rand() * 2; ys[i] = rand() * rand() * 10;
          }
          const grid = createPointGrid(xs, ys);
          const shown = Uint8Array.from({ length: n }, () => (rand() < 0.7 ? 1 : 0));
          let bad = 0;
          for (let k = 0; k < 40; k++) {
            const polygon = Float64Array.from({ length: 2 * (3 + (k % 9)) }, () => rand() * 18 - 2);
            for (const filter of [null, shown]) {
              const got = grid.inPolygon(polygon, filter);
              const want = [];
              for (let p = 0; p < n; p++)
                if ((filter === null || filter[p]) && insidePolygon(polygon, xs[p], ys[p])) want.push(p);
              if (got.length !== want.length || want.some((p, i) => got[i] !== p)) bad++;
            }
          }
          return bad;
        }"""
    )
    assert mismatches == 0
