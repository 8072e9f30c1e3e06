"""The dashboard by keyboard alone, with a visible focus ring, and its menu on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.conftest import PHONE

pytestmark = pytest.mark.browser


def focus_ring(page: Page) -> str:
    return page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return `${s.outlineStyle} ${s.outlineWidth}`; })()"
    )


def test_sign_in_and_reach_the_content_by_keyboard(dashboard, live_api):
    owner = live_api.owner
    page = dashboard.open("/dashboard/signin")
    # the form is drawn by script: a Tab pressed before it exists lands elsewhere
    expect(page.get_by_label("Email")).to_be_visible()

    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    assert focus_ring(page) == "solid 3px"
    page.keyboard.type(owner.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(owner.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Chatbots", exact=True)).to_be_visible()

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="New chatbot")).to_be_focused()
    assert focus_ring(page) == "solid 3px"
    page.keyboard.press("Enter")
    expect(page.get_by_label("Name")).to_be_focused()
    page.keyboard.type("Keyboard bot")
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="“Keyboard bot” is ready")).to_be_visible()


def test_phone_menu_opens_the_navigation(dashboard, live_api):
    page = dashboard.open("/dashboard/chatbots", tenant=live_api.owner, viewport=PHONE)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()

    menu = page.get_by_role("button", name="Menu")
    menu.click()
    expect(page.get_by_role("button", name="Close menu")).to_have_attribute("aria-expanded", "true")
    nav.get_by_role("link", name="Usage").click()
    expect(page).to_have_url(re.compile("/dashboard/usage$"))
    expect(nav).to_be_hidden()  # the menu closes on navigation


def test_phone_menu_opened_on_a_scrolled_page_is_in_view(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/settings", tenant=owner, viewport=PHONE)
    expect(page.get_by_role("heading", name="Widget look")).to_be_attached()
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert page.evaluate("window.scrollY") > PHONE["height"]  # well down the page

    page.get_by_role("button", name="Menu").click()
    nav = page.get_by_role("navigation", name="Main")
    for link in ("Chatbots", "Usage"):
        expect(nav.get_by_role("link", name=link)).to_be_in_viewport()
    expect(nav.get_by_role("button", name="Sign out")).to_be_in_viewport()
    dashboard.check(page, "phone-menu-scrolled")
    nav.get_by_role("link", name="Usage").click()
    expect(page).to_have_url(re.compile("/dashboard/usage$"))
