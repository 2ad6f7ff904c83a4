"""Segment, embed and project jobs started from the project page, watched to completion."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import screenshot, upload_images


@pytest.mark.slow
def test_jobs_run_from_the_ui(page, api: httpx.Client, project: dict, console) -> None:  # type: ignore[no-untyped-def]
    upload_images(api, project["id"], 2, size=(160, 120))
    page.goto(f"/projects/{project['id']}")
    # Random tiny-SAM weights: a coarse grid, and keep every mask whatever its score.
    page.fill("#points-per-side", "4")
    page.fill("#pred-iou-thresh", "0")
    page.fill("#stability-thresh", "0")
    for kind in ("segment", "embed", "projection"):
        before = page.locator("#jobs li").count()
        page.click(f"#job-buttons [data-job={kind}]")
        page.wait_for_function(f"document.querySelectorAll('#jobs li').length > {before}")
        row = page.locator("#jobs li").first
        assert row.locator(".job-kind").text_content() == kind
        page.wait_for_selector("#jobs li:first-child[data-state=succeeded]", timeout=240_000)
        value, maximum = row.locator("progress").evaluate("(p) => [p.value, p.max]")
        assert value == maximum
        assert row.locator(".job-duration").text_content().startswith("took ")
    # The projection counts its stages (vectors read, the neighbour graph, the layout's epochs
    # in tenths, the map written), not 0/1.
    assert page.locator("#jobs li").first.locator(".meter-text").text_content() == "13 / 13"
    screenshot(page, "project-jobs")
    counts = api.get(f"/api/projects/{project['id']}").json()
    assert counts["segment_count"] > 0
    page.goto(f"/projects/{project['id']}/map")
    page.wait_for_selector("body[data-map-ready=true]")
