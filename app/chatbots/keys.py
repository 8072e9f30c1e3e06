"""Resolving a presented API key to its chatbot."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.chatbots.models import ApiKey
from app.core.database import utcnow
from app.core.security import api_key_matches, hash_api_key

# last_used_at is informational; writing it on every request would serialise hot keys
_TOUCH_INTERVAL = timedelta(minutes=1)


def authenticate_key(db: Session, raw_key: str) -> ApiKey | None:
    """The active key matching `raw_key`, or None: unknown, revoked, malformed keys look alike."""
    if not raw_key or len(raw_key) > 128:
        return None
    # every caller goes on to the key's chatbot: load both in one statement
    stmt = (
        select(ApiKey)
        .options(joinedload(ApiKey.chatbot))
        .where(ApiKey.key_hash == hash_api_key(raw_key))
    )
    key = db.scalars(stmt).one_or_none()
    if key is None or key.revoked_at is not None or not api_key_matches(raw_key, key.key_hash):
        return None
    now = utcnow()
    last = key.last_used_at
    if last is None or now - last > _TOUCH_INTERVAL:
        key.last_used_at = now
        db.flush()
    return key
