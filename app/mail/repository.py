from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from app.core.repository import TenantRepository, system
from app.core.subjects import AuthSubject
from app.mail.models import EmailStatus, OutboxEmail


class OutboxRepository(TenantRepository[OutboxEmail]):
    model = OutboxEmail
    label = "Email"

    def recent(self, subject: AuthSubject, limit: int) -> Sequence[OutboxEmail]:
        stmt = self.readable(subject).order_by(OutboxEmail.created_at.desc()).limit(limit)
        return self.db.scalars(stmt).all()

    # The outbox's deliverer acts for every customer: it has only the rows that are due.

    @system("the outbox delivers every customer's email")
    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxEmail]:
        """Due messages, each leased until `lease_until` with its attempt counted: another
        process skips the rows this one has locked (PostgreSQL) and, once this transaction
        commits, the lease; a process that dies while sending leaves a message due again when
        its lease ends."""
        stmt = (
            select(OutboxEmail)
            .where(OutboxEmail.status == EmailStatus.PENDING, OutboxEmail.next_attempt_at <= now)
            .order_by(OutboxEmail.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        due = list(self.db.scalars(stmt))
        for email in due:
            email.attempts += 1
            email.next_attempt_at = lease_until
        self.db.flush()
        return due

    @system("the outbox delivers every customer's email")
    def sent(self, email_id: uuid.UUID, now: datetime, *, blank: bool) -> None:
        values: dict[str, object] = {"status": EmailStatus.SENT, "sent_at": now, "last_error": None}
        if blank:  # the secret link it carried is delivered: nothing keeps it at rest
            values |= {"text_body": "", "html_body": ""}
        self.db.execute(update(OutboxEmail).where(OutboxEmail.id == email_id).values(values))

    @system("the outbox delivers every customer's email")
    def failed(self, email_id: uuid.UUID, error: str, retry_at: datetime | None) -> None:
        """A failed attempt: tried again at `retry_at`, or given up (status failed) with None."""
        values: dict[str, object] = {"last_error": error[:2000]}
        values |= {"next_attempt_at": retry_at} if retry_at else {"status": EmailStatus.FAILED}
        self.db.execute(update(OutboxEmail).where(OutboxEmail.id == email_id).values(values))
