"""Every route x {anonymous, viewer, annotator of the project, annotator of another project,
admin}, against a real server. Routes come from the app itself (including pages hidden from
OpenAPI), so a route added without a permission entry fails here, by name.

Expectations follow the meaning of each access level, not the guard's code: a test of what
each kind of person may do, route by route.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.auth.permissions import PERMISSIONS, Access
from app.db import Database
from app.main import create_app
from app.models import Job, JobState, Role
from tests.conftest import png_bytes
from tests.fixtures.settings import make_settings
from tests.server_process import ServerProcess
from tests.team.conftest import SERVER_ENV, add_segments, api_token, bearer, database, make_user

PERSONAS = ("anonymous", "viewer", "annotator", "outsider", "admin")
SCOPE_PARAMS = {"project_id", "image_id", "segment_id", "job_id", "label_id", "batch_id"}
SAFE = {"GET", "HEAD"}


def app_routes() -> list[tuple[str, str, bool]]:
    """(method, path template, is an event stream) for every HTTP route of the app."""
    app = create_app(make_settings(None))
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path:
            stream = "events" in context.path
            found.extend((method, context.path, stream) for method in sorted(route.methods))
    return sorted(found)


ROUTES = app_routes()


def test_every_route_is_in_the_permission_table() -> None:
    missing = [f"{m} {p}" for m, p, _ in ROUTES if (m, p) not in PERMISSIONS]
    assert not missing, f"routes without a permission entry (add them to PERMISSIONS): {missing}"
    stale = sorted(set(PERMISSIONS) - {(m, p) for m, p, _ in ROUTES})
    assert not stale, f"permission entries for routes that do not exist: {stale}"


def test_openapi_routes_are_all_covered() -> None:
    app = create_app(make_settings(None))
    listed = {(m, p) for m, p, _ in ROUTES}
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            assert (method.upper(), path) in listed


@dataclass
class World:
    """One project the personas are placed in, with one object of every kind."""

    ids: dict[str, int | str]


class Lab:
    def __init__(self, http: httpx.Client, db: Database, tokens: dict[str, str], users: dict):
        self.http, self.db, self.tokens, self.users = http, db, tokens, users
        self.counter = 0

    def world(self) -> World:
        self.counter += 1
        admin = bearer(self.tokens["admin"])
        pid = self._ok(
            self.http.post("/api/projects", json={"name": f"p{self.counter}"}, headers=admin)
        )["id"]
        for persona, role in (("viewer", "viewer"), ("annotator", "annotator")):
            self._ok(
                self.http.put(
                    f"/api/projects/{pid}/members/{self.users[persona]}",
                    json={"role": role},
                    headers=admin,
                )
            )
        files = [("files", ("a.png", png_bytes(), "image/png"))]
        image_id = self._ok(
            self.http.post(f"/api/projects/{pid}/images", files=files, headers=admin)
        )["imported"][0]["id"]
        label_id = self._ok(
            self.http.post(f"/api/projects/{pid}/labels", json={"name": "cat"}, headers=admin)
        )["id"]
        segment_ids = add_segments(self.db, pid, image_id, 2)
        # Authored by the annotator, so undo is theirs (or an admin's) to do.
        batch = self._ok(
            self.http.post(
                f"/api/projects/{pid}/assign",
                json={"segment_ids": segment_ids, "label_id": label_id},
                headers=bearer(self.tokens["annotator"]),
            )
        )
        with self.db.write() as session:
            job = Job(project_id=pid, kind="import-folder", params={}, state=JobState.succeeded)
            session.add(job)
            session.flush()
            job_id = job.id
        token_id = self._ok(
            self.http.post("/api/auth/tokens", json={"name": f"t{self.counter}"}, headers=admin)
        )["id"]
        return World(
            {
                "project_id": pid,
                "image_id": image_id,
                "label_id": label_id,
                "segment_id": segment_ids[0],
                "batch_id": batch["batch_id"],
                "job_id": job_id,
                "user_id": self.users["annotator"],
                "token_id": token_id,
                "model_id": "any-model",  # not project-scoped: 404 or 503 past the guard
            }
        )

    @staticmethod
    def _ok(response: httpx.Response) -> dict:
        assert response.is_success, response.text
        return response.json()

    def call(self, method: str, template: str, world: World, persona: str, stream: bool) -> int:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            assert name in world.ids, f"no test value for path parameter {name!r} in {template}"
            return str(world.ids[name])

        path = re.sub(r"\{(\w+)\}", fill, template)
        headers = bearer(self.tokens[persona]) if persona in self.tokens else {}
        if stream:
            with self.http.stream(method, path, headers=headers) as response:
                return response.status_code
        return self.http.request(method, path, headers=headers).status_code


def expected_ok(rule: Access, persona: str, scoped: bool) -> bool:
    """May this persona use a route with this rule? (what each level means)"""
    if rule is Access.public:
        return True
    if persona == "anonymous":
        return False
    if rule is Access.self or persona == "admin":
        return True
    if scoped and persona == "outsider":
        return False
    minimum = {Access.page: 0, Access.read: 0, Access.label: 1, Access.admin: 2}[rule]
    rank = {"viewer": 0, "annotator": 1, "outsider": 1}[persona]
    return rank >= minimum


def denial_codes(rule: Access, persona: str, scoped: bool) -> set[int]:
    if persona == "anonymous":
        return {303} if rule is Access.page else {401}
    if scoped and persona == "outsider":
        return {404}  # an id from another project looks like no id at all
    return {403}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    data_dir: Path = tmp_path_factory.mktemp("matrix") / "data"
    db = database(data_dir)
    users = {
        "admin": make_user(db, "admin", Role.admin),
        "viewer": make_user(db, "viewer", Role.viewer),
        "annotator": make_user(db, "annotator", Role.annotator),
        "outsider": make_user(db, "outsider", Role.annotator),
    }
    tokens = {name: api_token(db, uid) for name, uid in users.items()}
    with (
        ServerProcess(data_dir, env=SERVER_ENV) as server,
        httpx.Client(base_url=server.url, timeout=60, follow_redirects=False) as http,
    ):
        lab = Lab(http, db, tokens, users)
        # The outsider annotates a different project.
        other = lab.world().ids["project_id"]
        lab._ok(
            http.put(
                f"/api/projects/{other}/members/{users['outsider']}",
                json={"role": "annotator"},
                headers=bearer(tokens["admin"]),
            )
        )
        yield lab
    db.dispose()


def test_authorization_matrix(lab: Lab) -> None:
    shared = lab.world()
    failures = []
    for method, template, stream in ROUTES:
        rule = PERMISSIONS[(method, template)]
        params = set(re.findall(r"\{(\w+)\}", template))
        scoped = bool(params & SCOPE_PARAMS)
        for persona in PERSONAS:
            allowed = expected_ok(rule, persona, scoped)
            # Allowed writes really happen: give each its own world so nothing leaks.
            world = lab.world() if allowed and method not in SAFE else shared
            status = lab.call(method, template, world, persona, stream)
            if status == 503 and allowed:
                continue  # past the guard; no segmentation model in this test server
            if status >= 500:
                failures.append(f"{method} {template} as {persona}: {status}")
            elif allowed and status in {401, 403} | ({404} if scoped else set()):
                failures.append(f"{method} {template} as {persona}: {status}, expected allowed")
            elif not allowed and status not in denial_codes(rule, persona, scoped):
                want = denial_codes(rule, persona, scoped)
                failures.append(f"{method} {template} as {persona}: {status}, expected {want}")
    assert not failures, "\n".join(failures)
