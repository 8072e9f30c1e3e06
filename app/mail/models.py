from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from app.core.enums import StoredEnum
from app.core.repository import TenantOwned


class EmailStatus(StrEnum):
    """`pending` until delivered (retried meanwhile), `failed` once the retries are given up."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxEmail(UUIDPrimaryKey, TenantOwned, Base):
    """An email to send, written in the transaction of the request that decided to send it and
    delivered after it commits (`app/mail/outbox.py`): a failed delivery is retried, and never
    undoes or loses the request. On the embedded default the outbox is also where a developer
    reads what was sent (and the log)."""

    __tablename__ = "outbox_emails"
    __table_args__ = (CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),)

    kind: Mapped[str] = mapped_column(String(32))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # holds a secret (a reset or invitation link): the bodies are blanked once delivered
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[EmailStatus] = mapped_column(
        StoredEnum(EmailStatus, 8), default=EmailStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
