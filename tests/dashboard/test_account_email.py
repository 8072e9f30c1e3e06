"""The dashboard's emailed links, in Chromium, with the email delivered by real SMTP on loopback:
a forgotten password reset from the sign-in page, the sign-up's verification link, and the
banner that asks for it until the address is confirmed."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.mailbox import link_in

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new passphrase"


def banner(page: Page):
    return page.get_by_role("status").filter(has_text="Confirm your address")


def sign_up(page: Page) -> str:
    email = f"grace-{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_label("Company name").fill("Hopper Compilers")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Chatbots", exact=True)).to_be_visible()
    return email


def test_a_forgotten_password_is_reset_from_the_emailed_link(
    mail_dashboard, live_mail_api, mailbox
):
    owner = live_mail_api.owner
    page = mail_dashboard.open("/dashboard/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    mail_dashboard.check(page, "forgot-password")

    page.get_by_label("Email").fill(owner.email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("status")).to_contain_text(
        "If an account exists for this address, we have sent a link to reset its password"
    )
    mail_dashboard.check(page, "forgot-password-sent")

    link = link_in(mailbox.wait_for(owner.email)[0], "/dashboard/reset-password")
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/dashboard/reset-password$"))  # the secret is off the bar
    mail_dashboard.check(page, "reset-password")

    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm password").fill("something else entirely")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_text("The two passwords differ.")).to_be_visible()

    page.get_by_label("Confirm password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/chatbots$"))
    expect(page.get_by_role("navigation", name="Main")).to_contain_text(owner.email)

    with httpx.Client(base_url=live_mail_api.url) as http:
        old_session = http.get("/auth/me", headers={"Authorization": f"Bearer {owner.token}"})
        assert old_session.status_code == 401
        signed_in = http.post("/auth/login", json={"email": owner.email, "password": NEW_PASSWORD})
        assert signed_in.status_code == 200


def test_a_used_reset_link_says_so_and_offers_a_new_one(mail_dashboard, live_mail_api, mailbox):
    owner = live_mail_api.owner
    mail_dashboard.allow_console("status of 400")  # the used link's answer
    with httpx.Client(base_url=live_mail_api.url) as http:
        http.post("/auth/password/forgot", json={"email": owner.email})
        link = link_in(mailbox.wait_for(owner.email)[0], "/dashboard/reset-password")
        token = link.split("#token=", 1)[1]
        assert (
            http.post(
                "/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
            ).status_code
            == 200
        )

    page = mail_dashboard.open(link.removeprefix(live_mail_api.url))
    page.get_by_label("Password", exact=True).fill("another new passphrase")
    page.get_by_label("Confirm password").fill("another new passphrase")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("This password reset link is not valid")
    mail_dashboard.check(page, "reset-password-used")

    page.get_by_role("link", name="Ask for a new link").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()


def test_the_sign_up_email_confirms_the_address_and_the_banner_goes(
    mail_dashboard, live_mail_api, mailbox
):
    live_mail_api.app.state.settings.require_email_verification = True
    page = mail_dashboard.open("/dashboard/signup")
    email = sign_up(page)

    expect(banner(page)).to_contain_text(f"Confirm your address: we sent a link to {email}.")
    expect(banner(page)).to_contain_text("widget is not published")
    mail_dashboard.check(page, "verify-banner")
    banner(page).get_by_role("button", name="Send it again").click()
    expect(banner(page)).to_contain_text(f"We have sent a new link to {email}")
    first, _again = mailbox.wait_for(email, 2)

    page.goto(link_in(first, "/dashboard/verify-email"))
    expect(page.get_by_role("heading", name="Address confirmed")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"{email} is confirmed")
    expect(page).to_have_url(re.compile(r"/dashboard/verify-email$"))
    mail_dashboard.check(page, "verify-email")

    page.get_by_role("link", name="Go to your chatbots").click()
    expect(page.get_by_role("heading", name="Chatbots", exact=True)).to_be_visible()
    expect(banner(page)).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Chatbots", exact=True)).to_be_visible()
    expect(banner(page)).to_have_count(0)


def test_a_link_that_cannot_be_used_offers_to_send_a_new_one(
    mail_dashboard, live_mail_api, mailbox
):
    live_mail_api.app.state.settings.require_email_verification = True
    mail_dashboard.allow_console("status of 400")  # the made-up link's answer
    owner = live_mail_api.owner
    page = mail_dashboard.open("/dashboard/verify-email#token=not-a-real-token", tenant=owner)

    expect(page.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("This verification link is not valid")
    mail_dashboard.check(page, "verify-email-failed")
    page.get_by_role("button", name="Send a new link").click()
    expect(page.get_by_role("status")).to_contain_text(f"We have sent a new link to {owner.email}")
    link = link_in(mailbox.wait_for(owner.email)[0], "/dashboard/verify-email")

    # opened from the email, in a tab of its own (here the same path's fragment would only scroll)
    page = mail_dashboard.open(link.removeprefix(live_mail_api.url), tenant=owner)
    expect(page.get_by_role("heading", name="Address confirmed")).to_be_visible()


def test_signed_out_a_verification_link_still_confirms(mail_dashboard, live_mail_api, mailbox):
    live_mail_api.app.state.settings.require_email_verification = True
    page = mail_dashboard.open("/dashboard/signup")
    email = sign_up(page)
    page.get_by_role("button", name="Sign out").click()

    page.goto(link_in(mailbox.wait_for(email)[0], "/dashboard/verify-email"))
    expect(page.get_by_role("heading", name="Address confirmed")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_embed_page_says_the_widget_waits_for_the_owners_address(
    mail_dashboard, live_mail_api, mailbox
):
    live_mail_api.app.state.settings.require_email_verification = True
    owner = live_mail_api.owner
    bot = owner.create_chatbot(name="Shop help", allowed_origins=["https://shop.example.com"])
    page = mail_dashboard.open(f"/dashboard/chatbots/{bot['id']}/embed", tenant=owner)
    waiting = page.get_by_role("status").filter(has_text="The widget is not published")
    expect(waiting).to_be_visible()
    mail_dashboard.check(page, "embed-unverified")

    assert owner.post("/auth/verify-email/resend").status_code == 202
    token = link_in(mailbox.wait_for(owner.email)[0], "/dashboard/verify-email").split("#token=")[1]
    assert owner.post("/auth/verify-email", json={"token": token}).status_code == 200
    page.reload()
    expect(page.get_by_role("heading", name="Embed")).to_be_visible()
    expect(waiting).to_have_count(0)
    expect(banner(page)).to_have_count(0)
