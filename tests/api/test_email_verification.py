"""Email verification: sign-up emails the owner a link (through a real SMTP server on loopback)
that verifies their address once; until it is used the customer's widget is not published and
its secret keys answer a demo's worth of questions; the dashboard works throughout."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.auth.models import AccountToken
from app.core.database import utcnow
from app.mail.models import OutboxEmail
from tests.conftest import Tenant, operator_db, register_tenant
from tests.mailbox import html_of, link_in, text_of

BASE = "https://chat.example.com"
SHOP = "https://shop.example.com"
NOT_VERIFIED = "This chatbot's owner has not verified their email address yet"


@pytest.fixture
def verifying(app_with, mailbox):
    """(client, tenant) of an app that requires verified addresses and delivers to `mailbox`."""
    return lambda **overrides: app_with(
        **mailbox.settings(), public_base_url=BASE, require_email_verification=True, **overrides
    )


def verification_token(mailbox, email: str, count: int = 1) -> str:
    message = mailbox.wait_for(email, count)[count - 1]
    link = link_in(message, "/dashboard/verify-email")
    assert link.startswith(f"{BASE}/dashboard/verify-email#token=")
    return link.split("#token=", 1)[1]


def verify(client: TestClient, token: str):
    return client.post("/auth/verify-email", json={"token": token})


def me(tenant: Tenant) -> dict:
    r = tenant.get("/auth/me")
    assert r.status_code == 200, r.text
    return r.json()


def ask_widget(client: TestClient, bot: dict, origin: str = SHOP, **headers: str):
    return client.post(
        f"/api/public/{bot['id']}/query",
        json={"question": "How long do I have to return an item?"},
        headers={"X-API-Key": bot["widget_key"], "Origin": origin, **headers},
    )


def ask_secret(client: TestClient, bot: dict, door: str):
    headers = {"Authorization": f"Bearer {bot['secret_key']}"}
    if door == "openai":
        body = {"model": bot["id"], "messages": [{"role": "user", "content": "Any returns?"}]}
        return client.post("/v1/chat/completions", json=body, headers=headers)
    return client.post(
        f"/api/public/{bot['id']}/query", json={"question": "Any returns?"}, headers=headers
    )


def test_sign_up_emails_a_link_that_verifies_the_address_once(verifying, mailbox):
    client, tenant = verifying()
    assert me(tenant)["email_verified"] is False
    assert me(tenant)["customer"]["verified"] is False

    [message] = mailbox.wait_for(tenant.email)
    assert message["Subject"] == "Confirm your email address"
    assert "48 hours" in text_of(message) and tenant.email in html_of(message)
    token = verification_token(mailbox, tenant.email)

    r = verify(client, token)
    assert r.status_code == 200, r.text
    assert r.json()["email"] == tenant.email and r.json()["email_verified_at"]
    assert me(tenant)["email_verified"] is True
    assert me(tenant)["customer"]["verified"] is True

    again = verify(client, token)
    assert again.status_code == 400
    assert "not valid" in again.json()["error"]["message"]


def test_an_expired_verification_link_is_refused(verifying, mailbox):
    client, tenant = verifying()
    token = verification_token(mailbox, tenant.email)
    with operator_db(client.app) as db:
        db.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))

    r = verify(client, token)
    assert r.status_code == 400 and "expired" in r.json()["error"]["message"]
    assert me(tenant)["email_verified"] is False


def test_a_password_reset_link_does_not_verify_through_this_door(verifying, mailbox):
    client, tenant = verifying()
    client.post("/auth/password/forgot", json={"email": tenant.email})
    message = mailbox.wait_for(tenant.email, 2)[1]
    token = link_in(message, "/dashboard/reset-password").split("#token=", 1)[1]

    assert verify(client, token).status_code == 400
    assert me(tenant)["email_verified"] is False


def test_resend_sends_a_new_link_throttled_and_refused_once_verified(verifying, mailbox):
    client, tenant = verifying(verification_emails_per_user="2/hour")
    assert client.post("/auth/verify-email/resend").status_code == 401

    for count in (2, 3):
        r = tenant.post("/auth/verify-email/resend")
        assert r.status_code == 202 and tenant.email in r.json()["message"]
        verification_token(mailbox, tenant.email, count)
    r = tenant.post("/auth/verify-email/resend")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0

    # every link sent still works until used: the first one verifies
    assert verify(client, verification_token(mailbox, tenant.email, 1)).status_code == 200
    r = tenant.post("/auth/verify-email/resend")
    assert r.status_code == 409 and "already verified" in r.json()["error"]["message"]


def test_the_unverified_widget_is_not_published_but_the_preview_works(verifying, mailbox):
    client, tenant = verifying()
    bot = tenant.create_chatbot(name="Shop help", allowed_origins=[SHOP])

    r = ask_widget(client, bot)
    assert r.status_code == 403 and NOT_VERIFIED in r.json()["error"]["message"]
    # the API's preview page for the chatbot answers; its iframe variant, which websites
    # frame, does not
    own = client.app.state.settings.public_base_url
    for page, status in (("demo", 200), ("frame", 403)):
        html = client.get(f"/widget/{page}/{bot['id']}", params={"key": bot["widget_key"]}).text
        token = re.search(r'data-visitor-token="([^"]+)"', html)
        assert token, html
        r = ask_widget(client, bot, origin=own, **{"X-Visitor-Token": token.group(1)})
        assert r.status_code == status, (page, r.text)
    # the dashboard's playground works
    r = tenant.post(
        f"/api/{tenant.customer_id}/{bot['id']}/query", json={"question": "Any returns?"}
    )
    assert r.status_code == 200, r.text

    assert verify(client, verification_token(mailbox, tenant.email)).status_code == 200
    assert ask_widget(client, bot).status_code == 200


def test_unverified_secret_keys_answer_the_demo_limit_in_all_then_refuse(verifying, mailbox):
    client, tenant = verifying(demo_message_limit=3)
    first = tenant.create_chatbot(name="First")
    second = tenant.create_chatbot(name="Second")

    # one allowance for the customer: both chatbots, both doors
    answered = [
        ask_secret(client, first, "public"),
        ask_secret(client, second, "openai"),
        ask_secret(client, first, "openai"),
    ]
    assert [r.status_code for r in answered] == [200, 200, 200], [r.text for r in answered]
    for bot, door in ((first, "public"), (second, "public"), (second, "openai")):
        r = ask_secret(client, bot, door)
        assert r.status_code == 403, r.text
        assert NOT_VERIFIED in r.json()["error"]["message"]
        assert "3 questions" in r.json()["error"]["message"]
    # the dashboard is not limited by it
    r = tenant.post(f"/api/{tenant.customer_id}/{first['id']}/query", json={"question": "Hi?"})
    assert r.status_code == 200, r.text

    assert verify(client, verification_token(mailbox, tenant.email)).status_code == 200
    assert ask_secret(client, first, "public").status_code == 200
    assert ask_secret(client, second, "openai").status_code == 200


def test_one_customer_verifying_publishes_nothing_of_another(verifying, mailbox):
    client, tenant = verifying(demo_message_limit=1)
    other = register_tenant(client, "Globex")
    mine = tenant.create_chatbot(name="Mine", allowed_origins=[SHOP])
    theirs = other.create_chatbot(name="Theirs", allowed_origins=[SHOP])
    assert verify(client, verification_token(mailbox, tenant.email)).status_code == 200

    assert ask_widget(client, mine).status_code == 200
    assert ask_widget(client, theirs).status_code == 403
    assert ask_secret(client, mine, "public").status_code == 200
    assert ask_secret(client, mine, "public").status_code == 200
    assert ask_secret(client, theirs, "public").status_code == 200
    assert ask_secret(client, theirs, "public").status_code == 403
    assert me(other)["customer"]["verified"] is False


def test_a_members_verification_does_not_publish_the_customer(verifying, mailbox):
    client, tenant = verifying()
    member = tenant.add_user("member")
    bot = tenant.create_chatbot(name="Shop help", allowed_origins=[SHOP])
    assert member.post("/auth/verify-email/resend").status_code == 202

    assert verify(client, verification_token(mailbox, member.email)).status_code == 200
    assert me(member)["email_verified"] is True
    assert me(member)["customer"]["verified"] is False
    assert ask_widget(client, bot).status_code == 403


def test_an_install_that_does_not_require_verification_sends_nothing_and_publishes(
    app_with, mailbox
):
    client, tenant = app_with(
        **mailbox.settings(), public_base_url=BASE, require_email_verification=False
    )
    bot = tenant.create_chatbot(name="Shop help", allowed_origins=[SHOP])

    assert me(tenant)["email_verified"] is False
    assert me(tenant)["customer"]["verified"] is True
    assert ask_widget(client, bot).status_code == 200
    with operator_db(client.app) as db:
        assert db.scalar(select(func.count(OutboxEmail.id))) == 0
    # a user may still verify their address: the link is sent when asked for
    assert tenant.post("/auth/verify-email/resend").status_code == 202
    assert verify(client, verification_token(mailbox, tenant.email)).status_code == 200
