"""Chat history expires after the customer's `retention_days`; usage records stay for billing.

Usage records point at sessions and messages with ON DELETE SET NULL, so deleting history keeps
every record (and every invoice's sum) intact; feedback goes with its answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from app.chat.models import ChatMessage, ChatSession
from app.core.database import utcnow
from app.customers.models import Customer


@dataclass(frozen=True)
class Purged:
    sessions: int
    messages: int


def purge_history(db: Session, customer: Customer, *, now: datetime | None = None) -> Purged:
    """Delete the customer's messages older than its retention, then the sessions left empty."""
    cutoff = (now or utcnow()) - timedelta(days=customer.retention_days)
    messages = db.execute(
        delete(ChatMessage)
        .where(ChatMessage.customer_id == customer.id, ChatMessage.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    sessions = db.execute(
        delete(ChatSession)
        .where(
            ChatSession.customer_id == customer.id,
            ChatSession.last_message_at < cutoff,
            ~exists(select(ChatMessage.id).where(ChatMessage.session_id == ChatSession.id)),
        )
        .execution_options(synchronize_session=False)
    )
    return Purged(sessions=sessions.rowcount, messages=messages.rowcount)  # type: ignore[attr-defined]
