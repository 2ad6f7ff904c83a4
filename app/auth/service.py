"""AuthService: the per-app auth state (server key, login limiter, first-run setup token)."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from app.auth.keys import csrf_token, load_or_create_secret, same_secret
from app.auth.principal import LOCAL_ADMIN, Principal
from app.auth.ratelimit import FailureLimiter
from app.auth.tokens import issue_token, principal_for
from app.config import Settings
from app.db import Database
from app.errors import DomainError
from app.models import TokenKind, User

log = logging.getLogger(__name__)

SESSION_COOKIE = "lassolabel_session"
CSRF_COOKIE = "lassolabel_csrf"
CSRF_HEADER = "X-CSRF-Token"


class Unauthorized(DomainError):
    status_code, code = 401, "unauthorized"


class AuthService:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.required = settings.auth == "required"
        self.secret = load_or_create_secret(settings.data_dir)
        # 10 failures per username, 50 per client address, in 5 minutes.
        self.user_limiter = FailureLimiter(10, 300.0)
        self.address_limiter = FailureLimiter(50, 300.0)
        self.setup_token: str | None = None

    def authenticate(self, conn: HTTPConnection) -> Principal | None:
        """Bearer API token, else the session cookie, else None (anonymous).

        A presented but unknown bearer token is refused rather than ignored.
        """
        if not self.required:
            return LOCAL_ADMIN
        scheme, _, token = conn.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            with self.db.read() as session:
                principal = principal_for(session, token.strip(), TokenKind.api)
            if principal is None:
                raise Unauthorized("invalid or expired API token")
            return principal
        cookie = conn.cookies.get(SESSION_COOKIE)
        return self.authenticate_session(cookie) if cookie else None

    def authenticate_session(self, cookie: str) -> Principal | None:
        with self.db.read() as session:
            return principal_for(session, cookie, TokenKind.session)

    def csrf_for(self, principal: Principal) -> str | None:
        if principal.session_hash is None:
            return None
        return csrf_token(self.secret, principal.session_hash)

    def csrf_ok(self, principal: Principal, given: str | None) -> bool:
        expected = self.csrf_for(principal)
        return expected is None or same_secret(given, expected)

    def start_session(self, session: Session, user: User) -> str:
        """A new browser session for `user`; returns the cookie value."""
        ttl = timedelta(days=self.settings.session_days)
        return issue_token(session, user_id=user.id, kind=TokenKind.session, ttl=ttl)

    def open_setup(self) -> str:
        """Create the one-time first-run token (Jupyter-style) and print the link to use it."""
        self.setup_token = secrets.token_urlsafe(24)
        host = self.settings.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        log.warning(
            "no administrator yet: open http://%s:%s/login?setup=%s to create one "
            "(or run `lassolabel users create-admin NAME`)",
            shown,
            self.settings.port,
            self.setup_token,
        )
        return self.setup_token

    def take_setup_token(self, given: str) -> bool:
        """True once for the right token; the token is then gone."""
        if self.setup_token is None or not same_secret(given, self.setup_token):
            return False
        self.setup_token = None
        return True
