"""Team administration in the browser, on a server with sign-in required: the header says who
is signed in; the admin creates a user and gets an invite link, adds them to a project, and
the user signs in through it; roles, no-project users, password change, API tokens."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import png_bytes
from tests.e2e.mask_tools import select, square_rle, stroke
from tests.e2e.seed import seed_proposal
from tests.e2e.team_server import ADMIN, ADMIN_PASSWORD, browser_page, sign_in, team_server
from tests.server_process import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with team_server(tmp_path_factory.mktemp("team-ui") / "data") as process:
        yield process


@pytest.fixture
def admin(browser, server: ServerProcess):  # type: ignore[no-untyped-def]
    with browser_page(browser, server.url) as (page, _):
        sign_in(page, ADMIN, ADMIN_PASSWORD)
        yield page


def create_project(page, name: str) -> int:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.fill("#create-project input[name=name]", name)
    page.click("#create-project button")
    link = page.wait_for_selector(f"#projects a:text-is('{name}')")
    return int(link.get_attribute("href").rsplit("/", 1)[1])


def invite(page, username: str, role: str = "annotator") -> str:  # type: ignore[no-untyped-def]
    """On the team page: create `username` with `role`; returns the invite link shown."""
    page.goto("/admin")
    page.wait_for_selector("body[data-team-ready=true]")
    page.fill("#create-user input[name=username]", username)
    page.select_option("#create-user select[name=role]", role)
    page.click("#create-user button")
    page.wait_for_selector(f"#users tr[data-user='{username}']")
    page.wait_for_selector(f"#invite-user:text-is('{username}')")
    return page.input_value("#invite-url")


def add_member(page, project_name: str, username: str, role: str) -> None:  # type: ignore[no-untyped-def]
    page.select_option("#member-project", label=project_name)
    page.wait_for_selector(
        f"#add-member select[name=user_id] option:text-is('{username}')", state="attached"
    )
    page.select_option("#add-member select[name=user_id]", label=username)
    page.select_option("#add-member select[name=role]", role)
    page.click("#add-member button")
    page.wait_for_selector(f"#members tr[data-member='{username}']")


def accept_invite(page, link: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(link)
    page.wait_for_selector("#login-title:text-is('Choose your password')")
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url("**/")


def test_header_says_who_is_signed_in_and_signs_out(admin) -> None:  # type: ignore[no-untyped-def]
    admin.goto("/")
    assert admin.text_content("#account .account-name") == ADMIN
    assert admin.text_content("#team-link") == "Team"
    admin.click("#sign-out")
    admin.wait_for_url("**/login")
    admin.goto("/")
    assert "/login?next=" in admin.url


def test_admin_invites_a_user_who_signs_in_and_sees_the_project(browser, admin, server) -> None:  # type: ignore[no-untyped-def]
    create_project(admin, "team shared")
    create_project(admin, "team hidden")
    link = invite(admin, "ann")
    assert "/login?invite=" in link
    add_member(admin, "team shared", "ann", "annotator")
    with browser_page(browser, server.url) as (ann, console):
        console.expect(r"403 \(Forbidden\) \[.*/api/auth/invite\]")
        accept_invite(ann, link, "ann-password-1")
        ann.wait_for_selector("#account[data-user=ann]")
        assert ann.text_content("#team-link") == "Account"
        names = ann.locator(
            "#projects a[href^='/projects/']:not([href*='/annotate']):not([href*='/map'])"
        )
        assert names.all_text_contents() == ["team shared"]
        assert ann.locator("#create-project").is_hidden()
        assert "needs the admin role" in ann.text_content("#create-denied")
        # The invite works once.
        ann.goto(link)
        ann.fill("#password", "again")
        ann.click("#login-submit")
        ann.wait_for_selector("#login-error:text('invalid, used or expired')")

    # Role change and deactivation from the users table reach the server.
    admin.select_option("#users tr[data-user=ann] select", "viewer")
    admin.wait_for_function("() => !document.querySelector('#users-error').textContent")
    admin.click("#users tr[data-user=ann] [data-action=toggle]")
    admin.wait_for_selector("#users tr[data-user=ann] td:text-is('deactivated')")
    with browser_page(browser, server.url) as (ann, console):
        console.expect(r"401 \(Unauthorized\) \[.*/api/auth/login\]")
        ann.goto("/login")
        ann.fill("#username", "ann")
        ann.fill("#password", "ann-password-1")
        ann.click("#login-submit")
        ann.wait_for_selector("#login-error:text('wrong username or password')")
    # Reset by a new invite: a fresh link; the user picks a new password with it.
    admin.click("#users tr[data-user=ann] [data-action=toggle]")
    admin.wait_for_selector("#users tr[data-user=ann] td:text-is('active')")
    admin.click("#users tr[data-user=ann] [data-action=reset]")
    admin.wait_for_function(
        "(old) => document.querySelector('#invite-url').value !== old", arg=link
    )
    fresh = admin.input_value("#invite-url")
    with browser_page(browser, server.url) as (ann, _):
        accept_invite(ann, fresh, "ann-password-2")
        ann.wait_for_selector("#account[data-user=ann]")
    # An admin may not deactivate or reset their own account from here.
    own = admin.locator(f"#users tr[data-user={ADMIN}] [data-action=toggle]")
    assert own.is_disabled() and "own account" in own.get_attribute("title")


def test_user_in_no_project_is_told_why(browser, admin, server) -> None:  # type: ignore[no-untyped-def]
    link = invite(admin, "loner", "viewer")
    with browser_page(browser, server.url) as (loner, _):
        accept_invite(loner, link, "loner-password")
        notice = loner.wait_for_selector("#no-projects")
        assert notice.is_visible()
        assert "ask an admin to add you to a project" in notice.inner_text()
        # Viewers see the team page with only their own tokens.
        loner.click("#team-link")
        loner.wait_for_selector("body[data-team-ready=true]")
        assert loner.locator("#users-section").is_hidden()
        assert loner.locator("#tokens-section").is_visible()


def test_change_password_and_api_tokens(browser, admin, server) -> None:  # type: ignore[no-untyped-def]
    link = invite(admin, "tok")
    with browser_page(browser, server.url) as (tok, console):
        console.expect(r"403 \(Forbidden\) \[.*/api/auth/password\]")
        accept_invite(tok, link, "first-password")
        tok.click("#change-password")
        tok.fill("#password-form input[name=current]", "wrong")
        tok.fill("#password-form input[name=new]", "second-password")
        tok.click("#password-form button[type=submit]")
        tok.wait_for_selector("#password-error:text('current password is wrong')")
        tok.fill("#password-form input[name=current]", "first-password")
        tok.click("#password-form button[type=submit]")
        tok.wait_for_selector("#password-dialog", state="hidden")
        tok.wait_for_selector("#status:text('Password changed')")

        tok.goto("/admin")
        tok.wait_for_selector("body[data-team-ready=true]")
        tok.fill("#create-token input[name=name]", "export script")
        tok.click("#create-token button")
        tok.wait_for_selector("#tokens tr[data-token='export script']")
        secret = tok.input_value("#new-token-value")
        me = httpx.get(server.url + "/api/auth/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.json()["username"] == "tok"
        tok.click("#tokens tr[data-token='export script'] button")
        tok.wait_for_selector("#tokens tr[data-token='export script']", state="detached")
        gone = httpx.get(server.url + "/api/auth/me", headers={"Authorization": f"Bearer {secret}"})
        assert gone.status_code == 401
    with browser_page(browser, server.url) as (again, _):
        sign_in(again, "tok", "second-password")


def upload_in_ui(page, project_id: int) -> int:  # type: ignore[no-untyped-def]
    """Drop one 320x240 image on the project page; returns its id."""
    page.goto(f"/projects/{project_id}")
    png = png_bytes(320, 240, seed=5)
    page.set_input_files(
        "#file-input", files=[{"name": "street.png", "mimeType": "image/png", "buffer": png}]
    )
    thumb = page.wait_for_selector("#images .thumb")
    return int(thumb.get_attribute("data-image-id"))


def test_two_users_admin_sees_the_annotators_brush_edit_live(browser, admin, server) -> None:  # type: ignore[no-untyped-def]
    project_id = create_project(admin, "team brush")
    image_id = upload_in_ui(admin, project_id)
    made = admin.evaluate(
        """async ([imageId, rle]) => {
          const { api } = await import("/static/js/api.js");
          return api(`/api/images/${imageId}/segments`, { method: "POST", json: { rle } });
        }""",
        [image_id, square_rle(240, 320, (100, 80, 180, 160))],
    )
    link = invite(admin, "brushy")
    add_member(admin, "team brush", "brushy", "annotator")
    admin.goto(f"/projects/{project_id}/annotate?image={image_id}")
    admin.wait_for_selector("body[data-live=open]")
    admin.wait_for_selector(f"#segment-list li[data-segment-id='{made['id']}']")
    with browser_page(browser, server.url) as (brushy, _):
        accept_invite(brushy, link, "brushy-password")
        brushy.goto(f"/projects/{project_id}/annotate?image={image_id}")
        brushy.wait_for_function("window.lassolabelAnnotator?.state.image")
        select(brushy, made["id"], 140, 120)
        brushy.keyboard.press("b")
        stroke(brushy, [(170, 120), (230, 120)])
        brushy.wait_for_selector("body[data-mask-saved='2']")
    # The admin's annotator reloads the new mask without a reload of the page.
    admin.wait_for_function(
        "(id) => window.lassolabelAnnotator.store.items.find((s) => s.id === id)?.version === 2",
        arg=made["id"],
    )
    area = admin.evaluate(
        "(id) => window.lassolabelAnnotator.store.maskOf(id).data.reduce((n, v) => n + v, 0)",
        made["id"],
    )
    assert area > 80 * 80 + 500
    admin.goto(f"/projects/{project_id}/history")
    admin.wait_for_selector("#batches tr[data-kind=edit] td:text-is('brushy')")


def test_viewer_sees_disabled_controls_with_the_reason(browser, admin, server) -> None:  # type: ignore[no-untyped-def]
    create_project(admin, "team viewing")
    link = invite(admin, "vera", "viewer")
    add_member(admin, "team viewing", "vera", "viewer")
    project_id = int(
        admin.get_attribute("#member-project option:text-is('team viewing')", "value") or 0
    )
    with browser_page(browser, server.url) as (vera, _):
        accept_invite(vera, link, "vera-password")
        vera.goto(f"/projects/{project_id}")
        vera.wait_for_selector("body[data-role=viewer]")
        segment_button = vera.locator("#job-buttons [data-job=segment]")
        assert segment_button.is_disabled()
        assert "needs the admin role" in segment_button.get_attribute("title")
        assert vera.locator("#import-form button").is_disabled()
        assert vera.locator("#export-form button").is_enabled()  # reading is allowed
        for page_name, tool in (
            ("annotate", "#mask-tools"),
            ("map", "#assign-label"),
            ("review", "#review-accept-all"),
        ):
            vera.goto(f"/projects/{project_id}/{page_name}")
            note = vera.wait_for_selector("#role-note")
            assert "need the annotator role in this project (yours: viewer)" in note.text_content()
            assert vera.locator(tool).is_hidden()


def test_viewer_keys_are_refused_in_the_page_and_the_sheet_says_why(browser, admin, server) -> None:  # type: ignore[no-untyped-def]
    project_id = create_project(admin, "team keys")
    image_id = upload_in_ui(admin, project_id)
    image, label = admin.evaluate(
        """async ([projectId, imageId]) => {
          const { api } = await import("/static/js/api.js");
          const label = await api(`/api/projects/${projectId}/labels`, {
            method: "POST", json: { name: "cat" } });
          return [await api(`/api/images/${imageId}`), label];
        }""",
        [project_id, image_id],
    )
    seed_proposal(
        server.data_dir, project_id=project_id, image=image, label_id=label["id"], confidence=0.5
    )
    link = invite(admin, "kira", "viewer")
    add_member(admin, "team keys", "kira", "viewer")
    denied = "needs the annotator role in this project (yours: viewer)"
    with browser_page(browser, server.url) as (kira, _):
        accept_invite(kira, link, "kira-password")
        writes: list[str] = []
        kira.on("request", lambda r: r.method != "GET" and writes.append(r.url))
        kira.goto(f"/projects/{project_id}/review")
        kira.wait_for_selector("body[data-review-ready=true]")
        kira.wait_for_selector("#review-total:text('1 to review')")
        for key, what in (("a", "Accept the suggested label"), ("r", "Reject"), ("1", "Assign")):
            kira.keyboard.press(key)
            kira.wait_for_selector(f"#status:text('{what}')")
            assert denied in kira.text_content("#status")
        kira.keyboard.press("?")
        refused = kira.locator("#shortcut-table tr[data-denied]").all_text_contents()
        assert any("Accept the suggested label" in row and denied in row for row in refused)
        assert not any("Next suggestion" in row for row in refused)  # moving is allowed
        kira.keyboard.press("Escape")
        kira.goto(f"/projects/{project_id}/annotate?image={image_id}")
        kira.wait_for_function("window.lassolabelAnnotator?.state.image")
        for key, what in (("b", "Brush"), ("o", "Polygon")):
            kira.keyboard.press(key)
            kira.wait_for_selector(f"#annotator-message:text('{what}')")
            assert denied in kira.text_content("#annotator-message")
            assert kira.evaluate("document.body.dataset.maskTool ?? ''") == ""
        reads = ("/presence", "/prefetch")  # heartbeats and embedding warm-up, not labels
        assert not [url for url in writes if not url.endswith(reads)], writes
    assert api_total(admin, project_id) == 1  # nothing was reviewed


def api_total(page, project_id: int) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """async (projectId) => {
          const { api } = await import("/static/js/api.js");
          return (await api(`/api/projects/${projectId}/suggestions`)).total;
        }""",
        project_id,
    )
