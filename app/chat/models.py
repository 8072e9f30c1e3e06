from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from app.core.enums import StoredEnum
from app.core.repository import TenantOwned

CHANNELS = ("api", "dashboard", "widget", "openai")


class ChatSession(UUIDPrimaryKey, TenantOwned, Base):
    __tablename__ = "chat_sessions"
    __label__ = "Session"

    chatbot_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("chatbots.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class MessageRole(StrEnum):
    """Who wrote a message: the person asking, or the chatbot answering."""

    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(StrEnum):
    """How a message ended: `failed` marks a question that got no answer, `interrupted` an
    answer cut short (its reader left, or the provider stopped)."""

    OK = "ok"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class ChatMessage(UUIDPrimaryKey, TenantOwned, Base):
    """One turn. A user's question is kept even when answering it failed (status `failed`)."""

    __tablename__ = "chat_messages"
    __label__ = "Message"

    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True
    )
    chatbot_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("chatbots.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[MessageRole] = mapped_column(StoredEnum(MessageRole, 16))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(
        StoredEnum(MessageStatus, 16), default=MessageStatus.OK
    )
    # a question for which retrieval found nothing relevant (what the documents are missing)
    unanswered: Mapped[bool] = mapped_column(Boolean, default=False)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    model: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(40))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Feedback(UUIDPrimaryKey, TenantOwned, Base):
    """A thumbs up or down on one answer; one per answer (the unique message_id). It lives with
    the messages because a transcript shows it; analytics aggregates it."""

    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("rating IN ('up', 'down')", name="rating"),)

    chatbot_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("chatbots.id", ondelete="CASCADE"), index=True
    )
    # deleted with the answer when chat history expires
    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("chat_messages.id", ondelete="CASCADE"), unique=True
    )
    rating: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
