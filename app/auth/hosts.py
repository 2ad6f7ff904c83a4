"""Network exposure: the Host-header allowlist (DNS rebinding), the Origin check on unsafe
requests (cross-site forms), and the rule that single-user mode only binds to loopback."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.errors import error_response

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class UnsafeBinding(ValueError):
    """Refused configuration: what would expose an unauthenticated server to the network."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def ensure_safe_binding(settings: Settings) -> None:
    if settings.auth == "none" and not is_loopback(settings.host):
        raise UnsafeBinding(
            f"LASSOLABEL_AUTH=none (no accounts) is only allowed on a loopback address, not "
            f"{settings.host!r}: anyone on the network could label, delete and read everything. "
            "Bind to 127.0.0.1, or use LASSOLABEL_AUTH=required and create accounts."
        )


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """Accepted Host header values: `name:port` entries, or bare `name` for any port."""
    names = {f"{name}:{settings.port}" for name in LOOPBACK_NAMES}
    if settings.port == 80:
        names.update(LOOPBACK_NAMES)
    names.update(settings.allowed_hosts)
    if settings.host in ("0.0.0.0", "::"):
        # Bound to every interface: this machine's own name and addresses are expected.
        hostname = socket.gethostname()
        names.update({hostname, f"{hostname}.local"})
    elif not is_loopback(settings.host):
        names.add(settings.host)
    return frozenset(names)


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    bare = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return host in allowed or bare in allowed


class HostGuard:
    """ASGI middleware: 400 for an unknown Host, 403 for an unsafe request from a foreign Origin."""

    def __init__(self, app: ASGIApp, *, allowed: frozenset[str], origins: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed
        self.origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "").lower()
        if not host_allowed(host, self.allowed):
            message = f"host {host!r} is not allowed; add it to LASSOLABEL_ALLOWED_HOSTS"
            await error_response(400, "bad_host", message)(scope, receive, send)
            return
        origin = headers.get("origin")
        if scope.get("method") in _UNSAFE and origin and not self._same_site(origin):
            message = f"cross-site request from {origin!r} refused"
            await error_response(403, "bad_origin", message)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _same_site(self, origin: str) -> bool:
        if origin in self.origins:
            return True
        return host_allowed(urlsplit(origin).netloc.lower(), self.allowed)
