"""Browser tests: Debian's Chromium driven by Playwright's sync API against a real uvicorn.

One server (tiny random-weight SAM, temp data dir) and one browser per session; a fresh page
per test. A test fails on any console error the test did not declare as expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.server_process import ServerProcess

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")


@pytest.fixture(scope="package")
def server(
    tmp_path_factory: pytest.TempPathFactory, tiny_sam_checkpoint: Path
) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    env = {
        "LASSOLABEL_SEED_DEMO": "false",
        "LASSOLABEL_SEGMENTER": "sam",
        "LASSOLABEL_SAM_CHECKPOINT": str(tiny_sam_checkpoint),
        "LASSOLABEL_TORCH_THREADS": "1",
    }
    with ServerProcess(data_dir, env=env) as process:
        yield process


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


class ConsoleWatch:
    """Collects console errors and uncaught exceptions; `expect(pattern)` allows one kind."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []

    def expect(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


def _describe(message) -> str:  # type: ignore[no-untyped-def]
    url = (message.location or {}).get("url", "")
    return f"{message.text} [{url}]" if url else message.text


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


def watched_page(context, console: ConsoleWatch):  # type: ignore[no-untyped-def]
    """A new page of `context` whose console errors, uncaught errors and dialogs go to console."""
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and console.errors.append(_describe(m)))
    page.on("pageerror", lambda e: console.errors.append(f"uncaught: {e}"))
    page.on("dialog", lambda d: (console.errors.append(f"dialog opened: {d.message}"), d.dismiss()))
    page.set_default_timeout(20_000)
    return page


@pytest.fixture
def page(browser, server: ServerProcess, console: ConsoleWatch, request) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server.url, viewport={"width": 1400, "height": 900})
    yield watched_page(context, console)
    context.close()
    assert not console.unexpected(), f"console errors: {console.unexpected()}"


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save a full-page screenshot to test-artifacts/<name>.png (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def png_bytes(width: int, height: int, seed: int) -> bytes:
    """A small RGB PNG with a few coloured blocks (so segmenters have edges to find)."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = np.full((height, width, 3), 40, np.uint8)
    for _ in range(4):
        x, y = rng.integers(0, width - width // 4), rng.integers(0, height - height // 4)
        pixels[y : y + height // 4, x : x + width // 4] = rng.integers(60, 255, 3)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def project(api: httpx.Client, request) -> dict:  # type: ignore[no-untyped-def]
    """A fresh project named after the test."""
    response = api.post("/api/projects", json={"name": f"{request.node.name}"})
    assert response.status_code == 201, response.text
    return response.json()


def upload_images(api: httpx.Client, project_id: int, count: int, size=(160, 120)) -> list[dict]:  # type: ignore[no-untyped-def]
    files = [
        ("files", (f"img{i}.png", png_bytes(*size, seed=i), "image/png")) for i in range(count)
    ]
    response = api.post(f"/api/projects/{project_id}/images", files=files)
    assert response.status_code == 200, response.text
    return response.json()["imported"]
