"""Bearer tokens: 256 random bits, stored only as salted HMAC-SHA-256 hashes, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "hmac-sha256"


def new_token() -> str:
    """A fresh token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str, salt: bytes | None = None) -> str:
    """``hmac-sha256$<salt hex>$<digest hex>``: what configuration files store instead of the token."""
    s = salt if salt is not None else secrets.token_bytes(16)
    digest = hmac.new(s, token.encode(), hashlib.sha256).hexdigest()
    return f"{PREFIX}${s.hex()}${digest}"


def verify(token: str, stored: str) -> bool:
    """Whether ``token`` matches ``stored`` (constant-time comparison of the digests)."""
    try:
        kind, salt_hex, digest = stored.split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    if kind != PREFIX:
        return False
    mine = hmac.new(salt, token.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(mine, digest)
