"""Signing up, in and out of the dashboard; the session survives a reload and ends when the token
does."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from app.core.security import create_access_token

pytestmark = pytest.mark.browser


def test_new_customer_signs_up_and_stays_signed_in_across_a_reload(dashboard):
    page = dashboard.open("/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/signin$"))
    dashboard.check(page, "signin")

    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    dashboard.check(page, "signup")
    email = f"ada-{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_label("Company name").fill("Lovelace Teas")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Chatbots", exact=True)).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_contain_text(email)
    expect(nav).to_contain_text("Lovelace Teas")
    expect(page.get_by_role("heading", name="No chatbots yet")).to_be_visible()
    dashboard.check(page, "chatbots-empty")

    page.reload()
    expect(page.get_by_role("navigation", name="Main")).to_contain_text(email)
    expect(page).to_have_url(re.compile(r"/dashboard/chatbots$"))


def test_owner_signs_in_and_signs_out(dashboard, live_api):
    owner = live_api.owner
    dashboard.allow_console("status of 401")  # the wrong password's answer
    page = dashboard.open("/dashboard/usage")
    expect(page).to_have_url(re.compile(r"/signin$"))

    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Incorrect email or password")

    page.get_by_label("Password").fill(owner.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/usage$"))  # back where they were going

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("localStorage.getItem('dashboard.token')") is None
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_expired_token_returns_to_sign_in_with_a_message(dashboard, live_api):
    owner = live_api.owner
    expired = create_access_token(
        user_id=uuid.UUID(owner.user_id),
        customer_id=uuid.UUID(owner.customer_id),
        secret=live_api.app.state.settings.secret_key,
        minutes=-1,
    )
    owner.token = expired
    page = dashboard.open("/dashboard/chatbots", tenant=owner)

    expect(page).to_have_url(re.compile(r"/signin$"))
    expect(page.get_by_role("status")).to_have_text(
        "Your session has expired. Please sign in again."
    )


def test_token_refused_by_the_server_ends_the_session(dashboard, live_api):
    owner = live_api.owner
    dashboard.allow_console("status of 401")
    owner.token = owner.token[:-4] + "AAAA"  # a bad signature: only the server can tell
    page = dashboard.open("/dashboard/chatbots", tenant=owner)

    expect(page).to_have_url(re.compile(r"/signin$"))
    expect(page.get_by_role("status")).to_contain_text("Your session has expired")


def test_signing_up_with_a_taken_email_says_so(dashboard, live_api):
    dashboard.allow_console("status of 409")
    page = dashboard.open("/dashboard/signup")
    page.get_by_label("Company name").fill("Copycat")
    page.get_by_label("Work email").fill(live_api.owner.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("alert")).to_contain_text("already")
    expect(page).to_have_url(re.compile("/signup$"))
