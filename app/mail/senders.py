"""Where the outbox hands its messages: an SMTP server in production, the log on the embedded
default (no mail server needed; the message stays readable in the outbox and the log)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from app.core.config import Settings

log = logging.getLogger(__name__)


class Sender(Protocol):
    name: str

    def send(self, message: EmailMessage) -> None:
        """Delivers the message or raises (it is then tried again later)."""


class SmtpSender:
    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host
        self._host = settings.smtp_host
        self._port = settings.smtp_port
        self._security = settings.smtp_security
        self._username = settings.smtp_username
        self._password = settings.smtp_password
        self._timeout = settings.smtp_timeout_seconds

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self._security == "tls":
            smtp = smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=context)
        else:
            smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        with smtp:
            if self._security == "starttls":
                smtp.starttls(context=context)
            if self._username:
                smtp.login(self._username, self._password or "")
            smtp.send_message(message)


class LogSender:
    """The embedded default: the message is written to the log instead of sent."""

    name = "log"

    def send(self, message: EmailMessage) -> None:
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        log.info(
            "email (not sent: no SMTP_HOST) to %s: %s\n%s", message["To"], message["Subject"], text
        )


def build_sender(settings: Settings) -> Sender:
    return SmtpSender(settings) if settings.smtp_host else LogSender()
