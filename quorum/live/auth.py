"""Bearer tokens: 256 random bits, stored only as salted HMAC-SHA-256 hashes, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "hmac-sha256"
TOKEN_PREFIX = "qrm_"


def new_token() -> str:
    """A fresh token: ``qrm_`` then 32 random bytes in URL-safe base64 (47 characters in all).

    The prefix makes a leaked token recognisable to secret scanners, and it keeps a token from ever
    starting with ``-``: bare base64url does so one time in 64, and ``--token -x...`` then reads as an
    option to every command-line parser.
    """
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


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
