"""The one access check: an app-wide dependency run before every route's own dependencies.

It authenticates (session cookie, Bearer token, or the implicit local admin when
LASSOLABEL_AUTH=none), looks the route up in the permission table (unlisted: denied),
checks CSRF for cookie-authenticated unsafe methods, and checks the caller's role in the
project the path names (non-members get 404).
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from app.auth.permissions import Access, access_for
from app.auth.principal import RANK, Principal
from app.auth.scope import project_in_path, role_in_project
from app.auth.service import CSRF_HEADER, AuthService, Unauthorized
from app.errors import Forbidden

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def auth_service(request: Request) -> AuthService:
    return request.app.state.context.auth


def _rule(request: Request) -> Access:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    rule = access_for(request.method, path) if path else None
    if rule is None:
        log.error("denied %s %s: route is not in the permission table", request.method, path)
        raise Forbidden("this route is not in the permission table", code="unlisted_route")
    return rule


def _to_login(request: Request) -> HTTPException:
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return HTTPException(303, "sign in first", {"Location": f"/login?next={target}"})


def authorize(request: Request) -> None:
    """Raises 401/403/404 (or 303 to /login for pages); sets request.state.principal."""
    rule = _rule(request)
    auth = auth_service(request)
    principal = auth.authenticate(request)
    request.state.principal = principal
    if rule is Access.public:
        return
    if principal is None:
        if rule is Access.page:
            raise _to_login(request)
        raise Unauthorized("sign in or send an API token (Authorization: Bearer ...)")
    if request.method not in SAFE_METHODS and not auth.csrf_ok(
        principal, request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden(f"missing or wrong {CSRF_HEADER} header", code="csrf_failed")
    minimum = rule.minimum_role
    if minimum is None or principal.is_admin:
        return
    with auth.db.read() as session:
        role = role_in_project(session, principal, project_in_path(session, request.path_params))
    if RANK[role] < RANK[minimum]:
        raise Forbidden(f"your role ({role.value}) may not do this")


def current_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise Unauthorized("sign in first")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
