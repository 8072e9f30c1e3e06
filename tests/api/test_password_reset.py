"""Password reset by email: the link arrives through a real SMTP server on loopback, works once
within 30 minutes, and ends every session of the account; asking tells nobody whether an
address has an account, and is throttled alike for known and unknown addresses."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.auth.models import AccountToken, User
from app.core.database import utcnow
from app.mail.models import OutboxEmail
from tests.conftest import operator_db, register_tenant
from tests.mailbox import html_of, link_in, text_of
from tests.servers import wait_for

BASE = "https://chat.example.com"
NEW_PASSWORD = "a brand new passphrase"
ASKED = "If an account exists for this address, we have sent a link to reset its password"


@pytest.fixture
def mail_app(app_with, mailbox):
    """(client, tenant) of an app delivering email to `mailbox`."""
    return app_with(**mailbox.settings(), public_base_url=BASE)


def forgot(client: TestClient, email: str):
    return client.post("/auth/password/forgot", json={"email": email})


def reset(client: TestClient, token: str, password: str = NEW_PASSWORD):
    return client.post("/auth/password/reset", json={"token": token, "password": password})


def reset_token(mailbox, email: str, count: int = 1) -> str:
    """The token of the `count`-th reset link sent to `email`, from its fragment."""
    message = mailbox.wait_for(email, count)[count - 1]
    link = link_in(message, "/dashboard/reset-password")
    assert link.startswith(f"{BASE}/dashboard/reset-password#token=")
    return link.split("#token=", 1)[1]


def login(client: TestClient, email: str, password: str):
    return client.post("/auth/login", json={"email": email, "password": password})


def me(client: TestClient, token: str):
    return client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})


def test_the_emailed_link_sets_a_new_password_once_and_signs_in(mail_app, mailbox):
    client, tenant = mail_app
    r = forgot(client, tenant.email)
    assert r.status_code == 202 and r.json() == {"message": ASKED}

    [message] = mailbox.wait_for(tenant.email)
    assert message["Subject"] == "Reset your password"
    assert "30 minutes" in text_of(message) and "30 minutes" in html_of(message)
    token = reset_token(mailbox, tenant.email)
    assert f"#token={token}" in html_of(message)

    r = reset(client, token)
    assert r.status_code == 200, r.text
    assert me(client, r.json()["access_token"]).json()["email"] == tenant.email
    assert login(client, tenant.email, NEW_PASSWORD).status_code == 200
    assert login(client, tenant.email, tenant.password).status_code == 401

    again = reset(client, token, "yet another passphrase")
    assert again.status_code == 400
    assert "not valid" in again.json()["error"]["message"]
    assert login(client, tenant.email, NEW_PASSWORD).status_code == 200


def test_only_the_hash_of_the_link_is_stored_and_the_delivered_email_is_blanked(mail_app, mailbox):
    client, tenant = mail_app
    forgot(client, tenant.email)
    token = reset_token(mailbox, tenant.email)
    with operator_db(client.app) as db:
        stored = db.scalars(select(AccountToken.token_hash)).all()
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64

    def delivered() -> OutboxEmail | None:
        with operator_db(client.app) as db:
            email = db.scalars(select(OutboxEmail)).one()
            return email if email.status == "sent" else None

    wait_for(delivered, 10, "the reset email marked sent")
    email = delivered()
    assert email is not None and email.sensitive
    assert email.text_body == email.html_body == ""


def test_an_unknown_address_gets_the_same_answer_and_no_email(mail_app, mailbox):
    client, tenant = mail_app
    unknown = "nobody-here@example.com"
    answers = [forgot(client, address) for address in (unknown, tenant.email)]

    assert [r.status_code for r in answers] == [202, 202]
    assert answers[0].json() == answers[1].json() == {"message": ASKED}
    # delivered in order: once the known address's email is in, an unknown one would be too
    mailbox.wait_for(tenant.email)
    assert mailbox.to(unknown) == []


def test_an_expired_link_is_refused(mail_app, mailbox):
    client, tenant = mail_app
    forgot(client, tenant.email)
    token = reset_token(mailbox, tenant.email)
    with operator_db(client.app) as db:
        db.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))

    r = reset(client, token)
    assert r.status_code == 400 and "expired" in r.json()["error"]["message"]
    assert login(client, tenant.email, tenant.password).status_code == 200


def test_the_link_lasts_30_minutes(mail_app, mailbox):
    client, tenant = mail_app
    before = utcnow()
    forgot(client, tenant.email)
    mailbox.wait_for(tenant.email)
    with operator_db(client.app) as db:
        [expires_at] = db.scalars(select(AccountToken.expires_at)).all()
    assert timedelta(minutes=29) < expires_at - before <= timedelta(minutes=30, seconds=5)


@pytest.mark.parametrize(
    "token", ["", "not-a-token", "x" * 257], ids=["empty", "unknown", "too long"]
)
def test_a_made_up_token_is_refused(mail_app, token):
    client, tenant = mail_app
    r = reset(client, token)
    assert r.status_code in (400, 422)
    assert login(client, tenant.email, tenant.password).status_code == 200


def test_the_new_password_follows_the_sign_up_rules(mail_app, mailbox):
    client, tenant = mail_app
    forgot(client, tenant.email)
    token = reset_token(mailbox, tenant.email)

    assert reset(client, token, "short").status_code == 422
    # the refused password did not use the link up
    assert reset(client, token).status_code == 200


def test_a_reset_ends_every_session_and_the_new_token_works(mail_app, mailbox):
    client, tenant = mail_app
    other_session = login(client, tenant.email, tenant.password).json()["access_token"]
    assert me(client, tenant.token).status_code == 200
    forgot(client, tenant.email)

    r = reset(client, reset_token(mailbox, tenant.email))
    assert r.status_code == 200
    for before in (tenant.token, other_session):
        assert me(client, before).status_code == 401
    assert tenant.get("/api/chatbots").status_code == 401
    assert me(client, r.json()["access_token"]).status_code == 200
    assert (
        me(client, login(client, tenant.email, NEW_PASSWORD).json()["access_token"]).status_code
        == 200
    )


def test_using_one_link_retires_the_others(mail_app, mailbox):
    client, tenant = mail_app
    forgot(client, tenant.email)
    forgot(client, tenant.email)
    first = reset_token(mailbox, tenant.email, 1)
    second = reset_token(mailbox, tenant.email, 2)

    assert reset(client, second).status_code == 200
    assert reset(client, first, "a third passphrase").status_code == 400
    assert login(client, tenant.email, NEW_PASSWORD).status_code == 200


def test_the_link_verifies_the_address(mail_app, mailbox):
    client, tenant = mail_app
    assert me(client, tenant.token).json()["email_verified"] is False
    forgot(client, tenant.email)

    r = reset(client, reset_token(mailbox, tenant.email))
    assert me(client, r.json()["access_token"]).json()["email_verified"] is True


def test_concurrent_uses_of_one_link_let_exactly_one_through(mail_app, mailbox):
    client, tenant = mail_app
    forgot(client, tenant.email)
    token = reset_token(mailbox, tenant.email)
    start = threading.Barrier(2)

    def use(n: int) -> int:
        start.wait()
        return reset(client, token, f"concurrent passphrase {n}").status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(use, range(2)))
    assert statuses == [200, 400]
    with operator_db(client.app) as db:
        version = db.scalar(select(User.session_version).where(User.email == tenant.email))
    assert version == 1
    winners = [
        n
        for n in range(2)
        if login(client, tenant.email, f"concurrent passphrase {n}").status_code == 200
    ]
    assert len(winners) == 1


def test_requests_for_one_address_are_throttled_alike_known_or_not(app_with, mailbox):
    client, tenant = app_with(
        **mailbox.settings(),
        password_resets_per_address="2/hour",
        password_resets_per_ip="100/hour",
    )
    for address in (tenant.email, "nobody-here@example.com"):
        assert [forgot(client, address).status_code for _ in range(2)] == [202, 202]
        r = forgot(client, address)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert "per email address" in r.json()["error"]["message"]
    # the address is counted however it is written
    assert forgot(client, tenant.email.upper()).status_code == 429
    assert len(mailbox.wait_for(tenant.email, 2)) == 2
    # another address, from the same client, is not affected
    assert forgot(client, register_tenant(client, "Globex").email).status_code == 202


def test_requests_from_one_client_address_are_throttled(app_with, mailbox):
    client, tenant = app_with(**mailbox.settings(), password_resets_per_ip="3/hour")
    # not entered: leaving it would run the app's shutdown, which stops its outbox
    other = TestClient(client.app, client=("198.51.100.9", 5000))
    for n in range(3):
        assert forgot(other, f"someone-{n}@example.com").status_code == 202
    r = forgot(other, tenant.email)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert "per client address" in r.json()["error"]["message"]
    # nothing was sent for the refused request; another client address still asks
    assert forgot(client, tenant.email).status_code == 202
    assert len(mailbox.wait_for(tenant.email)) == 1


def test_a_user_of_another_customer_is_untouched(mail_app, mailbox):
    client, tenant = mail_app
    other = register_tenant(client, "Globex")
    forgot(client, tenant.email)
    r = reset(client, reset_token(mailbox, tenant.email))

    assert r.status_code == 200
    assert me(client, r.json()["access_token"]).json()["customer"]["id"] == tenant.customer_id
    assert me(client, other.token).status_code == 200
    assert login(client, other.email, other.password).status_code == 200
    assert uuid.UUID(other.customer_id) != uuid.UUID(tenant.customer_id)
