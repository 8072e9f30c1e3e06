"""Queueing an email: in the transaction of the request that decides to send it (a reset, an
invitation, an alert), as a row of the outbox, delivered once that transaction has committed.
A request never waits for a mail server, and a mail server that fails never undoes a request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.subjects import AuthSubject
from app.mail.compose import compose
from app.mail.models import OutboxEmail
from app.mail.repository import OutboxRepository

# session.info key: the session's transaction queued email, so the outbox wakes at its commit
QUEUED = "outbox_queued"


def link(settings: Settings, path: str) -> str:
    """An absolute link for an email: PUBLIC_BASE_URL (or the address the server was reached
    at, on the embedded default) and `path`, which starts with a slash."""
    return settings.public_base_url.rstrip("/") + path


def queue(
    db: Session,
    settings: Settings,
    *,
    customer_id: uuid.UUID,
    to: str,
    kind: str,
    subject: str,
    sensitive: bool = False,
    **context: Any,
) -> OutboxEmail:
    """Adds the email to the outbox in `db`'s transaction. `sensitive`: it carries a secret (a
    reset or invitation link), so its bodies are blanked once delivered."""
    composed = compose(kind, subject, settings.project_name, **context)
    email = OutboxEmail(
        id=uuid.uuid4(),
        customer_id=customer_id,
        kind=kind,
        to_address=to,
        subject=composed.subject,
        text_body=composed.text,
        html_body=composed.html,
        sensitive=sensitive,
    )
    db.add(email)
    db.info[QUEUED] = True
    return email


def recent(db: Session, subject: AuthSubject, limit: int = 100) -> Sequence[OutboxEmail]:
    return OutboxRepository(db).recent(subject, limit)
