"""Team invitations by email, delivered through a real SMTP server on loopback: staff invite an
address with a role, the emailed link lets the invitee choose a password once, and the link says
why it no longer works (accepted, revoked or replaced, expired)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.auth.models import User
from app.auth.repository import UserRepository
from app.core.database import utcnow
from app.customers.models import Invitation
from tests.conftest import login, operator_db, register_tenant
from tests.mailbox import html_of, link_in, text_of
from tests.races import check_together

PASSWORD = "a password of their own"
BASE_URL = "https://chat.example.com"
LINK = "/dashboard/accept-invitation"


@pytest.fixture
def team(app_with, mailbox):
    """(client, owner of Acme) on an app that delivers its email to `mailbox`."""
    return app_with(**mailbox.settings(), public_base_url=BASE_URL)


def invite(tenant, email: str, role: str = "member") -> dict:
    r = tenant.post("/api/users/invitations", json={"email": email, "role": role})
    assert r.status_code == 201, r.text
    return r.json()


def token_in(mailbox, to: str, count: int = 1) -> str:
    """The token of the `count`-th invitation emailed to `to`, from its link's fragment."""
    link = link_in(mailbox.wait_for(to, count)[count - 1], LINK)
    assert link.startswith(f"{BASE_URL}{LINK}#token="), link
    return link.split("#token=", 1)[1]


def accept(client, token: str, password: str = PASSWORD):
    return client.post("/auth/invitations/accept", json={"token": token, "password": password})


def inspect(client, token: str):
    return client.post("/auth/invitations/inspect", json={"token": token})


def assert_refused(response, reason: str, words: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == f"invitation_{reason}", error
    assert words in error["message"], error


def users_with(client, email: str) -> list[User]:
    with operator_db(client.app) as db:
        return list(db.scalars(select(User).where(User.email == email)))


def test_the_emailed_link_makes_the_invitee_a_user_of_that_customer_with_that_role(team, mailbox):
    client, owner = team
    bot = owner.create_chatbot(name="Shop help")
    sent = invite(owner, "Ann@Acme.example", role="admin")
    assert sent["email"] == "ann@acme.example" and sent["role"] == "admin"
    assert sent["invited_by"] == owner.email
    assert set(sent) == {"id", "email", "role", "invited_by", "created_at", "expires_at"}

    [message] = mailbox.wait_for("ann@acme.example")
    assert message["Subject"] == "Join Acme on RAG Chatbot Platform"
    text = text_of(message)
    assert f"{owner.email} invites you to join Acme" in text and "as an admin" in text
    assert "within 7 days" in text
    token = token_in(mailbox, "ann@acme.example")
    assert token not in str(owner.get("/api/users/invitations").json())
    assert f'href="{BASE_URL}{LINK}#token={token}"' in html_of(message)

    preview = inspect(client, token)
    assert preview.status_code == 200, preview.text
    assert {k: preview.json()[k] for k in ("customer_name", "email", "role")} == {
        "customer_name": "Acme",
        "email": "ann@acme.example",
        "role": "admin",
    }
    r = accept(client, token)
    assert r.status_code == 201, r.text
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["role"] == "admin" and me.json()["customer"]["id"] == owner.customer_id

    ann = login(client, "ann@acme.example", PASSWORD)
    assert [b["id"] for b in ann.get("/api/chatbots").json()] == [bot["id"]]
    [user] = users_with(client, "ann@acme.example")
    assert user.email_verified_at is not None  # the link proved the address
    assert owner.get("/api/users/invitations").json() == []
    assert "ann@acme.example" in [u["email"] for u in owner.get("/api/users").json()]


def test_a_link_works_once(team, mailbox):
    client, owner = team
    invite(owner, "bob@acme.example")
    token = token_in(mailbox, "bob@acme.example")
    assert accept(client, token).status_code == 201
    assert_refused(accept(client, token, "another password"), "used", "already been accepted")
    assert_refused(inspect(client, token), "used", "already been accepted")
    assert len(users_with(client, "bob@acme.example")) == 1
    login(client, "bob@acme.example", PASSWORD)  # the first password stands


def test_a_revoked_invitation_is_refused_and_leaves_the_pending_list(team, mailbox):
    client, owner = team
    sent = invite(owner, "carl@acme.example")
    token = token_in(mailbox, "carl@acme.example")
    assert [i["id"] for i in owner.get("/api/users/invitations").json()] == [sent["id"]]

    assert owner.delete(f"/api/users/invitations/{sent['id']}").status_code == 204
    assert owner.get("/api/users/invitations").json() == []
    assert_refused(inspect(client, token), "revoked", "withdrawn")
    assert_refused(accept(client, token), "revoked", "withdrawn")
    assert users_with(client, "carl@acme.example") == []


def test_an_expired_invitation_is_refused_and_leaves_the_pending_list(team, mailbox):
    client, owner = team
    sent = invite(owner, "dora@acme.example")
    token = token_in(mailbox, "dora@acme.example")
    with operator_db(client.app) as db:
        db.execute(
            update(Invitation)
            .where(Invitation.id == uuid.UUID(sent["id"]))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    assert owner.get("/api/users/invitations").json() == []
    assert_refused(inspect(client, token), "expired", "expired")
    assert_refused(accept(client, token), "expired", "expired")
    assert users_with(client, "dora@acme.example") == []


def test_an_unknown_link_says_only_that_it_is_not_valid(team):
    client, _ = team
    r = inspect(client, "not-a-token-anyone-was-sent")
    assert_refused(r, "invalid", "not valid")
    assert "Acme" not in r.text
    assert_refused(accept(client, "not-a-token-anyone-was-sent"), "invalid", "not valid")


def test_inviting_an_address_again_replaces_its_earlier_link(team, mailbox):
    client, owner = team
    first = invite(owner, "eve@acme.example")
    old = token_in(mailbox, "eve@acme.example")
    second = invite(owner, "EVE@acme.example", role="admin")
    mailbox.wait_for("eve@acme.example", 2)
    [new] = {token_in(mailbox, "eve@acme.example", n) for n in (1, 2)} - {old}

    assert [i["id"] for i in owner.get("/api/users/invitations").json()] == [second["id"]]
    assert owner.delete(f"/api/users/invitations/{first['id']}").status_code == 204
    assert_refused(accept(client, old), "revoked", "replaced by a newer one")
    assert accept(client, new).status_code == 201
    assert login(client, "eve@acme.example", PASSWORD).get("/auth/me").json()["role"] == "admin"


def test_admins_invite_and_revoke_members_only_and_members_neither(team, mailbox):
    client, owner = team
    admin, member = owner.add_user("admin"), owner.add_user("member")
    r = admin.post("/api/users/invitations", json={"email": "x@acme.example", "role": "admin"})
    assert r.status_code == 403 and "owners" in r.json()["error"]["message"], r.text
    for_admin = invite(owner, "y@acme.example", role="admin")
    for_member = invite(admin, "z@acme.example")
    assert for_member["invited_by"] == admin.email

    assert admin.delete(f"/api/users/invitations/{for_admin['id']}").status_code == 403
    refused = member.post("/api/users/invitations", json={"email": "w@acme.example"})
    assert refused.status_code == 403
    assert member.get("/api/users/invitations").status_code == 403
    assert member.delete(f"/api/users/invitations/{for_member['id']}").status_code == 403
    listed = {i["email"] for i in owner.get("/api/users/invitations").json()}
    assert listed == {"y@acme.example", "z@acme.example"}
    assert admin.delete(f"/api/users/invitations/{for_member['id']}").status_code == 204
    assert mailbox.to("x@acme.example") == [] and mailbox.to("w@acme.example") == []


def test_an_address_that_has_an_account_cannot_be_invited(team):
    client, owner = team
    other = register_tenant(client, "Globex")
    for taken in (other.email, owner.email, owner.email.upper()):
        r = owner.post("/api/users/invitations", json={"email": taken})
        assert r.status_code == 409, r.text
    assert owner.get("/api/users/invitations").json() == []


def test_accepting_after_the_address_got_an_account_meanwhile_is_a_conflict(team, mailbox):
    client, owner = team
    sent = invite(owner, "fay@acme.example")
    token = token_in(mailbox, "fay@acme.example")
    other = register_tenant(client, "Globex")
    r = other.post("/api/users", json={"email": "fay@acme.example", "password": PASSWORD})
    assert r.status_code == 201, r.text

    r = accept(client, token)
    assert r.status_code == 409, r.text
    [user] = users_with(client, "fay@acme.example")
    assert str(user.customer_id) == other.customer_id
    assert owner.delete(f"/api/users/invitations/{sent['id']}").status_code == 204


def test_concurrent_accepts_of_one_link_create_one_user(team, mailbox):
    client, owner = team
    invite(owner, "gus@acme.example")
    token = token_in(mailbox, "gus@acme.example")
    start = threading.Barrier(6)

    def attempt(n: int) -> int:
        start.wait()
        return accept(client, token, f"{PASSWORD} {n}").status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(attempt, range(6)))
    assert statuses == [201, 400, 400, 400, 400, 400]
    assert len(users_with(client, "gus@acme.example")) == 1


def test_concurrent_accepts_of_two_customers_links_create_one_account(team, mailbox, monkeypatch):
    """Two customers invited the same address; its two links accepted at once make one account
    and a 409 for the other, not a database error. Both requests are held after their check
    that the address is free until the other has checked too (on PostgreSQL; SQLite's one
    writer holds the second back before it checks, so the first goes on alone)."""
    client, owner = team
    other = register_tenant(client, "Initech")
    invite(owner, "ida@acme.example")
    invite(other, "ida@acme.example")
    tokens = [token_in(mailbox, "ida@acme.example", count) for count in (1, 2)]
    check_together(monkeypatch, UserRepository, "email_taken")
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(lambda token: accept(client, token).status_code, tokens))

    assert statuses == [201, 409], statuses
    assert len(users_with(client, "ida@acme.example")) == 1


def test_the_password_follows_the_sign_up_rules_and_a_refusal_keeps_the_link(team, mailbox):
    client, owner = team
    invite(owner, "hal@acme.example")
    token = token_in(mailbox, "hal@acme.example")
    r = accept(client, token, "short")
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "password"
    assert accept(client, token).status_code == 201


def test_another_customers_staff_cannot_list_or_revoke_the_invitations(team, mailbox):
    client, owner = team
    sent = invite(owner, "ivy@acme.example")
    other = register_tenant(client, "Globex")
    assert other.get("/api/users/invitations").json() == []
    for invitation_id in (sent["id"], str(uuid.uuid4())):
        r = other.delete(f"/api/users/invitations/{invitation_id}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
    assert [i["id"] for i in owner.get("/api/users/invitations").json()] == [sent["id"]]
    assert accept(client, token_in(mailbox, "ivy@acme.example")).status_code == 201


def test_an_accepted_invitation_cannot_be_revoked(team, mailbox):
    client, owner = team
    sent = invite(owner, "jo@acme.example")
    assert accept(client, token_in(mailbox, "jo@acme.example")).status_code == 201
    r = owner.delete(f"/api/users/invitations/{sent['id']}")
    assert r.status_code == 409, r.text
    assert len(users_with(client, "jo@acme.example")) == 1


def test_invitations_are_throttled_per_customer(app_with, mailbox):
    client, owner = app_with(**mailbox.settings(), invitations_per_customer="2/day")
    invite(owner, "k1@acme.example")
    invite(owner, "k2@acme.example")
    r = owner.post("/api/users/invitations", json={"email": "k3@acme.example"})
    assert r.status_code == 429 and "Retry-After" in r.headers, r.text
    invite(register_tenant(client, "Globex"), "k3@acme.example")  # another customer's own count


def test_invitation_links_are_throttled_per_client_address(app_with, mailbox):
    client, _ = app_with(**mailbox.settings(), invitation_links_per_ip="3/hour")
    for _ in range(3):
        assert inspect(client, "guessed").status_code == 400
    assert inspect(client, "guessed").status_code == 429
    assert accept(client, "guessed").status_code == 429


def test_creating_users_with_a_chosen_password_is_marked_deprecated(client):
    operation = client.app.openapi()["paths"]["/api/users"]["post"]
    assert operation["deprecated"] is True
    assert "/api/users/invitations" in operation["description"]
