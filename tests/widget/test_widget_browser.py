"""The widget in headless Chromium: a customer's page on 127.0.0.1, the API on localhost."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from app.billing import service as billing
from app.core.database import session_scope
from tests.api.test_documents import TEXT, upload, wait_until_done
from tests.chat.conftest import make_ready_bot
from tests.chat.test_near_miss import NEAR_MISS

pytestmark = pytest.mark.browser

QUESTION = "How long do I have to return an item?"
HOST_ELEMENTS = ("body", "body > h1", "body > p")  # CSS locators pierce shadow roots otherwise
PHONE = {"width": 375, "height": 667}
WIDGET = {
    "title": "Ask Acme",
    "greeting": "Hi! Ask me about returns and shipping.",
    "starter_questions": ["Is shipping free?"],
    "accent_color": "#0f766e",
}
AGGRESSIVE_CSS = (
    "* { font-size: 40px !important; display: inline !important; color: red !important;"
    " font-family: serif !important; line-height: 3 !important; }"
    " div, section, button, input { position: static !important; width: 10px !important; }"
)


def host_page(snippet: str, style: str = "") -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Acme Shop</title><style>{style}</style></head>"
        f"<body><h1>Acme Shop</h1><p>Kettles, mugs and teapots.</p>{snippet}</body></html>"
    )


def make_bot(live_api, *origins: str, document: bool = False) -> dict:
    owner = live_api.owner
    bot = owner.create_chatbot(
        name="Shop help", allowed_origins=list(origins), settings={"widget": WIDGET}
    )
    if document:
        doc = upload(owner, bot["id"], "policy.txt", TEXT.encode()).json()[0]
        assert wait_until_done(owner, doc["id"])["status"] == "ready"
    bot["snippet"] = owner.get(f"/api/chatbots/{bot['id']}/snippet").json()
    return bot


def launcher(page: Page):
    return page.get_by_role("button", name=f"Open chat: {WIDGET['title']}")


def ask(page: Page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def test_visitor_asks_by_keyboard_and_sees_the_streamed_answer_and_sources(
    live_api, site_factory, browser, artifacts
):
    site = site_factory()
    bot = make_bot(live_api, site.origin, document=True)
    site.pages["/"] = host_page(bot["snippet"]["script"])
    page = browser.new_page()
    page.goto(f"{site.origin}/")

    expect(launcher(page)).to_be_visible()
    page.keyboard.press("Tab")
    expect(launcher(page)).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=WIDGET["title"])
    expect(dialog).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_focused()
    log = page.get_by_role("log")
    expect(log).to_contain_text(WIDGET["greeting"])
    with page.expect_response(lambda r: r.url.endswith("/query")) as answered:
        ask(page, QUESTION)
    assert answered.value.headers["content-type"].startswith("text/event-stream")
    assert answered.value.headers["access-control-allow-origin"] == site.origin
    expect(log).to_contain_text("30 days")
    expect(log.get_by_role("list", name="Sources")).to_contain_text("policy.txt")
    page.screenshot(path=artifacts / "widget-open.png")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher(page)).to_be_focused()

    page.reload()
    launcher(page).click()
    expect(log).to_contain_text("30 days")  # the conversation came back from localStorage
    ask(page, "Is shipping free?")
    expect(log).to_contain_text("50 euros")
    page.close()
    sessions = live_api.owner.get(f"/api/chatbots/{bot['id']}/sessions").json()
    assert [s["channel"] for s in sessions] == ["widget"]  # one conversation, continued
    messages = live_api.owner.get(f"/api/sessions/{sessions[0]['id']}/messages").json()
    assert len(messages) == 4


def test_widget_fills_a_phone_screen(live_api, site_factory, browser, artifacts):
    site = site_factory()
    bot = make_bot(live_api, site.origin, document=True)
    site.pages["/"] = host_page(bot["snippet"]["script"])
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{site.origin}/")

    launcher(page).tap()
    page.get_by_role("button", name="Is shipping free?").tap()

    log = page.get_by_role("log")
    expect(log).to_contain_text("50 euros")
    expect(log.get_by_role("list", name="Sources")).to_contain_text("policy.txt")
    box = page.get_by_role("dialog").bounding_box()
    assert box == {"x": 0, "y": 0, **PHONE}
    page.screenshot(path=artifacts / "widget-phone.png")
    page.get_by_role("button", name="Close chat").tap()
    expect(page.get_by_role("dialog")).to_be_hidden()
    context.close()


def test_widget_on_a_site_not_in_allowed_origins_says_it_is_not_enabled(
    live_api, site_factory, browser
):
    allowed, elsewhere = site_factory(), site_factory()
    bot = make_bot(live_api, allowed.origin)
    elsewhere.pages["/"] = host_page(bot["snippet"]["script"])
    page = browser.new_page()
    page.goto(f"{elsewhere.origin}/")

    launcher(page).click()

    expect(page.get_by_role("alert")).to_have_text("This chat isn't enabled on this website.")
    expect(page.get_by_label("Your question")).to_be_disabled()
    refused = page.evaluate(
        """async ([url, key]) => {
            try {
                await fetch(url, {method: "POST", headers: {"Content-Type": "application/json",
                    "X-API-Key": key}, body: JSON.stringify({question: "returns?"})});
                return "answered";
            } catch (e) { return "blocked"; }
        }""",
        [f"{live_api.url}/api/public/{bot['id']}/query", bot["widget_key"]],
    )
    assert refused == "blocked"
    assert live_api.owner.get(f"/api/chatbots/{bot['id']}/sessions").json() == []
    page.close()


def test_host_css_cannot_break_the_widget_nor_the_widget_the_host(live_api, site_factory, browser):
    site = site_factory()
    bot = make_bot(live_api, site.origin)
    site.pages["/plain"] = host_page("", AGGRESSIVE_CSS)
    site.pages["/"] = host_page(bot["snippet"]["script"], AGGRESSIVE_CSS)
    page = browser.new_page()
    styles = "el => { const s = getComputedStyle(el); return [s.fontSize, s.color, s.display, s.fontFamily, s.margin]; }"  # noqa: E501
    page.goto(f"{site.origin}/plain")
    host_before = [page.locator(tag).evaluate(styles) for tag in HOST_ELEMENTS]

    page.goto(f"{site.origin}/")
    launcher(page).click()

    assert [page.locator(tag).evaluate(styles) for tag in HOST_ELEMENTS] == host_before
    box = launcher(page).bounding_box()
    assert box is not None and (box["width"], box["height"]) == (56, 56)
    dialog = page.get_by_role("dialog")
    panel = dialog.bounding_box()
    assert panel is not None and panel["width"] == 370
    assert dialog.evaluate(styles)[:3] == ["15px", "rgb(31, 41, 55)", "flex"]
    assert page.get_by_label("Your question").evaluate("el => getComputedStyle(el).fontSize") == (
        "16px"
    )
    page.close()


def test_widget_explains_offline_quota_and_rate_limit_errors(live_api, site_factory, browser):
    site = site_factory()
    bot = make_bot(live_api, site.origin)
    site.pages["/"] = host_page(bot["snippet"]["script"])
    live_api.app.state.settings.rate_limit_widget_per_ip = "1/minute"
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.origin}/")
    launcher(page).click()
    alert = page.get_by_role("alert")

    context.set_offline(True)
    ask(page, QUESTION)
    expect(alert).to_contain_text("Can't reach the chat service")

    context.set_offline(False)
    with session_scope(live_api.app.state.sessionmaker) as db:
        billing.add_to_totals(db, uuid.UUID(live_api.owner.customer_id), 10**9, 0, queries=0)
    ask(page, QUESTION)
    expect(alert).to_contain_text("reached its usage limit")

    ask(page, QUESTION)
    expect(alert).to_contain_text("sending messages too quickly. Please wait")
    context.close()


def test_iframe_variant_and_preview_page_answer_too(live_api, site_factory, browser):
    site = site_factory()
    bot = make_bot(live_api, site.origin, document=True)
    site.pages["/"] = host_page(bot["snippet"]["iframe"])
    page = browser.new_page()

    page.goto(f"{site.origin}/")
    frame = page.frame_locator("iframe")
    ask(frame, QUESTION)  # the inline widget fills the frame, already open
    expect(frame.get_by_role("log")).to_contain_text("30 days")

    page.goto(bot["snippet"]["demo_url"])
    launcher(page).click()
    ask(page, QUESTION)
    expect(page.get_by_role("log")).to_contain_text("30 days")
    page.close()


def test_visitor_rates_an_answer_opens_a_source_and_starts_a_new_conversation(
    live_api, site_factory, browser
):
    site = site_factory()
    bot = make_bot(live_api, site.origin, document=True)
    site.pages["/"] = host_page(bot["snippet"]["script"])
    page = browser.new_page()
    page.goto(f"{site.origin}/")
    launcher(page).click()
    log = page.get_by_role("log")
    ask(page, QUESTION)
    expect(log).to_contain_text("30 days")

    # the source chip opens the quoted excerpt, and closes it again
    chip = log.get_by_role("button", name="policy.txt")
    chip.click()
    expect(chip).to_have_attribute("aria-expanded", "true")
    expect(log.locator("blockquote")).to_contain_text("30 days")
    chip.click()
    expect(log.locator("blockquote")).to_have_count(0)

    # the thumbs are drawn, not emoji that show as empty boxes without an emoji font
    for name in ("Helpful", "Not helpful"):
        thumb = log.get_by_role("button", name=name, exact=True)
        expect(thumb.locator("svg[aria-hidden='true'] path")).to_have_count(1)
        expect(thumb).to_have_text("")

    # thumbs up, once: the rating reaches the chatbot's analytics
    with page.expect_response(lambda r: r.url.endswith("/feedback")) as rated:
        log.get_by_role("button", name="Helpful", exact=True).click()
    assert rated.value.status == 201
    expect(log).to_contain_text("Thanks for your feedback.")
    expect(log.get_by_role("button", name="Not helpful")).to_be_disabled()
    analytics = live_api.owner.get(f"/api/chatbots/{bot['id']}/analytics").json()
    assert analytics["feedback"]["up"] == 1

    # a new conversation forgets the old one, here and in the next question's session
    page.get_by_role("button", name="New conversation").click()
    expect(log).not_to_contain_text("30 days")
    expect(log).to_contain_text(WIDGET["greeting"])
    ask(page, "Is shipping free?")
    expect(log).to_contain_text("50 euros")
    page.close()
    sessions = live_api.owner.get(f"/api/chatbots/{bot['id']}/sessions").json()
    assert len(sessions) == 2


def test_near_miss_offers_the_closest_passages_under_related_and_keeps_them(
    live_api, site_factory, browser, artifacts
):
    site = site_factory()
    bot = make_ready_bot(live_api.owner, allowed_origins=[site.origin], settings={"widget": WIDGET})
    snippet = live_api.owner.get(f"/api/chatbots/{bot['id']}/snippet").json()
    site.pages["/"] = host_page(snippet["script"])
    page = browser.new_page()
    page.goto(f"{site.origin}/")
    launcher(page).click()
    log = page.get_by_role("log")

    ask(page, "Does the Alpha 200 blender have a glass jar?")
    expect(log).to_contain_text("1.5 litre glass jar")
    expect(log.get_by_role("list", name="Sources")).to_contain_text("catalogue.md")
    expect(log.get_by_role("list", name="Related")).to_have_count(0)

    ask(page, NEAR_MISS)
    expect(log).to_contain_text("I couldn't find “BX-900” in the documents I have.")
    related = log.get_by_role("list", name="Related")
    expect(related).to_have_accessible_name("Related, may not answer the question")
    expect(log).to_contain_text("Related, may not answer the question:")
    expect(log.get_by_role("list", name="Sources")).to_have_count(1)  # the first answer's
    chip = related.get_by_role("button").first
    expect(chip).to_contain_text("catalogue.md")
    chip.click()
    expect(chip).to_have_attribute("aria-expanded", "true")
    expect(log.locator("blockquote")).to_contain_text("Alpha 200 blender")
    expect(log.get_by_role("button", name="Helpful", exact=True)).to_have_count(1)  # unanswered
    page.screenshot(path=artifacts / "widget-related.png")

    page.reload()  # the chat reopens as it was, the related passages from localStorage
    expect(log.get_by_role("list", name="Related")).to_contain_text("catalogue.md")
    page.close()


def test_a_refused_question_is_explained_once(live_api, site_factory, browser):
    site = site_factory()
    bot = make_bot(live_api, site.origin)
    site.pages["/"] = host_page(bot["snippet"]["script"])
    with session_scope(live_api.app.state.sessionmaker) as db:
        billing.add_to_totals(db, uuid.UUID(live_api.owner.customer_id), 10**9, 0, queries=0)
    page = browser.new_page()
    page.goto(f"{site.origin}/")
    launcher(page).click()
    ask(page, QUESTION)
    expect(page.get_by_role("alert")).to_contain_text("reached its usage limit")
    expect(page.get_by_role("log")).not_to_contain_text("reached its usage limit")
    page.close()


# An answer quoting a document with Markdown, and HTML that must stay text: the LLM's reply
# (the loopback fake's, at the network boundary); everything after it is the product's.
MARKDOWN_ANSWER = (
    "Run `pip install acme` with **admin** rights, then *restart*.\n\n"
    "- first step\n"
    "- read [the guide](https://example.com/guide) not [this](javascript:alert(1))\n\n"
    "```\n<script>window.pwned = 1</script>\n```\n"
    '<img src=x onerror="window.pwned = 2"> stays text'
)


def assert_markdown_rendered_safely(page: Page, answer) -> None:
    expect(answer.locator("code").first).to_have_text("pip install acme")
    expect(answer.locator("strong")).to_have_text("admin")
    expect(answer.locator("em")).to_have_text("restart")
    expect(answer.locator("li")).to_have_count(2)
    expect(answer.get_by_role("link", name="the guide")).to_have_attribute(
        "href", "https://example.com/guide"
    )
    expect(answer.get_by_role("link")).to_have_count(1)  # javascript: is no link
    expect(answer).to_contain_text("[this](javascript:alert(1))")
    expect(answer.locator("pre")).to_have_text("<script>window.pwned = 1</script>")
    expect(answer).to_contain_text('<img src=x onerror="window.pwned = 2"> stays text')
    expect(answer.locator("script, img")).to_have_count(0)
    assert page.evaluate("window.pwned") is None
    assert "`" not in answer.inner_text().replace("[this](javascript:alert(1))", "")


def test_markdown_in_an_answer_is_rendered_and_html_stays_text(
    live_llm_api, fake_llm, site_factory, browser
):
    site = site_factory()
    bot = make_bot(live_llm_api, site.origin, document=True)
    site.pages["/"] = host_page(bot["snippet"]["script"])
    fake_llm.reply_with(MARKDOWN_ANSWER)
    page = browser.new_page()
    page.goto(f"{site.origin}/")
    launcher(page).click()
    ask(page, "How long do I have to return an item?")
    reply = page.get_by_role("log").locator(".msg.bot .text").last
    assert_markdown_rendered_safely(page, reply)
    page.reload()  # kept in localStorage, rendered the same way again
    assert_markdown_rendered_safely(page, page.get_by_role("log").locator(".msg.bot .text").last)
    page.close()
