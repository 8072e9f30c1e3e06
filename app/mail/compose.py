"""An email's text and HTML parts from the templates in `templates/`: `<kind>.txt` and
`<kind>.html`, the HTML autoescaped, so a customer's name or an address never becomes markup."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from app.core.templates import environment

TEMPLATES = Path(__file__).parent / "templates"
KINDS = ("password_reset", "email_verification", "invitation", "allowance_alert")


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


def compose(kind: str, subject: str, product: str, **context: Any) -> Composed:
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}")
    env = environment(TEMPLATES)
    values = {"subject": subject, "product": product, **context}
    text = env.get_template(f"{kind}.txt").render(values)
    html = env.get_template(f"{kind}.html").render(values)
    return Composed(subject, text, html)


def message(*, sender: str, to: str, subject: str, text: str, html: str) -> EmailMessage:
    """A multipart/alternative message: the text part first, the HTML part preferred."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
