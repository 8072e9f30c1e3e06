"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for the email tests.

`mailbox.refuse_next(n)` makes it answer the next n messages with a temporary failure (451), as
a mail server that is overloaded does; `mailbox.stop()` takes it off the network altogether.
"""

from __future__ import annotations

import re
import threading
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

from tests.servers import free_port


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._refuse = 0
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            if self._refuse:
                self._refuse -= 1
                return "451 4.3.0 Mailbox busy, try again later"
            parsed = BytesParser(policy=policy.default).parsebytes(envelope.content)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(parsed)
        return "250 OK"

    def start(self) -> Mailbox:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse_next(self, count: int) -> None:
        with self._lock:
            self._refuse = count

    def settings(self) -> dict[str, object]:
        """App settings that deliver to this mailbox, retrying quickly."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_security": "none",
            "email_retry_seconds": 0.2,
        }

    def wait_for(self, to: str, count: int = 1, timeout: float = 30.0) -> list[EmailMessage]:
        """The first `count` messages to `to`, once they have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [m for m in self.messages if m["To"] == to]
            if len(found) >= count:
                return found[:count]
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} message(s) to {to} did not arrive; got {len(found)}")
            time.sleep(0.05)

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the message has no text part"
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "the message has no HTML part"
    return str(part.get_content())


def link_in(message: EmailMessage, path: str) -> str:
    """The link to `path` (e.g. "/dashboard/reset-password") in the message's text part."""
    found = re.search(r"https?://\S*" + re.escape(path) + r"\S*", text_of(message))
    assert found, f"no link to {path} in:\n{text_of(message)}"
    return found.group(0)
