"""Sign-in, first-run setup, invites, own password and own API tokens; the /login page."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.auth import accounts
from app.auth import tokens as token_store
from app.auth.guard import PrincipalDep, auth_service
from app.auth.principal import Principal
from app.auth.service import CSRF_COOKIE, SESSION_COOKIE, AuthService, Unauthorized
from app.deps import ContextDep, IdPath
from app.errors import Conflict, Forbidden, Invalid
from app.models import Role, TokenKind, User
from app.schemas.auth import (
    AuthStatus,
    InviteAccept,
    LoginRequest,
    Me,
    PasswordChange,
    SetupRequest,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenRead,
)
from app.web import FRONTEND_DIR

router = APIRouter(tags=["auth"])
_templates = Jinja2Templates(directory=FRONTEND_DIR / "templates")


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request) -> HTMLResponse:
    """Sign-in form; with ?setup=TOKEN the first-run admin form, with ?invite=TOKEN set-password."""
    return _templates.TemplateResponse(request, "login.html", {"page": "login"})


def _me(principal: Principal) -> Me:
    return Me(id=principal.user_id, username=principal.username, role=principal.role)


def _status(ctx: ContextDep, auth: AuthService, principal: Principal | None) -> AuthStatus:
    with ctx.db.read() as session:
        setup_required = auth.required and not accounts.has_admin(session)
    return AuthStatus(
        auth=ctx.settings.auth,
        user=_me(principal) if principal else None,
        setup_required=setup_required,
        csrf_token=auth.csrf_for(principal) if principal else None,
    )


def _sign_in(ctx: ContextDep, request: Request, response: Response, user: User) -> AuthStatus:
    """Open a session for `user`: HttpOnly session cookie plus the readable CSRF cookie."""
    auth = auth_service(request)
    with ctx.db.write() as session:
        cookie = auth.start_session(session, user)
    principal = auth.authenticate_session(cookie)
    if principal is None:  # the user was disabled in between
        raise Unauthorized("this account is disabled")
    secure = request.url.scheme == "https"
    max_age = ctx.settings.session_days * 86400
    response.set_cookie(
        SESSION_COOKIE, cookie, max_age, httponly=True, samesite="lax", secure=secure
    )
    csrf = auth.csrf_for(principal) or ""
    response.set_cookie(CSRF_COOKIE, csrf, max_age, samesite="strict", secure=secure)
    return _status(ctx, auth, principal)


@router.get("/api/auth/status", response_model=AuthStatus)
def status(ctx: ContextDep, request: Request) -> AuthStatus:
    """Who you are (null when signed out), whether first-run setup is pending, the CSRF token."""
    return _status(ctx, auth_service(request), request.state.principal)


@router.post("/api/auth/login", response_model=AuthStatus)
def login(ctx: ContextDep, request: Request, response: Response, body: LoginRequest) -> AuthStatus:
    """Password sign-in; failures are rate-limited per username and per client address."""
    auth = auth_service(request)
    if not auth.required:
        return _status(ctx, auth, request.state.principal)
    user_key = f"user:{body.username.lower()}"
    address_key = f"address:{request.client.host if request.client else '?'}"
    auth.user_limiter.check(user_key)
    auth.address_limiter.check(address_key)
    with ctx.db.read() as session:
        user = accounts.check_password(session, body.username, body.password)
    if user is None:
        auth.user_limiter.fail(user_key)
        auth.address_limiter.fail(address_key)
        raise Unauthorized("wrong username or password")
    auth.user_limiter.reset(user_key)
    return _sign_in(ctx, request, response, user)


@router.post("/api/auth/logout", status_code=204, response_class=Response)
def logout(ctx: ContextDep, principal: PrincipalDep) -> Response:
    response = Response(status_code=204)
    if principal.session_hash is not None:
        with ctx.db.write() as session:
            token_store.revoke_token_hash(session, principal.session_hash)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.post("/api/auth/setup", response_model=AuthStatus)
def setup(ctx: ContextDep, request: Request, response: Response, body: SetupRequest) -> AuthStatus:
    """First run: create the first administrator with the one-time token printed at start-up."""
    if not auth_service(request).take_setup_token(body.token):
        raise Forbidden("wrong or already used setup token", code="bad_setup_token")
    with ctx.db.write() as session:
        if accounts.has_admin(session):
            raise Conflict("an administrator already exists; sign in", code="setup_done")
        user = accounts.create_user(
            session, username=body.username, role=Role.admin, password=body.password
        )
    return _sign_in(ctx, request, response, user)


@router.post("/api/auth/invite", response_model=AuthStatus)
def accept_invite(
    ctx: ContextDep, request: Request, response: Response, body: InviteAccept
) -> AuthStatus:
    """An invited user chooses their password (the invite link works once)."""
    with ctx.db.write() as session:
        found = token_store.find_token(session, body.token, TokenKind.invite)
        if found is None:
            raise Forbidden("this invite link is invalid, used or expired", code="bad_invite")
        invite, user = found
        accounts.update_user(session, user.id, password=body.password)
        token_store.revoke_token_hash(session, invite.token_hash)
    return _sign_in(ctx, request, response, user)


@router.get("/api/auth/me", response_model=Me)
def me(principal: PrincipalDep) -> Me:
    return _me(principal)


def _account_id(principal: Principal) -> int:
    if principal.user_id is None:
        raise Invalid("single-user mode (LASSOLABEL_AUTH=none) has no accounts", code="no_accounts")
    return principal.user_id


@router.post("/api/auth/password", response_model=AuthStatus)
def change_password(
    ctx: ContextDep,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    body: PasswordChange,
) -> AuthStatus:
    """Change your own password; every other session of yours is signed out."""
    user_id = _account_id(principal)
    with ctx.db.write() as session:
        if accounts.check_password(session, principal.username, body.current_password) is None:
            raise Forbidden("current password is wrong", code="wrong_password")
        user = accounts.update_user(session, user_id, password=body.new_password)
    return _sign_in(ctx, request, response, user)


@router.get("/api/auth/tokens", response_model=TokenList)
def list_tokens(ctx: ContextDep, principal: PrincipalDep) -> TokenList:
    with ctx.db.read() as session:
        rows = token_store.list_api_tokens(session, _account_id(principal))
        return TokenList(items=[TokenRead.model_validate(row) for row in rows])


@router.post("/api/auth/tokens", response_model=TokenCreated, status_code=201)
def create_token(ctx: ContextDep, principal: PrincipalDep, body: TokenCreate) -> TokenCreated:
    """A new API token for scripts (`Authorization: Bearer llpat_...`), shown only now."""
    user_id = _account_id(principal)
    with ctx.db.write() as session:
        token = token_store.issue_token(
            session, user_id=user_id, kind=TokenKind.api, name=body.name, ttl=None
        )
        row = token_store.list_api_tokens(session, user_id)[-1]
        return TokenCreated(**TokenRead.model_validate(row).model_dump(), token=token)


@router.delete("/api/auth/tokens/{token_id}", status_code=204, response_class=Response)
def delete_token(ctx: ContextDep, principal: PrincipalDep, token_id: IdPath) -> Response:
    with ctx.db.write() as session:
        token_store.delete_api_token(session, user_id=_account_id(principal), token_id=token_id)
    return Response(status_code=204)
