"""Chat history expires after the customer's `retention_days`; usage records stay for billing.

Usage records point at sessions and messages with ON DELETE SET NULL, so deleting history keeps
every record (and every invoice's sum) intact; feedback goes with its answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.chat.repository import ChatSessionRepository, Purged
from app.core.database import utcnow
from app.core.subjects import AuthSubject
from app.customers.repository import CustomerRepository

__all__ = ["Purged", "purge_history"]


def purge_history(db: Session, subject: AuthSubject, *, now: datetime | None = None) -> Purged:
    """Delete the customer's messages older than its retention, then the sessions left empty."""
    customer = CustomerRepository(db).of(subject)
    cutoff = (now or utcnow()) - timedelta(days=customer.retention_days)
    return ChatSessionRepository(db).purge_older_than(subject, cutoff)
