"""Correcting a mask in the annotator: brush and eraser strokes on the selected segment ([ and ]
size them), fill holes; each edit is one versioned PATCH (a stale one is refused with 409),
audited as an "edit" batch and undone with Ctrl+Z. The shortcut sheet lists every gesture and
Esc closes it on every page."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import screenshot
from tests.e2e.mask_tools import H, W, at, open_with_square, segment, select, square_rle, stroke


def test_brush_eraser_undo_and_history(page, api: httpx.Client, project: dict) -> None:  # type: ignore[no-untyped-def]
    _, made = open_with_square(page, api, project)
    select(page, made["id"], 140, 120)
    page.keyboard.press("b")
    page.wait_for_selector("body[data-mask-tool=brush]")
    page.keyboard.press("]")
    assert page.text_content("#brush-size") == "10px"
    stroke(page, [(170, 120), (230, 120)])  # out of the square's right side
    page.wait_for_selector("body[data-mask-saved='2']")
    grown = segment(api, made["id"])
    assert grown["version"] == 2 and grown["area"] > made["area"] + 500
    assert grown["bbox"][0] + grown["bbox"][2] >= 235  # XYWH: reaches the stroke's end
    screenshot(page, "mask-brush")

    page.keyboard.press("e")
    page.wait_for_selector("body[data-mask-tool=eraser]")
    page.keyboard.press("[")
    page.keyboard.press("[")
    assert page.text_content("#brush-size") == "6px"
    stroke(page, [(140, 70), (140, 170)])  # a cut through the middle
    page.wait_for_selector("body[data-mask-saved='3']")
    cut = segment(api, made["id"])
    assert cut["area"] < grown["area"] - 500

    page.keyboard.press("Control+z")  # the eraser stroke comes back
    page.wait_for_function(
        "(id) => window.lassolabelAnnotator.store.items.find((s) => s.id === id).version === 4",
        arg=made["id"],
    )
    assert segment(api, made["id"])["area"] == grown["area"]
    kinds = [b["kind"] for b in api.get(f"/api/projects/{project['id']}/history").json()["items"]]
    assert kinds[:3] == ["edit", "edit", "edit"]


def test_fill_holes(page, api: httpx.Client, project: dict) -> None:  # type: ignore[no-untyped-def]
    _, made = open_with_square(page, api, project, hole=20)
    select(page, made["id"], 105, 85)
    page.click("#fill-holes")
    page.wait_for_selector("body[data-mask-saved='2']")
    assert segment(api, made["id"])["area"] == 80 * 80 == made["area"] + 400


def test_stale_edit_is_refused_not_overwritten(
    page, api: httpx.Client, project: dict, console
) -> None:  # type: ignore[no-untyped-def]
    console.expect(r"status of 409 \(Conflict\).*/api/segments/")
    page.route("**/api/projects/*/events", lambda route: route.fulfill(status=204))
    _, made = open_with_square(page, api, project)
    select(page, made["id"], 140, 120)
    theirs = square_rle(H, W, (10, 10, 50, 50))
    assert api.patch(f"/api/segments/{made['id']}", json={"rle": theirs}).status_code == 200
    page.keyboard.press("b")
    stroke(page, [(170, 120), (200, 120)])
    page.wait_for_selector("#annotator-error:text('changed since you loaded it')")
    assert segment(api, made["id"])["area"] == 1600  # theirs stands


def test_shortcut_sheet_lists_gestures_and_esc_closes_it_everywhere(
    page, api: httpx.Client, project: dict
) -> None:  # type: ignore[no-untyped-def]
    open_with_square(page, api, project)
    page.keyboard.press("?")
    page.wait_for_selector("#shortcuts[open]")
    sheet = page.text_content("#shortcut-table")
    for gesture in ("right-click", "drag", "wheel", "ctrl+click", "Select the segment", "[", "]"):
        assert gesture in sheet, gesture
    page.keyboard.press("Escape")
    page.wait_for_selector("#shortcuts", state="hidden")
    pid = project["id"]
    for path in (
        "/",
        "/admin",
        f"/projects/{pid}",
        f"/projects/{pid}/map",
        f"/projects/{pid}/review",
        f"/projects/{pid}/history",
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        page.click("#help-button")
        page.wait_for_selector("#shortcuts[open]")
        page.keyboard.press("Escape")
        page.wait_for_selector("#shortcuts", state="hidden")


def test_split_one_by_a_line_then_merge_two(page, api: httpx.Client, project: dict) -> None:  # type: ignore[no-untyped-def]
    image, square = open_with_square(page, api, project)
    other = api.post(
        f"/api/images/{image['id']}/segments",
        json={"rle": square_rle(H, W, (200, 80, 240, 160))},
    ).json()
    page.wait_for_selector(f"#segment-list li[data-segment-id='{other['id']}']")  # live
    select(page, square["id"], 140, 120)
    page.keyboard.press("s")
    page.wait_for_selector("body[data-mask-tool=cut]")
    stroke(page, [(140, 60), (140, 180)])
    page.wait_for_selector("body[data-split]")
    piece = int(page.evaluate("document.body.dataset.split"))
    kept, cut = segment(api, square["id"]), segment(api, piece)
    assert kept["area"] >= cut["area"] > 0
    assert kept["bbox"][0] + kept["bbox"][2] <= 141 <= cut["bbox"][0]  # left | right of x=140
    page.keyboard.press("Escape")  # tool off, selection cleared

    select(page, square["id"], 120, 120)
    page.keyboard.press("m")
    page.wait_for_selector("#annotator-message:text('merge into the selected one')")
    page.mouse.move(*at(page, 220, 120))
    page.keyboard.down("Control")
    page.mouse.down()
    page.mouse.up()
    page.keyboard.up("Control")
    page.wait_for_selector(f"body[data-merged='{square['id']}']")
    page.wait_for_selector(f"#segment-list li[data-segment-id='{other['id']}']", state="detached")
    assert segment(api, square["id"])["area"] == kept["area"] + 40 * 80
    assert api.get(f"/api/segments/{other['id']}").status_code == 404
    kinds = [b["kind"] for b in api.get(f"/api/projects/{project['id']}/history").json()["items"]]
    assert kinds[:2] == ["merge", "split"]

    page.keyboard.press("Control+z")  # the merge is undone: the other square is back
    page.wait_for_function("() => window.lassolabelAnnotator.store.items.length === 3")
    assert segment(api, square["id"])["area"] == kept["area"]


def test_history_page_undoes_mask_batches_and_refuses_stale_ones(
    page, api: httpx.Client, project: dict, console
) -> None:  # type: ignore[no-untyped-def]
    console.expect(r"status of 409 \(Conflict\).*/history/")
    image, square = open_with_square(page, api, project)  # the annotator stays open
    other = api.post(
        f"/api/images/{image['id']}/segments", json={"rle": square_rle(H, W, (200, 80, 240, 160))}
    ).json()
    api.post(f"/api/segments/{square['id']}/merge", json={"other_id": other["id"]})
    merged = segment(api, square["id"])
    api.patch(f"/api/segments/{square['id']}", json={"rle": square_rle(H, W, (0, 0, 10, 10))})
    pid = project["id"]
    edit, merge = api.get(f"/api/projects/{pid}/history").json()["items"][:2]
    annotator = page
    page = annotator.context.new_page()
    page.goto(f"/projects/{pid}/history")
    page.wait_for_selector("body[data-history-ready=true]")

    page.click(f"#batches tr[data-batch-id='{edit['id']}'] button")
    page.wait_for_selector("#status:text('are back as they were')")
    assert segment(api, square["id"])["area"] == merged["area"]
    page.click(f"#batches tr[data-batch-id='{merge['id']}'] button")
    page.wait_for_selector(f"#status:text('Step #{merge['id']} undone')")
    assert segment(api, other["id"])["area"] == other["area"]  # the merged-away one is back
    assert segment(api, square["id"])["area"] == square["area"]
    annotator.wait_for_selector(f"#segment-list li[data-segment-id='{other['id']}']")  # live

    api.patch(f"/api/segments/{other['id']}", json={"rle": square_rle(H, W, (0, 0, 20, 20))})
    mine = api.get(f"/api/projects/{pid}/history").json()["items"][0]
    api.patch(f"/api/segments/{other['id']}", json={"rle": square_rle(H, W, (0, 0, 30, 30))})
    page.reload()
    page.wait_for_selector("body[data-history-ready=true]")
    page.click(f"#batches tr[data-batch-id='{mine['id']}'] button")
    page.wait_for_selector("#history-error:text('changed since this batch; undo refused')")
    assert segment(api, other["id"])["area"] == 900  # the later edit stands
