"""The outbox's deliverer: a thread in each API process that sends what requests queued.

It wakes when a transaction that queued email commits, and every `POLL_SECONDS` for retries and
for what other processes queued. Each message is leased (`OutboxRepository.claim_due`) in a
short transaction of its own, sent with no transaction open (a slow mail server holds no lock
and no pooled connection), and its outcome recorded in another: sent, or tried again after
`email_retry_seconds` doubling each time, until `email_max_attempts`, then failed (and logged).
Several processes share the work without sending a message twice while its lease holds; a
process that dies mid-send leaves the message to be sent again when the lease ends (at least
once, as SMTP itself is).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.database import session_scope
from app.mail.compose import message
from app.mail.repository import OutboxRepository
from app.mail.senders import Sender, build_sender
from app.mail.service import QUEUED

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0
BATCH = 20
BYPASS = "the outbox delivers every customer's email"


@dataclass(frozen=True)
class _Leased:
    id: uuid.UUID
    to: str
    subject: str
    text: str
    html: str
    attempts: int
    sensitive: bool


class Outbox:
    def __init__(
        self, factory: sessionmaker[Session], settings: Settings, sender: Sender | None = None
    ) -> None:
        self._factory = factory
        self._settings = settings
        self.sender = sender or build_sender(settings)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # time.monotonic() of the soonest retry this process scheduled: the thread wakes for it
        # rather than at its next poll, so EMAIL_RETRY_SECONDS holds below POLL_SECONDS too
        self._soonest_retry: float | None = None
        event.listen(factory, "after_commit", self._after_commit)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(QUEUED, False):
            self._wake.set()

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="email-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.deliver_due()
            except Exception:
                log.exception("the email outbox failed to deliver; trying again shortly")
            self._wake.wait(self._until_next_pass())
            self._wake.clear()

    def _until_next_pass(self) -> float:
        soonest, self._soonest_retry = self._soonest_retry, None
        if soonest is None:
            return POLL_SECONDS
        return min(POLL_SECONDS, max(0.0, soonest - time.monotonic()))

    def deliver_due(self) -> int:
        """Sends every message due now; returns how many were sent."""
        sent = 0
        while not self._stopping.is_set():
            leased = self._lease()
            if not leased:
                break
            sent += sum(self._deliver(email) for email in leased)
        return sent

    def _lease(self) -> list[_Leased]:
        now = datetime.now(UTC)
        lease_until = now + timedelta(seconds=self._settings.smtp_timeout_seconds * 3 + 60)
        with session_scope(self._factory, bypass=BYPASS) as db:
            due = OutboxRepository(db).claim_due(now, lease_until, BATCH)
            return [
                _Leased(
                    e.id, e.to_address, e.subject, e.text_body, e.html_body, e.attempts, e.sensitive
                )
                for e in due
            ]

    def _deliver(self, email: _Leased) -> bool:
        settings = self._settings
        msg = message(
            sender=settings.mail_from,
            to=email.to,
            subject=email.subject,
            text=email.text,
            html=email.html,
        )
        try:
            self.sender.send(msg)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            retry_at = None
            if email.attempts < settings.email_max_attempts:
                delay = settings.email_retry_seconds * 2 ** (email.attempts - 1)
                retry_at = datetime.now(UTC) + timedelta(seconds=delay)
                due = time.monotonic() + delay
                self._soonest_retry = min(due, self._soonest_retry or due)
                log.warning("email %s to %s not sent (%s); trying again", email.id, email.to, error)
            else:
                log.error(
                    "email %s to %s not sent after %d attempts, given up: %s",
                    email.id,
                    email.to,
                    email.attempts,
                    error,
                )
            with session_scope(self._factory, bypass=BYPASS) as db:
                OutboxRepository(db).failed(email.id, error, retry_at)
            return False
        with session_scope(self._factory, bypass=BYPASS) as db:
            OutboxRepository(db).sent(email.id, datetime.now(UTC), blank=email.sensitive)
        return True
