"""Embed: the snippet and its iframe variant with copy buttons, and a check, made by the server,
that says whether a website is allowed (and allows it in one click)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_snippets_copy_and_a_website_is_checked_then_allowed(dashboard, live_api, site_factory):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    snippet = owner.get(f"/api/chatbots/{bot['id']}/snippet").json()
    site = site_factory()
    page = dashboard.open(
        f"/dashboard/chatbots/{bot['id']}/embed",
        tenant=owner,
        permissions=["clipboard-read", "clipboard-write"],
    )
    expect(page.get_by_role("status").first).to_contain_text("No website is allowed yet")
    script = page.get_by_label("Script tag")
    expect(script).to_have_text(snippet["script"])
    assert bot["widget_key"] in snippet["script"] and "sk_" not in snippet["script"]
    expect(page.get_by_label("Iframe tag")).to_have_text(snippet["iframe"])

    page.get_by_role("button", name="Copy script tag").click()
    assert page.evaluate("navigator.clipboard.readText()") == snippet["script"]
    page.get_by_role("button", name="Copy iframe tag").click()
    assert page.evaluate("navigator.clipboard.readText()") == snippet["iframe"]
    dashboard.check(page, "embed")

    dashboard.allow_console("status of 422")
    page.get_by_label("Website address").fill("ftp://files.example.com")
    with page.expect_response(re.compile("/origin-check")) as checked:
        page.get_by_role("button", name="Check", exact=True).click()
    assert checked.value.status == 422
    verdict = page.get_by_role("region", name="Check a website").get_by_role("status")
    expect(verdict).to_have_text(re.compile("^That is not a website address"))

    page.get_by_label("Website address").fill(f"{site.origin}/products/teapots")
    with page.expect_response(re.compile("/origin-check")) as checked:
        page.get_by_role("button", name="Check", exact=True).click()
    assert checked.value.json() == {"origin": site.origin, "allowed": False}
    expect(verdict).to_contain_text(f"{site.origin} is not in the allowed websites")
    page.get_by_role("button", name=f"Allow {site.origin}").click()
    expect(verdict).to_contain_text(f"The widget answers on {site.origin}")
    assert owner.get(f"/api/chatbots/{bot['id']}").json()["allowed_origins"] == [site.origin]
    page.get_by_label("Website address").fill(site.origin.removeprefix("http://") + "/cart")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(verdict).to_contain_text(f"{site.origin.replace('http:', 'https:')} is not in the")
