"""Team invitations in the browser, with the email delivered through a real SMTP server: the
owner invites from Team, sees and revokes pending invitations, and the invitee opens the emailed
link in a browser of their own, chooses a password and lands signed in."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from app.core.database import utcnow
from app.customers.models import Invitation
from tests.conftest import operator_db
from tests.mailbox import link_in

pytestmark = pytest.mark.browser

LINK = "/dashboard/accept-invitation"


def send_invitation(page, email: str, role: str = "Member") -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_role("radio", name=re.compile(f"^{role}:")).check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invitation sent to {email}.")).to_be_visible()


def test_owner_invites_revokes_and_the_invitee_joins_from_the_email(
    mail_dashboard, live_mail_api, mailbox
):
    owner = live_mail_api.owner
    owner.create_chatbot(name="Shop help")
    page = mail_dashboard.open("/dashboard/team", tenant=owner)
    pending = page.get_by_role("list", name="Pending invitations")

    send_invitation(page, "ann@acme.example", role="Admin")
    send_invitation(page, "bob@acme.example")
    expect(pending.get_by_role("listitem")).to_have_count(2)
    expect(pending.get_by_role("listitem", name="ann@acme.example")).to_contain_text("admin")
    expect(pending.get_by_role("listitem", name="bob@acme.example")).to_contain_text("expires")
    mail_dashboard.check(page, "team-invitations")

    page.get_by_role("button", name="Revoke the invitation of bob@acme.example").click()
    dialog = page.get_by_role("dialog", name="Revoke the invitation of bob@acme.example?")
    dialog.get_by_role("button", name="Revoke").click()
    expect(pending.get_by_role("listitem")).to_have_count(1)
    assert [i["email"] for i in owner.get("/api/users/invitations").json()] == ["ann@acme.example"]

    # the invitee, in a browser of their own, from the link in the email
    [email] = mailbox.wait_for("ann@acme.example")
    link = link_in(email, LINK)
    invitee = mail_dashboard.open(link)
    expect(invitee.get_by_role("heading", name="Join Acme as an admin")).to_be_visible()
    expect(invitee.get_by_text("ann@acme.example")).to_be_visible()
    mail_dashboard.check(invitee, "accept-invitation")
    invitee.get_by_label("Password", exact=True).fill("a password of my own")
    invitee.get_by_label("Confirm password").fill("a different one")
    invitee.get_by_role("button", name="Join and sign in").click()
    expect(invitee.get_by_text("The two passwords differ.")).to_be_visible()
    invitee.get_by_label("Confirm password").fill("a password of my own")
    invitee.get_by_role("button", name="Join and sign in").click()
    expect(invitee).to_have_url(re.compile("/dashboard/chatbots$"))
    expect(invitee.get_by_text("Shop help")).to_be_visible()
    nav = invitee.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Team")).to_be_visible()  # an admin
    page.reload()
    expect(
        page.get_by_role("list", name="People").get_by_role("listitem", name="ann@acme.example")
    ).to_contain_text("admin")
    expect(page.get_by_text("No invitations waiting to be accepted.")).to_be_visible()

    # the link works once; a revoked or expired link says so
    mail_dashboard.allow_console("status of 400")
    used = mail_dashboard.open(link)
    expect(used.get_by_role("heading", name="This invitation was already accepted")).to_be_visible()
    expect(used.get_by_text("Sign in with the password chosen then")).to_be_visible()
    revoked = mail_dashboard.open(link_in(mailbox.wait_for("bob@acme.example")[0], LINK))
    expect(revoked.get_by_role("heading", name="This invitation was withdrawn")).to_be_visible()
    expect(revoked.get_by_text("replaced by a newer one")).to_be_visible()
    mail_dashboard.check(revoked, "accept-invitation-revoked")


def test_an_expired_or_mangled_link_says_what_is_wrong(mail_dashboard, live_mail_api, mailbox):
    owner = live_mail_api.owner
    sent = owner.post("/api/users/invitations", json={"email": "cy@acme.example"}).json()
    with operator_db(live_mail_api.app) as db:
        db.execute(
            update(Invitation)
            .where(Invitation.id == uuid.UUID(sent["id"]))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    mail_dashboard.allow_console("status of 400")
    link = link_in(mailbox.wait_for("cy@acme.example")[0], LINK)
    page = mail_dashboard.open(link)
    expect(page.get_by_role("heading", name="This invitation has expired")).to_be_visible()
    expect(page.get_by_text("Ask whoever invited you to send a new one.")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)

    page = mail_dashboard.open(link[:-5])  # the end of the link lost
    expect(page.get_by_role("heading", name="This invitation link does not work")).to_be_visible()
    page = mail_dashboard.open(LINK)
    expect(page.get_by_text("This link has no invitation in it.")).to_be_visible()
