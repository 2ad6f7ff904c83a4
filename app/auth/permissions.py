"""The permission table: every route, keyed by (method, path template), and who may call it.

One table for the whole server. The guard (app/auth/guard.py) denies any route missing here,
and tests/team/test_authorization_matrix.py fails naming it, so a new route cannot slip
through. Project-scoped levels are checked against the caller's role *in that project*
(admins everywhere; others only in projects they are members of, where an id from another
project answers 404).
"""

from __future__ import annotations

import enum

from app.models import Role


class Access(enum.Enum):
    public = "public"  # anyone, signed in or not
    page = "page"  # an HTML page: anyone signed in (anonymous is sent to /login)
    self = "self"  # anyone signed in, acting on their own account
    read = "read"  # viewer or better, in the project named by the path (if any)
    label = "label"  # annotator or better, in the project named by the path (if any)
    admin = "admin"  # administrators only

    @property
    def minimum_role(self) -> Role | None:
        return _MINIMUM.get(self)


_MINIMUM = {
    Access.page: Role.viewer,
    Access.read: Role.viewer,
    Access.label: Role.annotator,
    Access.admin: Role.admin,
}

P = "/api/projects/{project_id}"

PERMISSIONS: dict[tuple[str, str], Access] = {
    # health, sign-in and first-run setup
    ("GET", "/api/health"): Access.public,
    ("GET", "/login"): Access.public,
    ("GET", "/api/auth/status"): Access.public,
    ("POST", "/api/auth/login"): Access.public,
    ("POST", "/api/auth/setup"): Access.public,
    ("POST", "/api/auth/invite"): Access.public,
    ("POST", "/api/auth/logout"): Access.self,
    ("GET", "/api/auth/me"): Access.self,
    ("POST", "/api/auth/password"): Access.self,
    ("GET", "/api/auth/tokens"): Access.self,
    ("POST", "/api/auth/tokens"): Access.self,
    ("DELETE", "/api/auth/tokens/{token_id}"): Access.self,
    # accounts and membership
    ("GET", "/api/users"): Access.admin,
    ("POST", "/api/users"): Access.admin,
    ("PATCH", "/api/users/{user_id}"): Access.admin,
    ("POST", "/api/users/{user_id}/invite"): Access.admin,
    ("GET", f"{P}/me"): Access.read,
    ("GET", f"{P}/members"): Access.read,
    ("PUT", f"{P}/members/{{user_id}}"): Access.admin,
    ("DELETE", f"{P}/members/{{user_id}}"): Access.admin,
    # pages
    ("GET", "/"): Access.page,
    ("GET", "/admin"): Access.page,
    ("GET", "/projects/{project_id}"): Access.page,
    ("GET", "/projects/{project_id}/annotate"): Access.page,
    ("GET", "/projects/{project_id}/map"): Access.page,
    ("GET", "/projects/{project_id}/review"): Access.page,
    ("GET", "/projects/{project_id}/history"): Access.page,
    # projects and label classes
    ("GET", "/api/projects"): Access.read,
    ("POST", "/api/projects"): Access.admin,
    ("GET", P): Access.read,
    ("PATCH", P): Access.admin,
    ("DELETE", P): Access.admin,
    ("GET", f"{P}/labels"): Access.read,
    ("POST", f"{P}/labels"): Access.admin,
    ("PATCH", f"{P}/labels/{{label_id}}"): Access.admin,
    ("DELETE", f"{P}/labels/{{label_id}}"): Access.admin,
    # images
    ("GET", f"{P}/images"): Access.read,
    ("POST", f"{P}/images"): Access.admin,
    ("POST", f"{P}/images/import-folder"): Access.admin,
    ("GET", "/api/images/{image_id}"): Access.read,
    ("DELETE", "/api/images/{image_id}"): Access.admin,
    ("GET", "/api/images/{image_id}/file"): Access.read,
    ("GET", "/api/images/{image_id}/thumbnail"): Access.read,
    # SAM clicks, embeddings and the segments of an image
    ("POST", "/api/images/{image_id}/predict"): Access.label,
    ("POST", "/api/images/{image_id}/prefetch"): Access.read,
    ("GET", "/api/images/{image_id}/embedding"): Access.read,
    ("GET", "/api/models/{model_id}/decoder.onnx"): Access.read,
    ("GET", f"{P}/candidate-picks"): Access.read,
    ("GET", "/api/images/{image_id}/segments"): Access.read,
    ("POST", "/api/images/{image_id}/segments"): Access.label,
    ("GET", "/api/segments/{segment_id}"): Access.read,
    ("GET", "/api/segments/{segment_id}/thumbnail"): Access.read,
    ("GET", "/api/segments/{segment_id}/polygon"): Access.read,
    ("PATCH", "/api/segments/{segment_id}"): Access.label,
    ("DELETE", "/api/segments/{segment_id}"): Access.label,
    ("POST", "/api/segments/{segment_id}/merge"): Access.label,
    ("POST", "/api/segments/{segment_id}/split"): Access.label,
    ("GET", "/api/segments/{segment_id}/similar"): Access.read,
    # jobs
    ("GET", f"{P}/jobs"): Access.read,
    ("POST", f"{P}/jobs"): Access.admin,
    ("GET", f"{P}/jobs/events"): Access.read,
    ("GET", "/api/jobs/{job_id}"): Access.read,
    ("GET", "/api/jobs/{job_id}/items"): Access.read,
    ("POST", "/api/jobs/{job_id}/cancel"): Access.admin,
    # map, labelling, history, live updates
    ("GET", f"{P}/map"): Access.read,
    ("POST", f"{P}/assign"): Access.label,
    ("GET", f"{P}/history"): Access.read,
    ("GET", f"{P}/suggestions"): Access.read,
    ("GET", f"{P}/suggestions/map"): Access.read,
    ("POST", f"{P}/suggestions/accept"): Access.label,
    ("POST", f"{P}/suggestions/reject"): Access.label,
    ("GET", f"{P}/review"): Access.read,
    ("POST", f"{P}/confirm"): Access.label,
    ("GET", f"{P}/history/{{batch_id}}"): Access.read,
    ("GET", f"{P}/history/{{batch_id}}/columns"): Access.read,
    ("POST", f"{P}/history/{{batch_id}}/undo"): Access.label,
    ("GET", f"{P}/events"): Access.read,
    ("GET", f"{P}/presence"): Access.read,
    # Presence is not project data: viewers may say where they are too.
    ("POST", f"{P}/presence"): Access.read,
    ("DELETE", f"{P}/presence"): Access.read,
    # export / import
    ("GET", f"{P}/export"): Access.read,
    ("POST", f"{P}/import"): Access.admin,
    ("GET", f"{P}/eval"): Access.read,
    ("GET", f"{P}/stats"): Access.read,
}


def access_for(method: str, path: str) -> Access | None:
    """The rule for a route, or None when the route is not in the table (deny)."""
    return PERMISSIONS.get(("GET" if method == "HEAD" else method, path))
