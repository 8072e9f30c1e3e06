from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UUIDPrimaryKey, utcnow
from app.core.tenancy import TenantOwned


class UsageRecord(UUIDPrimaryKey, TenantOwned, Base):
    """One LLM call: the unit of usage-based billing."""

    __tablename__ = "usage_records"

    chatbot_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("chatbots.id", ondelete="SET NULL"), index=True
    )
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("chat_sessions.id", ondelete="SET NULL")
    )
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("chat_messages.id", ondelete="SET NULL")
    )
    model: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(40))
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class UsageTotal(Base):
    """A customer's running totals for one billing period (`YYYY-MM`), incremented atomically."""

    __tablename__ = "usage_totals"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    queries: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DemoUsage(TenantOwned, Base):
    """Messages a member of a free-plan customer has sent to one chatbot."""

    __tablename__ = "demo_usage"
    __table_args__ = (UniqueConstraint("user_id", "chatbot_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    chatbot_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("chatbots.id", ondelete="CASCADE")
    )
    messages: Mapped[int] = mapped_column(Integer, default=0)
