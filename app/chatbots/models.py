from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.database import Base, Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow
from app.core.repository import TenantOwned

KEY_KINDS = ("secret", "widget")


class Chatbot(UUIDPrimaryKey, TenantOwned, Timestamps, Base):
    __tablename__ = "chatbots"
    __key_scope__ = "id"  # a chatbot key sees its own chatbot

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    demo_message_count: Mapped[int] = mapped_column(Integer, default=0)

    api_keys: Mapped[list[ApiKey]] = relationship(
        back_populates="chatbot", cascade="all, delete-orphan", passive_deletes=True
    )


class ApiKey(UUIDPrimaryKey, TenantOwned, Base):
    __tablename__ = "api_keys"
    __label__ = "API key"

    chatbot_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("chatbots.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Widget keys are publishable (they sit in customers' web pages), so the snippet endpoint
    # may show them again; secret keys are never stored, only their hash.
    publishable_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    chatbot: Mapped[Chatbot] = relationship(back_populates="api_keys")
