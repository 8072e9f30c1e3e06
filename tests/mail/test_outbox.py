"""The outbox: email queued in a request's transaction is delivered after it commits, through a
real SMTP server on loopback; a failing mail server delays the email, never the request."""

from __future__ import annotations

import logging
import uuid

from app.core.database import session_scope
from app.core.tenancy import act_for
from app.mail import service as mail
from app.mail.models import OutboxEmail
from tests.conftest import register_tenant
from tests.mailbox import html_of, text_of
from tests.servers import wait_for

TO = "someone@example.com"


def _queue(app, tenant, *, commit: bool = True, customer_name: str = "Acme") -> uuid.UUID:
    """Queues an allowance alert for the tenant, as a request's transaction would."""
    customer_id = uuid.UUID(tenant.customer_id)
    try:
        with session_scope(app.state.sessionmaker) as db:
            act_for(db, customer_id)
            email = mail.queue(
                db,
                app.state.settings,
                customer_id=customer_id,
                to=TO,
                kind="allowance_alert",
                subject="80 % of your allowance used",
                customer=customer_name,
                plan="free",
                percent=80,
                period="2026-12",
                used=80_000,
                allowance=100_000,
                overage=False,
                url=mail.link(app.state.settings, "/dashboard/usage"),
            )
            if not commit:
                raise RuntimeError("the request failed after queueing")
    except RuntimeError:
        pass
    return email.id


def _emails(tenant) -> list[dict]:
    response = tenant.get("/api/emails")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_committed_email_arrives_with_text_and_escaped_html_parts(app_with, mailbox):
    client, tenant = app_with(**mailbox.settings(), public_base_url="https://chat.example.com")
    _queue(client.app, tenant, customer_name="<b>Acme</b> & Co")
    [message] = mailbox.wait_for(TO)
    assert message["Subject"] == "80 % of your allowance used"
    assert message["From"] == client.app.state.settings.mail_from
    text, html = text_of(message), html_of(message)
    assert "<b>Acme</b> & Co has used 80 %" in text
    assert "&lt;b&gt;Acme&lt;/b&gt; &amp; Co" in html and "<b>Acme</b>" not in html
    assert "https://chat.example.com/dashboard/usage" in text
    assert 'href="https://chat.example.com/dashboard/usage"' in html
    wait_for(lambda: _emails(tenant)[0]["status"] == "sent", 30, "the email to be marked sent")
    [listed] = _emails(tenant)
    assert (
        listed["to_address"] == TO
        and listed["attempts"] == 1
        and listed["kind"] == "allowance_alert"
    )
    assert "text_body" not in listed and "html_body" not in listed


def test_an_email_queued_by_a_transaction_that_rolls_back_is_never_sent(app_with, mailbox):
    client, tenant = app_with(**mailbox.settings())
    _queue(client.app, tenant, commit=False)
    _queue(client.app, tenant)  # a later one is, so the outbox has run since
    mailbox.wait_for(TO)
    wait_for(lambda: _emails(tenant)[0]["status"] == "sent", 30, "the email to be marked sent")
    assert len(mailbox.to(TO)) == 1 and len(_emails(tenant)) == 1


def test_a_refusing_mail_server_delays_the_email_and_shows_why(app_with, mailbox):
    client, tenant = app_with(**mailbox.settings())
    mailbox.refuse_next(2)
    _queue(client.app, tenant)
    [message] = mailbox.wait_for(TO)
    assert "80 %" in text_of(message)
    wait_for(lambda: _emails(tenant)[0]["status"] == "sent", 30, "the email to be marked sent")
    [listed] = _emails(tenant)
    assert listed["attempts"] == 3
    assert len(mailbox.to(TO)) == 1


def test_a_mail_server_that_never_answers_fails_the_email_visibly(app_with, mailbox, caplog):
    client, tenant = app_with(**mailbox.settings(), email_max_attempts=2)
    mailbox.stop()
    with caplog.at_level(logging.WARNING, logger="app.mail.outbox"):
        _queue(client.app, tenant)
        wait_for(lambda: _emails(tenant)[0]["status"] == "failed", 30, "the email to fail")
    [listed] = _emails(tenant)
    assert listed["attempts"] == 2 and "Connection" in listed["last_error"]
    assert any("given up" in r.getMessage() for r in caplog.records)


def test_without_smtp_the_email_is_logged_and_kept_in_the_outbox(app_with, caplog):
    client, tenant = app_with()
    with caplog.at_level(logging.INFO, logger="app.mail.senders"):
        email_id = _queue(client.app, tenant)
        wait_for(lambda: _emails(tenant)[0]["status"] == "sent", 30, "the email to be logged")
    logged = [r.getMessage() for r in caplog.records if "not sent: no SMTP_HOST" in r.getMessage()]
    assert len(logged) == 1 and TO in logged[0] and "80 % of the free plan" in logged[0]
    with client.app.state.sessionmaker() as db:
        kept = db.get(OutboxEmail, email_id)
        assert kept is not None and "80 % of the free plan" in kept.text_body


def test_a_customer_sees_only_its_own_outbox(app_with, mailbox):
    client, tenant = app_with(**mailbox.settings())
    _queue(client.app, tenant)
    mailbox.wait_for(TO)
    other = register_tenant(client, "Globex")
    assert other.get("/api/emails").json() == []
    assert len(_emails(tenant)) == 1
