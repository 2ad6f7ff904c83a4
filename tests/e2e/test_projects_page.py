"""Projects and project pages: create, upload (input and drag-and-drop), labels, XSS safety."""

from __future__ import annotations

import base64

import httpx

from tests.e2e.conftest import png_bytes, screenshot

XSS = "<img src=x onerror=alert(1)>"


def drop_files(page, selector: str, files: list[tuple[str, bytes]]) -> None:  # type: ignore[no-untyped-def]
    """Dispatch a real `drop` event carrying File objects, as a drag from the desktop does."""
    payload = [{"name": n, "b64": base64.b64encode(d).decode()} for n, d in files]
    transfer = page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], f.name, { type: "image/png" }));
            }
            return dt;
        }""",
        payload,
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_create_project_and_upload_two_images(page, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.fill("#create-project input[name=name]", "Upload test")
    page.press("#create-project input[name=name]", "Enter")
    link = page.get_by_role("link", name="Upload test")
    link.wait_for()
    screenshot(page, "projects")
    link.click()
    page.wait_for_selector("#project-name:text('Upload test')")

    drop_files(
        page, "#dropzone", [("a.png", png_bytes(200, 150, 1)), ("b.png", png_bytes(120, 90, 2))]
    )
    page.wait_for_function("document.querySelectorAll('#images img').length === 2")
    page.wait_for_function(
        "[...document.querySelectorAll('#images img')].every((i) => i.complete && i.naturalWidth > 0)"
    )
    assert page.text_content("#project-stats").startswith("2 images")
    captions = page.locator("#images .caption").all_text_contents()
    assert sorted(captions) == ["a.png (200×150)", "b.png (120×90)"]

    # A broken file fails alone, with a readable message in the per-file error list.
    page.set_input_files(
        "#file-input",
        [
            {"name": "broken.png", "mimeType": "image/png", "buffer": b"not an image"},
            {"name": "c.png", "mimeType": "image/png", "buffer": png_bytes(64, 64, 3)},
        ],
    )
    error = page.locator("#upload-errors li")
    error.wait_for()
    assert error.text_content().startswith("broken.png: ")
    page.wait_for_function("document.querySelectorAll('#images img').length === 3")
    screenshot(page, "project")
    project_id = int(page.url.rsplit("/", 1)[1])
    assert api.get(f"/api/projects/{project_id}").json()["image_count"] == 3


def test_label_editor_and_xss_name_shows_as_text(
    page, api: httpx.Client, project: dict, console
) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/projects/{project['id']}")
    form = page.locator("#create-label")
    form.locator("input[name=name]").fill(XSS)
    form.locator("select[name=hotkey]").select_option("3")
    form.locator("button").click()
    row = page.locator("#labels tr").first
    row.wait_for()
    assert row.locator(".label-name-input").input_value() == XSS
    assert page.locator("img[src=x]").count() == 0

    # A duplicate name is refused by the server; the message appears next to the form.
    console.expect("status of 409")
    form.locator("input[name=name]").fill(XSS)
    form.locator("button").click()
    page.locator("#label-error:not([hidden])").wait_for()
    assert page.text_content("#label-error")

    labels = api.get(f"/api/projects/{project['id']}/labels").json()["items"]
    assert [(label["name"], label["hotkey"]) for label in labels] == [(XSS, 3)]

    # Rename in place.
    row.locator(".label-name-input").fill("cat")
    row.locator(".label-name-input").press("Enter")
    page.wait_for_function(
        f"fetch('/api/projects/{project['id']}/labels').then(r => r.json()).then(d => d.items[0].name === 'cat')"
    )


def test_header_says_which_model_answers_and_why(page, project) -> None:  # type: ignore[no-untyped-def]
    for path in (f"/projects/{project['id']}", f"/projects/{project['id']}/annotate"):
        page.goto(path)
        page.wait_for_selector("#model-status:has-text('configured checkpoint')")
        text = page.text_content("#model-status")
        assert text.startswith("SAM custom_e32_d2 · configured checkpoint"), text
