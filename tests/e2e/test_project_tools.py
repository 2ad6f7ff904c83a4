"""The project page's tools and the history page: label progress over every segment, progress
bars, distinct label colours, delete-label confirmation, per-image status and filters, job
durations, export with progress, ground-truth import with per-file errors, bulk accept that
says what it does and undoes in one step, history with undo."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
from PIL import Image

from app.masks import encode_rle
from tests.e2e.conftest import screenshot, upload_images
from tests.e2e.review_seed import propagate, seed_clusters


def square(image: dict, x: int, y: int, size: int = 20) -> dict:
    mask = np.zeros((image["height"], image["width"]), bool)
    mask[y : y + size, x : x + size] = True
    return encode_rle(mask)


def draw(api: httpx.Client, image: dict, label_id: int | None, x: int) -> dict:
    made = api.post(
        f"/api/images/{image['id']}/segments",
        json={"rle": square(image, x, 10), "label_id": label_id},
    )
    assert made.status_code == 201, made.text
    return made.json()


def brightness(element) -> float:  # type: ignore[no-untyped-def]
    shot = Image.open(io.BytesIO(element.screenshot())).convert("L")
    return float(np.asarray(shot).mean())


def test_labels_progress_colours_and_delete_confirmation(
    page, api: httpx.Client, project: dict, console
) -> None:  # type: ignore[no-untyped-def]
    pid = project["id"]
    image = api.get(f"/api/images/{upload_images(api, pid, 1)[0]['id']}").json()
    page.goto(f"/projects/{pid}")
    for name in ("cat", "dog"):  # the colour picker left alone both times
        page.fill("#create-label input[name=name]", name)
        page.click("#create-label button")
        page.wait_for_selector(f"#labels .label-name-input[value='{name}']", state="attached")
    colours = page.locator("#labels input[type=color]").evaluate_all(
        "(xs) => xs.map((x) => x.value)"
    )
    assert len(set(colours)) == 2, colours

    cat = next(
        lab
        for lab in api.get(f"/api/projects/{pid}/labels").json()["items"]
        if lab["name"] == "cat"
    )
    for x in (0, 30, 60):  # three labelled segments that no map has placed
        draw(api, image, cat["id"], x)
    draw(api, image, None, 90)
    page.reload()
    cat_row = page.locator(f"#labels tr[data-label-id='{cat['id']}']")
    page.wait_for_selector(f"#labels tr[data-label-id='{cat['id']}'] .meter-text:text-is('3 / 4')")
    dog_row = page.locator("#labels tr").nth(1)
    assert dog_row.locator(".meter-text").text_content() == "0 / 4"
    assert brightness(dog_row.locator("progress")) < 80  # an empty bar is dark, not white
    screenshot(page, "project-labels")

    # Deleting a label segments carry asks first; Cancel keeps it.
    cat_row.locator("button:text-is('Delete')").click()
    dialog = page.wait_for_selector("#confirm-dialog[open]")
    assert "3 segment(s) carry it" in page.text_content("#confirm-text")
    page.click("#confirm-cancel")
    page.wait_for_selector("#confirm-dialog", state="hidden")
    assert cat_row.count() == 1
    cat_row.locator("button:text-is('Delete')").click()
    page.click("#confirm-ok")
    page.wait_for_selector(f"#labels tr[data-label-id='{cat['id']}']", state="detached")
    assert dialog is not None
    # An unused label goes without a question.
    page.locator("#labels tr").first.locator("button:text-is('Delete')").click()
    page.wait_for_selector("#labels tr", state="detached")


def test_image_status_and_filters(page, api: httpx.Client, project: dict) -> None:  # type: ignore[no-untyped-def]
    pid = project["id"]
    first, second, third = (
        api.get(f"/api/images/{i['id']}").json() for i in upload_images(api, pid, 3)
    )
    label = api.post(f"/api/projects/{pid}/labels", json={"name": "x"}).json()["id"]
    draw(api, first, label, 0)
    draw(api, second, label, 0)
    draw(api, second, None, 40)
    api.post(f"/api/projects/{pid}/presence", json={"image_id": third["id"]})
    page.goto(f"/projects/{pid}")
    page.wait_for_selector("#image-count:text-is('3 images')")
    status = page.locator("#images .thumb").evaluate_all(
        "(xs) => xs.map((x) => [x.dataset.segments, x.dataset.labelled, x.innerText.includes('is on it')])"
    )
    assert status == [["1", "1", False], ["2", "1", False], ["0", "0", True]]
    page.select_option("#image-progress", "labelled")
    page.wait_for_selector("#image-count:text-is('1 matching')")
    assert page.get_attribute("#images .thumb", "data-image-id") == str(first["id"])
    page.select_option("#image-progress", "unlabelled")
    page.wait_for_selector("#image-count:text-is('2 matching')")
    page.select_option("#image-progress", "")
    page.fill("#image-search", "IMG1")
    page.wait_for_selector("#image-count:text-is('1 matching')")
    assert page.get_attribute("#images .thumb", "data-image-id") == str(second["id"])
    api.delete(f"/api/projects/{pid}/presence")


def test_export_and_ground_truth_import(page, api: httpx.Client, project: dict, console) -> None:  # type: ignore[no-untyped-def]
    pid = project["id"]
    image = api.get(f"/api/images/{upload_images(api, pid, 1)[0]['id']}").json()
    label = api.post(f"/api/projects/{pid}/labels", json={"name": "cat"}).json()["id"]
    draw(api, image, label, 0)
    draw(api, image, None, 40)
    page.goto(f"/projects/{pid}")
    page.select_option("#export-form select[name=format]", "csv")
    with page.expect_download() as download:
        page.click("#export-form button")
    path = download.value.path()
    assert download.value.suggested_filename == f"lassolabel-project-{pid}-csv.zip"
    page.wait_for_selector("#export-progress:text('Downloaded')")
    import zipfile

    with zipfile.ZipFile(path) as archive:
        rows = archive.read(next(n for n in archive.namelist() if n.endswith(".csv"))).decode()
    assert rows.count("\n") == 2  # header + the one labelled segment ("only labelled")

    box = [10, 10, 40, 40]
    polygon = [[10, 10, 50, 10, 50, 50, 10, 50]]
    coco = {
        "images": [
            {"id": 1, "file_name": "img0.png", "width": image["width"], "height": image["height"]},
            {"id": 2, "file_name": "nowhere.png", "width": 10, "height": 10},
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "segmentation": polygon,
                "bbox": box,
                "area": 1600,
                "iscrowd": 0,
            },
            {
                "id": 2,
                "image_id": 2,
                "category_id": 1,
                "segmentation": polygon,
                "bbox": box,
                "area": 1600,
                "iscrowd": 0,
            },
        ],
        "categories": [{"id": 1, "name": "cat"}],
    }
    page.set_input_files(
        "#import-form input[type=file]",
        files=[
            {
                "name": "truth.json",
                "mimeType": "application/json",
                "buffer": json.dumps(coco).encode(),
            }
        ],
    )
    page.click("#import-form button")
    page.wait_for_selector("#import-report p:text('imported as ground truth')")
    problems = page.locator("#import-problems li").all_text_contents()
    assert problems == ["nowhere.png: no such image"]
    assert api.get(f"/api/projects/{pid}/eval").status_code == 200


def test_bulk_accept_says_what_it_does_undoes_in_one_step_and_history(
    page, api: httpx.Client, server, project: dict
) -> None:  # type: ignore[no-untyped-def]
    seeded = seed_clusters(api, server.data_dir, project)
    pid = seeded["pid"]
    propagate(api, pid)
    page.goto(f"/projects/{pid}")
    page.wait_for_selector("#jobs li[data-state=succeeded] .job-duration:text('took')")

    page.goto(f"/projects/{pid}/review")
    page.wait_for_selector("body[data-review-ready=true]")
    page.fill("#review-threshold-value", "0")
    page.wait_for_selector("#review-accept-all:text('Accept 51')")
    page.click("#review-accept-all")
    page.wait_for_selector("#confirm-dialog[open]")
    assert "Give 51 unlabelled segment(s) their suggested label" in page.text_content(
        "#confirm-text"
    )
    page.click("#confirm-ok")
    page.wait_for_selector("#review-undo-accept:visible")
    page.wait_for_selector("#project-progress:text('60 / 60 labelled')")
    page.click("#review-undo-accept")
    page.wait_for_selector("#status:text('Accept undone: 51 segments')")
    page.wait_for_selector("#project-progress:text('9 / 60 labelled')")

    page.goto(f"/projects/{pid}/history")
    page.wait_for_selector("body[data-history-ready=true]")
    kinds = page.locator("#batches tr").evaluate_all("(rows) => rows.map((r) => r.dataset.kind)")
    assert kinds[:2] == ["undo", "accept"] and kinds[2:] == ["assign"] * 3
    accept_row = page.locator("#batches tr[data-kind=accept]")
    assert accept_row.locator(".count").text_content() == "51"
    assert accept_row.locator("button").is_disabled()  # already undone, and says so
    assert "undone by step" in accept_row.text_content()
    first_assign = page.locator("#batches tr[data-kind=assign]").first
    first_assign.locator("button").click()
    page.wait_for_selector("#status:text('undone: 3 segment(s)')")
    page.wait_for_selector("#project-progress:text('6 / 60 labelled')")
    screenshot(page, "history")
