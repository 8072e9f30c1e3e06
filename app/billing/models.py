from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.database import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from app.core.enums import StoredEnum
from app.core.repository import CUSTOMER_WIDE, TenantOwned

# prices per 1,000 tokens are fractions of a cent; amounts are whole cents
Price = Numeric(12, 6)
Money = Numeric(12, 2)


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class UsageTotal(Base):
    """A customer's running totals for one billing period (`YYYY-MM`), incremented atomically."""

    __tablename__ = "usage_totals"
    __key_scope__ = CUSTOMER_WIDE  # a question through a key checks its customer's quota

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    queries: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UsageReservation(UUIDPrimaryKey, TenantOwned, Base):
    """Tokens set aside for an LLM call under way (`billing.service.reserve`); deleted when the
    answer is recorded. A reservation left by a process that died expires on its own."""

    __key_scope__ = CUSTOMER_WIDE  # a question through a key reserves from its customer's quota

    __tablename__ = "usage_reservations"

    period: Mapped[str] = mapped_column(String(7))
    tokens: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


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


class AllowanceAlert(UUIDPrimaryKey, TenantOwned, Base):
    """An alert emailed to a customer's owners when a period's usage reached a share of the
    plan's allowance. Unique per customer, period and threshold: whichever of several concurrent
    answers crosses the line first inserts it, the others find it there, so it goes out once."""

    __tablename__ = "allowance_alerts"
    __table_args__ = (UniqueConstraint("customer_id", "period", "percent"),)

    period: Mapped[str] = mapped_column(String(7))
    percent: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Plan(Base):
    """A row of the plan catalogue, which operators edit; `Customer.plan` names one."""

    __tablename__ = "plans"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    monthly_tokens: Mapped[int] = mapped_column(BigInteger)
    price_per_1k_input: Mapped[Decimal] = mapped_column(Price)
    price_per_1k_output: Mapped[Decimal] = mapped_column(Price)
    overage_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    # what a customer may store: documents and chunks over all its chatbots (None: no limit)
    max_documents: Mapped[int | None] = mapped_column(Integer)
    max_chunks: Mapped[int | None] = mapped_column(Integer)
    # what one crawl of a website source may read (always bounded: a crawl costs us traffic)
    max_crawl_pages: Mapped[int] = mapped_column(Integer, default=50, server_default="50")
    max_crawl_depth: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    # trafilatura takes about 1 s of CPU per 200 KB of HTML: the biggest pages cost the most
    max_page_kb: Mapped[int] = mapped_column(Integer, default=512, server_default="512")


class InvoiceCounter(Base):
    """The last number given out in one invoice series (`INV-2026`), raised atomically."""

    __tablename__ = "invoice_counters"

    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class InvoiceStatus(StrEnum):
    """A draft is recomputed while its month runs; an issued invoice is fixed."""

    DRAFT = "draft"
    ISSUED = "issued"
    PAID = "paid"
    VOID = "void"


class Invoice(UUIDPrimaryKey, Base):
    """What a customer owes for one calendar month (UTC) of usage records."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("customer_id", "period"),
        CheckConstraint("status IN ('draft', 'issued', 'paid', 'void')", name="status"),
    )

    # Not `TenantOwned`'s cascade: an issued invoice outlives its customer (the law keeps it for
    # years), with no customer any more (migration 0013); `billed_to` still says who was billed.
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    invoice_number: Mapped[str] = mapped_column(String(32), unique=True)
    period: Mapped[str] = mapped_column(String(7))
    status: Mapped[InvoiceStatus] = mapped_column(StoredEnum(InvoiceStatus, 8))
    currency: Mapped[str] = mapped_column(String(3))
    plan: Mapped[str] = mapped_column(String(40))
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(Money)
    # who was billed, as it stood when the invoice was made: later edits do not rewrite it
    billed_to: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_date: Mapped[date | None] = mapped_column(Date)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="InvoiceLine.position",
    )


class InvoiceLine(UUIDPrimaryKey, Base):
    """Tokens of one direction (input or output) on one chatbot, at the plan's price."""

    __tablename__ = "invoice_lines"

    invoice_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    chatbot_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("chatbots.id", ondelete="SET NULL")
    )
    description: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(8))
    tokens: Mapped[int] = mapped_column(BigInteger)
    price_per_1k: Mapped[Decimal] = mapped_column(Price)
    amount: Mapped[Decimal] = mapped_column(Money)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
