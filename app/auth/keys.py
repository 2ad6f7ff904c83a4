"""Secrets: the server key file, random bearer tokens (stored as hashes) and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = "secret.key"

# Prefixes make a leaked token recognisable (secret scanners, logs) and say what it is for.
TOKEN_PREFIX = {"session": "llses_", "api": "llpat_", "invite": "llinv_"}


def load_or_create_secret(data_dir: Path) -> bytes:
    """The server's 32-byte key: generated on first start, then read back (file mode 0600)."""
    path = data_dir / SECRET_FILE
    key = secrets.token_bytes(32)
    # Written whole under a private name, then linked into place (fails if it exists): a
    # second server process starting at the same moment never reads a half-written key.
    tmp = data_dir / f".{SECRET_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key.hex())
    try:
        os.link(tmp, path)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return bytes.fromhex(path.read_text().strip())
    finally:
        tmp.unlink()
    return key


def new_token(kind: str) -> str:
    """A fresh bearer secret, e.g. `llpat_` + 43 URL-safe characters (256 random bits)."""
    return TOKEN_PREFIX[kind] + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex: enough for 256-bit random secrets (no brute force is possible)."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret: bytes, session_hash: str) -> str:
    """The CSRF token bound to one session: HMAC(server key, session hash)."""
    return hmac.new(secret, b"csrf:" + session_hash.encode(), hashlib.sha256).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
