"""Driving the annotator's mask tools from a test: image pixels -> mouse positions, strokes."""

from __future__ import annotations

import httpx
import numpy as np

from app.masks import encode_rle
from tests.e2e.conftest import upload_images

W, H = 320, 240  # the image open_with_square uploads

SCREEN = """([x, y]) => {
  const { view } = window.lassolabelAnnotator;
  const rect = document.querySelector("#annotator-canvas").getBoundingClientRect();
  const [sx, sy] = view.toScreen(x, y);
  return [rect.left + sx, rect.top + sy];
}"""


def at(page, x: float, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Client coordinates of canonical image pixel (x, y)."""
    sx, sy = page.evaluate(SCREEN, [x, y])
    return sx, sy


def square_rle(height: int, width: int, box: tuple[int, int, int, int], hole: int = 0) -> dict:
    """A filled XYXY box (with a centred square hole of side `hole` when > 0)."""
    mask = np.zeros((height, width), bool)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = True
    if hole:
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        mask[cy - hole // 2 : cy + hole // 2, cx - hole // 2 : cx + hole // 2] = False
    return encode_rle(mask)


def select(page, segment_id: int, x: float, y: float) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+click the segment at image pixel (x, y) (the stated select gesture)."""
    page.mouse.move(*at(page, x, y))
    page.keyboard.down("Control")
    page.mouse.down()
    page.mouse.up()
    page.keyboard.up("Control")
    page.wait_for_selector(f"#segment-list li.selected[data-segment-id='{segment_id}']")


def stroke(page, points: list[tuple[float, float]]) -> None:  # type: ignore[no-untyped-def]
    """A left-button drag through image pixels `points`."""
    page.mouse.move(*at(page, *points[0]))
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(*at(page, x, y), steps=4)
    page.mouse.up()


def segment(api: httpx.Client, segment_id: int) -> dict:
    return api.get(f"/api/segments/{segment_id}").json()


def open_with_square(page, api: httpx.Client, project: dict, hole: int = 0) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """A WxH image with one segment, the square (100, 80)-(180, 160) XYXY, open in the
    annotator; returns (image, segment)."""
    image = upload_images(api, project["id"], 1, size=(W, H))[0]
    made = api.post(
        f"/api/images/{image['id']}/segments",
        json={"rle": square_rle(H, W, (100, 80, 180, 160), hole)},
    ).json()
    page.goto(f"/projects/{project['id']}/annotate?image={image['id']}")
    page.wait_for_function("window.lassolabelAnnotator?.state.image")
    page.wait_for_selector(f"#segment-list li[data-segment-id='{made['id']}']")
    return image, made
