"""Sign-in, first-run setup, sessions, CSRF, API tokens, rate limit, Host/Origin guards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth.hosts import UnsafeBinding
from app.config import Settings
from app.main import create_app
from app.models import AuthToken, Role, User
from tests.conftest import assert_error_shape
from tests.fixtures.settings import make_settings
from tests.team.conftest import bearer, make_user

PASSWORD = "correct horse battery"


def setup_admin(client: TestClient, username: str = "root") -> dict:
    token = client.app.state.context.auth.setup_token  # type: ignore[attr-defined]
    response = client.post(
        "/api/auth/setup", json={"token": token, "username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_first_run_has_no_default_account_and_a_one_time_setup_link(
    team_client: TestClient,
) -> None:
    status = team_client.get("/api/auth/status").json()
    assert status["setup_required"] and status["user"] is None
    assert_error_shape(team_client.get("/api/projects"), 401, "unauthorized")
    bad = {"token": "guess", "username": "root", "password": PASSWORD}
    assert_error_shape(team_client.post("/api/auth/setup", json=bad), 403, "bad_setup_token")

    token = team_client.app.state.context.auth.setup_token  # type: ignore[attr-defined]
    signed_in = setup_admin(team_client)
    assert signed_in["user"]["role"] == "admin" and not signed_in["setup_required"]
    again = {"token": token, "username": "root2", "password": PASSWORD}
    assert_error_shape(team_client.post("/api/auth/setup", json=again), 403)
    with team_client.app.state.context.db.read() as session:  # type: ignore[attr-defined]
        stored = session.scalar(select(User.password_hash).where(User.username == "root"))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


def test_session_cookie_is_httponly_samesite_and_writes_need_the_csrf_token(
    team_client: TestClient,
) -> None:
    setup_admin(team_client)
    team_client.cookies.clear()
    response = team_client.post("/api/auth/login", json={"username": "root", "password": PASSWORD})
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("lassolabel_session="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    csrf = response.json()["csrf_token"]
    assert csrf and team_client.cookies.get("lassolabel_csrf") == csrf

    assert team_client.get("/api/projects").status_code == 200  # reads need no token
    refused = team_client.post("/api/projects", json={"name": "p"})
    assert_error_shape(refused, 403, "csrf_failed")
    wrong = team_client.post(
        "/api/projects", json={"name": "p"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert_error_shape(wrong, 403, "csrf_failed")
    assert team_client.get("/api/projects").json()["total"] == 0  # nothing was written
    ok = team_client.post("/api/projects", json={"name": "p"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201


def test_api_tokens_are_hashed_at_rest_and_need_no_csrf(team_client: TestClient) -> None:
    csrf = setup_admin(team_client)["csrf_token"]
    created = team_client.post(
        "/api/auth/tokens", json={"name": "script"}, headers={"X-CSRF-Token": csrf}
    ).json()
    token = created["token"]
    assert token.startswith("llpat_")
    team_client.cookies.clear()
    assert (
        team_client.post("/api/projects", json={"name": "q"}, headers=bearer(token)).status_code
        == 201
    )
    assert_error_shape(team_client.get("/api/projects", headers=bearer(token + "x")), 401)
    with team_client.app.state.context.db.read() as session:  # type: ignore[attr-defined]
        hashes = list(session.scalars(select(AuthToken.token_hash)))
    assert token not in hashes and all(len(h) == 64 for h in hashes)
    team_client.delete(f"/api/auth/tokens/{created['id']}", headers=bearer(token))
    assert_error_shape(team_client.get("/api/projects", headers=bearer(token)), 401)


def test_login_is_rate_limited(team_client: TestClient) -> None:
    setup_admin(team_client)
    team_client.cookies.clear()
    for _ in range(10):
        bad = team_client.post("/api/auth/login", json={"username": "root", "password": "nope"})
        assert_error_shape(bad, 401)
    limited = team_client.post("/api/auth/login", json={"username": "root", "password": PASSWORD})
    assert_error_shape(limited, 429, "too_many_requests")
    assert int(limited.headers["Retry-After"]) > 0


def test_sessions_survive_a_restart_and_the_key_file_is_private(team_settings: Settings) -> None:
    with TestClient(create_app(team_settings)) as client:
        setup_admin(client)
        cookie = client.cookies.get("lassolabel_session")
    key = team_settings.data_dir / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
    with TestClient(create_app(team_settings)) as client:
        client.cookies.set("lassolabel_session", cookie or "")
        status = client.get("/api/auth/status").json()
        assert status["user"]["username"] == "root" and not status["setup_required"]
        assert client.app.state.context.auth.setup_token is None  # type: ignore[attr-defined]


def test_invited_user_sets_a_password_once_and_sees_only_member_projects(
    team_client: TestClient,
) -> None:
    csrf = {"X-CSRF-Token": setup_admin(team_client)["csrf_token"]}
    mine = team_client.post("/api/projects", json={"name": "mine"}, headers=csrf).json()
    team_client.post("/api/projects", json={"name": "theirs"}, headers=csrf)
    user = team_client.post("/api/users", json={"username": "ann", "role": "viewer"}, headers=csrf)
    invite = user.json()["invite_url"].split("invite=")[1]
    team_client.put(
        f"/api/projects/{mine['id']}/members/{user.json()['id']}",
        json={"role": "viewer"},
        headers=csrf,
    )
    team_client.cookies.clear()
    accepted = team_client.post("/api/auth/invite", json={"token": invite, "password": PASSWORD})
    assert accepted.json()["user"]["username"] == "ann"
    assert [p["name"] for p in team_client.get("/api/projects").json()["items"]] == ["mine"]
    reuse = team_client.post("/api/auth/invite", json={"token": invite, "password": "x" * 10})
    assert_error_shape(reuse, 403, "bad_invite")


def test_self_signup_does_not_exist(team_client: TestClient) -> None:
    setup_admin(team_client)
    team_client.cookies.clear()
    response = team_client.post("/api/users", json={"username": "eve", "password": PASSWORD})
    assert_error_shape(response, 401)


def test_unknown_host_and_foreign_origin_are_refused(team_client: TestClient) -> None:
    rebinding = team_client.get("/api/health", headers={"Host": "attacker.example"})
    assert_error_shape(rebinding, 400, "bad_host")
    assert team_client.get("/api/health").status_code == 200
    cross_site = team_client.post(
        "/api/auth/login",
        json={"username": "a", "password": "b"},
        headers={"Origin": "http://attacker.example"},
    )
    assert_error_shape(cross_site, 403, "bad_origin")


def test_single_user_mode_only_on_loopback(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, host="0.0.0.0")
    with pytest.raises(UnsafeBinding, match="loopback"):
        create_app(settings)
    refused = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--host", "0.0.0.0", "--port", "1"],
        env={"LASSOLABEL_AUTH": "none", "LASSOLABEL_DATA_DIR": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "loopback" in refused.stderr


def test_role_is_narrowed_by_membership(team_client: TestClient) -> None:
    csrf = {"X-CSRF-Token": setup_admin(team_client)["csrf_token"]}
    project = team_client.post("/api/projects", json={"name": "p"}, headers=csrf).json()
    db = team_client.app.state.context.db  # type: ignore[attr-defined]
    from app.auth.tokens import issue_token
    from app.models import TokenKind

    uid = make_user(db, "ann", Role.annotator)
    with db.write() as session:
        token = issue_token(session, user_id=uid, kind=TokenKind.api, ttl=None)
    team_client.put(
        f"/api/projects/{project['id']}/members/{uid}", json={"role": "viewer"}, headers=csrf
    )
    team_client.cookies.clear()
    url = f"/api/projects/{project['id']}/assign"
    denied = team_client.post(
        url, json={"segment_ids": [1], "label_id": None}, headers=bearer(token)
    )
    assert_error_shape(denied, 403)


def test_reset_by_invite_ends_the_old_password_and_sessions(team_client: TestClient) -> None:
    csrf = {"X-CSRF-Token": setup_admin(team_client)["csrf_token"]}
    user = team_client.post(
        "/api/users", json={"username": "bo", "password": PASSWORD}, headers=csrf
    ).json()
    reset = team_client.post(f"/api/users/{user['id']}/invite", headers=csrf)
    assert reset.status_code == 200, reset.text
    token = reset.json()["invite_url"].split("invite=")[1]
    team_client.cookies.clear()
    old = team_client.post("/api/auth/login", json={"username": "bo", "password": PASSWORD})
    assert_error_shape(old, 401)
    accepted = team_client.post(
        "/api/auth/invite", json={"token": token, "password": "new-password-2"}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["user"]["username"] == "bo"
    assert_error_shape(team_client.post("/api/users/1/invite", headers=csrf), 403)


def test_my_role_in_a_project_is_the_narrowed_one(team_client: TestClient) -> None:
    csrf = {"X-CSRF-Token": setup_admin(team_client)["csrf_token"]}
    project = team_client.post("/api/projects", json={"name": "p"}, headers=csrf).json()
    assert team_client.get(f"/api/projects/{project['id']}/me").json() == {
        "username": "root",
        "role": "admin",
    }
    db = team_client.app.state.context.db  # type: ignore[attr-defined]
    uid = make_user(db, "ann", Role.annotator, PASSWORD)
    team_client.put(
        f"/api/projects/{project['id']}/members/{uid}", json={"role": "viewer"}, headers=csrf
    )
    team_client.cookies.clear()
    team_client.post("/api/auth/login", json={"username": "ann", "password": PASSWORD})
    assert team_client.get(f"/api/projects/{project['id']}/me").json()["role"] == "viewer"
