"""Passwords (Argon2), JWT access tokens and API-key material."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import JWTError, jwt
from passlib.context import CryptContext

from app.core.errors import Unauthorized

ALGORITHM = "HS256"
# a token without an expiry would be valid forever: refuse it
REQUIRED_CLAIMS = {"require_exp": True, "require_iat": True}
_pwd = CryptContext(schemes=["argon2"], deprecated="auto")


# Argon2 takes 64 MiB and a core for about a tenth of a second per hash: forty sign-ins at once
# took the server from 348 MB to 1.3 GB. This many hash at a time, the rest wait their turn.
MAX_CONCURRENT_HASHES = max(2, os.cpu_count() or 2)
_hashing = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


def hash_password(password: str) -> str:
    with _hashing:
        return _pwd.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    with _hashing:
        return _pwd.verify(password, password_hash)


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    customer_id: uuid.UUID
    # the user's session version when the token was issued (`User.session_version`)
    version: int


def _encode(subject: uuid.UUID, kind: str, secret: str, minutes: int, **claims: object) -> str:
    now = datetime.now(UTC)
    body = {
        "sub": str(subject),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "typ": kind,
        **claims,
    }
    return jwt.encode(body, secret, algorithm=ALGORITHM)


def _decode(token: str, kind: str, secret: str) -> dict[str, Any]:
    """The claims of a valid, unexpired token of this kind; JWTError for any other."""
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options=REQUIRED_CLAIMS)
    if claims.get("typ") != kind:
        raise JWTError("wrong token type")
    return claims


def create_access_token(
    *, user_id: uuid.UUID, customer_id: uuid.UUID, secret: str, minutes: int, version: int = 0
) -> str:
    return _encode(user_id, "access", secret, minutes, cid=str(customer_id), ver=version)


def decode_access_token(token: str, *, secret: str) -> TokenClaims:
    """The claims of a valid access token; 401 for any other. A token signed before tokens
    carried a version counts as version 0: the first reset ends it like any other."""
    try:
        claims = _decode(token, "access", secret)
        version = claims.get("ver", 0)
        if not isinstance(version, int):
            raise ValueError("the version is not a number")
        return TokenClaims(uuid.UUID(claims["sub"]), uuid.UUID(claims["cid"]), version)
    except (JWTError, KeyError, ValueError) as exc:
        raise Unauthorized("Invalid or expired token") from exc


VISITOR_TOKEN_MINUTES = 60


def create_visitor_token(*, chatbot_id: uuid.UUID, secret: str, preview: bool = False) -> str:
    """A short-lived token for the API's own widget pages (preview, iframe) of one chatbot;
    `preview`: the preview page's, which works before the owner's address is verified."""
    claims = {"page": "preview"} if preview else {}
    return _encode(chatbot_id, "visitor", secret, VISITOR_TOKEN_MINUTES, **claims)


def visitor_token_chatbot(token: str, *, secret: str, preview: bool = False) -> uuid.UUID | None:
    """The chatbot a valid, unexpired visitor token was minted for (a preview page's only, with
    `preview`); None for any other token."""
    try:
        claims = _decode(token, "visitor", secret)
        if preview and claims.get("page") != "preview":
            return None
        return uuid.UUID(claims["sub"])
    except (JWTError, KeyError, ValueError):
        return None


# API keys are 256-bit random strings, so a fast hash is as strong as a slow one here;
# a slow KDF would cost every public request tens of milliseconds.
KEY_PREFIXES = {"secret": "sk_", "widget": "pk_"}
VISIBLE_PREFIX_LEN = 12


def generate_api_key(kind: str) -> str:
    return KEY_PREFIXES[kind] + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hash_token(key)


# Emailed links (a password reset, an address verification) carry a 256-bit secret of their own;
# only its SHA-256 is stored, so the database alone opens no account.
def generate_link_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 (hex) of a 256-bit random secret: an API key or an emailed link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def api_key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), stored_hash)
