"""A sign-in-required server for browser tests, with one admin made in its database, and
pages signed in through the real sign-in form."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.models import Role
from tests.e2e.conftest import ConsoleWatch, watched_page
from tests.server_process import ServerProcess
from tests.team.conftest import SERVER_ENV, database, make_user

ADMIN, ADMIN_PASSWORD = "root", "root-password-e2e"


@contextmanager
def team_server(data_dir: Path) -> Iterator[ServerProcess]:
    db = database(data_dir)
    make_user(db, ADMIN, Role.admin, ADMIN_PASSWORD)
    db.dispose()
    with ServerProcess(data_dir, env=SERVER_ENV) as server:
        yield server


@contextmanager
def browser_page(browser, url: str) -> Iterator[tuple[object, ConsoleWatch]]:  # type: ignore[no-untyped-def]
    """A fresh browser context (its own cookies); fails on unexpected console errors."""
    console = ConsoleWatch()
    context = browser.new_context(base_url=url, viewport={"width": 1400, "height": 900})
    try:
        yield watched_page(context, console), console
    finally:
        context.close()
    assert not console.unexpected(), f"console errors: {console.unexpected()}"


def sign_in(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_selector(f"#account[data-user='{username}']")
