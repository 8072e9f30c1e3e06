"""Chatbots: list, create (the secret key shown once), rename, delete with a confirmation that
says what is lost; keys rotated with a warning; members see none of the buttons they may not
use."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import register_tenant

pytestmark = pytest.mark.browser


def test_owner_creates_renames_and_deletes_a_chatbot(dashboard, live_api):
    owner = live_api.owner
    page = dashboard.open(
        "/dashboard/chatbots", tenant=owner, permissions=["clipboard-read", "clipboard-write"]
    )
    page.get_by_role("button", name="New chatbot").click()
    page.get_by_label("Name").fill("Support bot")
    page.get_by_label("Description").fill("Answers questions about orders")
    page.get_by_role("button", name="Create chatbot").click()

    created = page.get_by_role("region", name="“Support bot” is ready")
    secret = created.get_by_label("Secret key").inner_text()
    assert secret.startswith("sk_")
    dashboard.check(page, "chatbot-created")
    created.get_by_role("button", name="Copy key").click()
    expect(created.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    created.get_by_role("button", name="I saved the key").click()
    expect(created).to_be_hidden()
    (bot,) = owner.get("/api/chatbots").json()
    ask = {"json": {"question": "hello"}, "headers": {"X-API-Key": secret}}
    assert owner.client.post(f"/api/public/{bot['id']}/query", **ask).status_code == 200

    page.get_by_role("button", name="Rename Support bot").click()
    dialog = page.get_by_role("dialog", name="Rename “Support bot”")
    dialog.get_by_label("New name").fill("Order help")
    dialog.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("link", name="Order help")).to_be_visible()
    dashboard.check(page, "chatbots")

    page.get_by_role("button", name="Delete Order help").click()
    dialog = page.get_by_role("dialog", name="Delete “Order help”?")
    expect(dialog).to_contain_text("all its documents")
    expect(dialog).to_contain_text("all its conversations")
    expect(dialog).to_contain_text("cannot be undone")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dashboard.check(page, "chatbot-delete-confirm")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert len(owner.get("/api/chatbots").json()) == 1

    page.get_by_role("button", name="Delete Order help").click()
    dialog.get_by_role("button", name="Delete chatbot").click()
    expect(page.get_by_role("heading", name="No chatbots yet")).to_be_visible()
    assert owner.get("/api/chatbots").json() == []


def test_rotating_the_secret_key_warns_and_shows_the_new_key_once(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/keys", tenant=owner)
    secret_card = page.get_by_role("region", name="Secret key", exact=True)
    expect(secret_card).to_contain_text(bot["secret_key"][:12])
    expect(secret_card).to_contain_text("Never")
    dashboard.check(page, "keys")

    secret_card.get_by_role("button", name="Rotate secret key").click()
    dialog = page.get_by_role("dialog", name="Rotate the secret key?")
    expect(dialog).to_contain_text("stops working immediately")
    dialog.get_by_role("button", name="Rotate now").click()

    revealed = page.get_by_role("region", name="Your new secret key")
    new_key = revealed.get_by_label("New secret key").inner_text()
    assert new_key.startswith("sk_") and new_key != bot["secret_key"]
    expect(secret_card).to_contain_text(new_key[:12])
    url = f"/api/public/{bot['id']}/query"
    body = {"question": "hello"}
    old = owner.client.post(url, json=body, headers={"X-API-Key": bot["secret_key"]})
    assert old.status_code == 401
    assert owner.client.post(url, json=body, headers={"X-API-Key": new_key}).status_code == 200
    revealed.get_by_role("button", name="Done").click()
    expect(revealed).to_be_hidden()


def test_member_sees_chatbots_but_no_buttons_that_would_be_refused(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    member = owner.add_user("member")
    page = dashboard.open("/dashboard/chatbots", tenant=member)

    expect(page.get_by_role("link", name="Shop help")).to_be_visible()
    for name in ("New chatbot", "Rename Shop help", "Delete Shop help"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Team")).to_have_count(0)
    expect(nav.get_by_role("link", name="Billing")).to_have_count(0)

    page.goto(f"/dashboard/chatbots/{bot['id']}/keys")
    expect(page.get_by_role("heading", name="Keys")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Rotate"))).to_have_count(0)


def test_another_customers_chatbot_is_simply_not_available(dashboard, live_api):
    other = register_tenant(live_api.owner.client, "Globex")
    theirs = other.create_chatbot(name="Globex bot")
    dashboard.allow_console("status of 404")
    page = dashboard.open(f"/dashboard/chatbots/{theirs['id']}/sources", tenant=live_api.owner)

    expect(page.get_by_role("heading", name="This chatbot is not available")).to_be_visible()
    expect(page.get_by_text("Globex bot")).to_have_count(0)
    page.get_by_role("link", name="Back to your chatbots").click()
    expect(page.get_by_role("heading", name="Chatbots", exact=True)).to_be_visible()
