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


def _encode(subject: uuid.UUID, kind: str, secret: str, minutes: int, **claims: str) -> str:
    now = datetime.now(UTC)
    body = {
        "sub": str(subject),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "typ": kind,
        **claims,
    }
    return jwt.encode(body, secret, algorithm=ALGORITHM)


def _decode(token: str, kind: str, secret: str) -> dict[str, str]:
    """The claims of a valid, unexpired token of this kind; JWTError for any other."""
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options=REQUIRED_CLAIMS)
    if claims.get("typ") != kind:
        raise JWTError("wrong token type")
    return claims


def create_access_token(
    *, user_id: uuid.UUID, customer_id: uuid.UUID, secret: str, minutes: int
) -> str:
    return _encode(user_id, "access", secret, minutes, cid=str(customer_id))


def decode_access_token(token: str, *, secret: str) -> TokenClaims:
    try:
        claims = _decode(token, "access", secret)
        return TokenClaims(uuid.UUID(claims["sub"]), uuid.UUID(claims["cid"]))
    except (JWTError, KeyError, ValueError) as exc:
        raise Unauthorized("Invalid or expired token") from exc


VISITOR_TOKEN_MINUTES = 60


def create_visitor_token(*, chatbot_id: uuid.UUID, secret: str) -> str:
    """A short-lived token for the API's own widget pages (preview, iframe) of one chatbot."""
    return _encode(chatbot_id, "visitor", secret, VISITOR_TOKEN_MINUTES)


def visitor_token_chatbot(token: str, *, secret: str) -> uuid.UUID | None:
    """The chatbot a valid, unexpired visitor token was minted for; None for any other token."""
    try:
        return uuid.UUID(_decode(token, "visitor", secret)["sub"])
    except (JWTError, KeyError, ValueError):
        return None


# API keys are 256-bit random strings, so a fast hash is as strong as a slow one here;
# a slow KDF would cost every public request tens of milliseconds.
KEY_PREFIXES = {"secret": "sk_", "widget": "pk_"}
VISIBLE_PREFIX_LEN = 12


def generate_api_key(kind: str) -> str:
    return KEY_PREFIXES[kind] + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), stored_hash)
