"""The issue's "done when", in one browser session: a new customer signs up, creates a chatbot,
uploads files and watches them become ready, asks in the playground, copies the snippet onto a
page of another origin where the widget answers, and sees the conversation, the analytics and
the usage in the dashboard."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.api.test_documents import TEXT
from tests.dashboard.test_sources import FAQ, READY_TIMEOUT
from tests.widget.test_widget_browser import host_page

pytestmark = pytest.mark.browser


def wait_for_sessions(api: str, page: Page, bot_id: str, count: int) -> None:
    """Until the widget's streamed answer is recorded (it is, once its stream has ended)."""
    token = page.evaluate("localStorage.getItem('dashboard.token')")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        sessions = httpx.get(
            f"{api}/api/chatbots/{bot_id}/sessions", headers={"Authorization": f"Bearer {token}"}
        ).json()
        if len(sessions) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{len(sessions)} sessions recorded, expected {count}")


def test_new_customer_from_sign_up_to_a_widget_answering_on_their_site(
    dashboard, live_api, site_factory
):
    shop = site_factory()
    page = dashboard.open("/dashboard/", permissions=["clipboard-read", "clipboard-write"])

    # sign up
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Company name").fill("Teapot Ltd")
    page.get_by_label("Work email").fill(f"founder-{uuid.uuid4().hex[:6]}@teapot.example")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()

    # create a chatbot; its secret key is shown once
    page.get_by_role("button", name="Create your first chatbot").click()
    page.get_by_label("Name").fill("Teapot help")
    page.get_by_role("button", name="Create chatbot").click()
    created = page.get_by_role("region", name="“Teapot help” is ready")
    expect(created.get_by_label("Secret key")).to_contain_text("sk_")
    created.get_by_role("button", name="Add documents").click()

    # upload files and watch them become ready
    expect(page.get_by_role("heading", name="Sources")).to_be_visible()
    page.get_by_label("Files to upload").set_input_files(
        [
            {"name": "policy.txt", "mimeType": "text/plain", "buffer": TEXT.encode()},
            {"name": "faq.md", "mimeType": "text/markdown", "buffer": FAQ},
        ]
    )
    documents = page.get_by_role("list", name="Documents")
    for name in ("policy.txt", "faq.md"):
        row = documents.get_by_role("listitem", name=name)
        expect(row.get_by_text("Ready", exact=True)).to_be_visible(timeout=READY_TIMEOUT)

    # ask in the playground
    page.get_by_role("navigation", name="Teapot help sections").get_by_role(
        "link", name="Playground"
    ).click()
    box = page.get_by_label("Your question")
    box.fill("How long do I have to return an item?")
    box.press("Enter")
    answer = page.get_by_role("log", name="Conversation").get_by_role("article")
    expect(answer).to_contain_text("30 days")
    expect(answer.get_by_role("list", name="Sources")).to_contain_text("policy.txt")
    expect(answer).to_contain_text("tokens")  # recorded before we leave the page

    # allow the shop's website and copy the snippet onto its page
    page.get_by_role("link", name="Embed").click()
    page.get_by_label("Website address").fill(f"{shop.origin}/")
    page.get_by_role("button", name="Check", exact=True).click()
    page.get_by_role("button", name=f"Allow {shop.origin}").click()
    expect(page.get_by_text(f"The widget answers on {shop.origin}")).to_be_visible()
    page.get_by_role("button", name="Copy script tag").click()
    snippet = page.evaluate("navigator.clipboard.readText()")
    assert snippet.startswith("<script") and "pk_" in snippet and "sk_" not in snippet
    shop.pages["/"] = host_page(snippet)
    shop.pages["/favicon.ico"] = ""  # or the browser logs the shop's missing icon as an error

    visitor = dashboard.watch(page.context.browser.new_page())
    visitor.goto(f"{shop.origin}/")
    visitor.get_by_role("button", name="Open chat: Teapot help").click()
    ask = visitor.get_by_label("Your question")
    ask.fill("Is shipping free?")
    ask.press("Enter")
    expect(visitor.get_by_role("log")).to_contain_text("50 euros")
    visitor.close()
    wait_for_sessions(live_api.url, page, bot_id=page.url.split("/")[-2], count=2)

    # the conversation, the analytics and the usage
    page.get_by_role("link", name="Conversations").click()
    sessions = page.get_by_role("list", name="Conversations")
    expect(sessions.get_by_role("listitem")).to_have_count(2)
    sessions.get_by_role("link", name=re.compile("Is shipping free")).click()
    transcript = page.get_by_role("region", name="Transcript")
    expect(transcript).to_contain_text("50 euros")
    expect(sessions.get_by_role("link", name=re.compile("Is shipping free"))).to_contain_text(
        "Widget"
    )

    page.get_by_role("link", name="Analytics").click()
    expect(page.locator("dl.stats")).to_contain_text("Questions2")
    expect(page.get_by_role("region", name="Most frequent questions")).to_contain_text(
        "is shipping free"
    )

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Usage").click()
    allowance = page.get_by_role("region", name="Monthly allowance")
    expect(allowance).to_contain_text("2 questions")
    expect(allowance.get_by_role("meter", name="Monthly allowance used")).to_be_visible()
    expect(page.get_by_role("region", name="Usage by chatbot")).to_contain_text("Teapot help")
    dashboard.check(page, "new-customer-usage")
