from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from app.chatbots.models import ApiKey, Chatbot
from app.core.repository import TenantRepository, system
from app.core.subjects import AuthSubject

# last_used_at is informational; writing it on every request would serialise a hot key's requests
KEY_TOUCH_INTERVAL = timedelta(minutes=1)


class ChatbotRepository(TenantRepository[Chatbot]):
    model = Chatbot
    label = "Chatbot"

    def get_with_keys(self, subject: AuthSubject, chatbot_id: uuid.UUID) -> Chatbot:
        return self.get(subject, chatbot_id, options=[selectinload(Chatbot.api_keys)])

    def list_with_keys(self, subject: AuthSubject) -> Sequence[Chatbot]:
        stmt = (
            self.readable(subject)
            .options(selectinload(Chatbot.api_keys))
            .order_by(Chatbot.created_at)
        )
        return self.db.scalars(stmt).all()

    @system("the widget's CORS check has only the chatbot id")
    def customer_of(self, chatbot_id: uuid.UUID) -> uuid.UUID | None:
        """The customer owning a chatbot, for operator tools that are given a chatbot id."""
        return self.db.scalar(select(Chatbot.customer_id).where(Chatbot.id == chatbot_id))

    @system("the widget's CORS check has only the chatbot id")
    def allowed_origins(self, chatbot_id: uuid.UUID) -> list[str]:
        """The websites where a chatbot's widget works: public, read before any key is checked
        (CORS preflights carry no credentials)."""
        stmt = select(Chatbot.allowed_origins).where(Chatbot.id == chatbot_id)
        return self.db.scalar(stmt) or []


class ApiKeyRepository(TenantRepository[ApiKey]):
    model = ApiKey
    label = "API key"

    @system("a presented key is looked up before there is a subject")
    def by_hash(self, key_hash: str) -> ApiKey | None:
        """The key with this hash and its chatbot, in one statement: this runs before the caller
        is known, on every public request."""
        stmt = select(ApiKey).options(joinedload(ApiKey.chatbot)).where(ApiKey.key_hash == key_hash)
        return self.db.scalars(stmt).one_or_none()

    @system("records the use of the key that was just looked up")
    def touch(self, key_id: uuid.UUID, now: datetime) -> None:
        """Record that the key was used, at most once per KEY_TOUCH_INTERVAL."""
        self.db.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - KEY_TOUCH_INTERVAL),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
