"""Sources that are not files, on the Sources screen: a website served on loopback is crawled
with live progress until ready, its pages and the pages it left out are listed, a re-crawl too
soon is refused in plain words, delete says the pages leave the answers; a text and a Q&A pair
are added and edited; a refused URL shows the server's reason; members see no buttons."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from app.billing.models import Plan
from app.core.database import session_scope
from app.customers.models import Customer
from tests.api.test_documents import wait_until_done
from tests.dashboard.test_sources import READY_TIMEOUT
from tests.sources.site import serve_site

pytestmark = pytest.mark.browser


def websites(page: Page):
    return page.get_by_role("list", name="Websites")


def documents(page: Page):
    return page.get_by_role("list", name="Documents")


def add_qa(page: Page, question: str, answer: str):
    page.get_by_role("button", name="Q&A pair", exact=True).click()
    form = page.get_by_role("form", name="Add a Q&A pair")
    form.get_by_label("Question").fill(question)
    form.get_by_label("Answer").fill(answer)
    form.get_by_role("button", name="Add Q&A pair").click()
    return form


@pytest.fixture
def loopback_crawls(live_api):
    """The live app may crawl a site on 127.0.0.1, as ALLOW_PRIVATE_URLS=true allows."""
    settings = live_api.app.state.settings
    settings.allow_private_urls = True
    try:
        yield
    finally:
        settings.allow_private_urls = False


@pytest.fixture
def recrawl_an_hour_apart(live_api):
    """A re-crawl is refused for an hour after a crawl ends, not 60 s: the test's steps between
    the two (screenshots, accessibility checks, a second browser context) may take longer than
    a minute on a busy machine."""
    settings = live_api.app.state.settings
    before = settings.recrawl_min_seconds
    settings.recrawl_min_seconds = 3600
    try:
        yield
    finally:
        settings.recrawl_min_seconds = before


def test_website_added_is_crawled_live_until_ready_with_its_pages(
    dashboard, live_api, loopback_crawls, recrawl_an_hour_apart
):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    dashboard.allow_console("status of 429")  # the re-crawl asked too soon
    with serve_site() as site:
        # a second between pages, so that the crawl is seen under way
        site.robots = (
            f"User-agent: *\nCrawl-delay: 1\nDisallow: /private/\nSitemap: {site.url}/sitemap.xml\n"
        )
        page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/sources", tenant=owner)
        form = page.get_by_role("form", name="Add a Website")
        form.get_by_label("Website address").fill(f"{site.url}/")
        form.get_by_role("button", name="Add website").click()

        row = websites(page).get_by_role("listitem").first
        expect(row).to_contain_text(site.url)
        expect(row.get_by_text("Crawling", exact=True)).to_be_visible(timeout=READY_TIMEOUT)
        expect(row.get_by_role("progressbar", name=re.compile("^Crawling"))).to_be_visible()
        expect(row.get_by_test_id("crawl-counts")).to_contain_text(
            re.compile(r"[1-9]\d* done"), timeout=READY_TIMEOUT
        )
        dashboard.check(page, "sources-website-crawling")
        expect(row.get_by_text("Ready", exact=True)).to_be_visible(timeout=READY_TIMEOUT)
        [source] = owner.get(f"/api/chatbots/{bot['id']}/sources/url").json()
        assert source["status"] == "ready" and source["pages_done"] >= 4
        counts = row.get_by_test_id("crawl-counts")
        expect(counts).to_contain_text(f"{source['pages_done']} done")
        expect(counts).to_contain_text(f"{source['pages_failed']} failed")
        expect(counts).to_contain_text(f"{source['pages_skipped']} skipped")

        row.get_by_role("button", name=site.url, exact=False).first.click()
        pages = row.get_by_role("region", name=re.compile("^Pages of"))
        for title in ("Shipping times – Nordvik Outdoor", "Returns – Nordvik Outdoor"):
            expect(pages).to_contain_text(title)
        expect(pages.get_by_role("link", name=f"{site.url}/shipping")).to_be_visible()
        left_out = row.get_by_role("region", name=re.compile("^Pages left out of"))
        expect(left_out).to_contain_text("robots.txt")
        expect(left_out).to_contain_text("404")
        # the pages are listed under their website, not among the documents
        expect(documents(page)).to_have_count(0)
        dashboard.check(page, "sources-website")

        member = dashboard.open(
            f"/dashboard/chatbots/{bot['id']}/sources", tenant=owner.add_user("member")
        )
        expect(websites(member).get_by_role("listitem")).to_contain_text(site.url)
        expect(
            websites(member).get_by_role("button", name=re.compile("^(Re-crawl|Delete)"))
        ).to_have_count(0)
        expect(member.get_by_role("form", name=re.compile("^Add a"))).to_have_count(0)

        row.get_by_role("button", name=re.compile("^Re-crawl")).click()
        expect(row.get_by_role("alert")).to_contain_text("crawled moments ago; recrawl it in")

        row.get_by_role("button", name=re.compile("^Delete")).click()
        dialog = page.get_by_role("dialog", name=re.compile("^Delete the website"))
        expect(dialog).to_contain_text("removed from answers")
        dialog.get_by_role("button", name="Delete website").click()
        expect(websites(page)).to_have_count(0)
    assert owner.get(f"/api/chatbots/{bot['id']}/sources/url").json() == []
    assert owner.get(f"/api/chatbots/{bot['id']}/documents").json() == []


def test_text_and_qa_pair_added_and_edited(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/sources", tenant=owner)

    page.get_by_role("button", name="Text", exact=True).click()
    form = page.get_by_role("form", name="Add a Text")
    form.get_by_label("Title").fill("Opening hours")
    form.get_by_label("Text").fill("The shop opens at 9 and closes at 18, Monday to Saturday.")
    form.get_by_role("button", name="Add text").click()
    text_row = documents(page).get_by_role("listitem", name="Opening hours")
    expect(text_row.get_by_text("Ready", exact=True)).to_be_visible(timeout=READY_TIMEOUT)
    expect(text_row).to_contain_text("Text ·")

    form = add_qa(page, "Do you ship to Iceland?", "Yes, in seven business days.")
    qa_row = documents(page).get_by_role("listitem", name="Do you ship to Iceland?")
    expect(qa_row.get_by_text("Ready", exact=True)).to_be_visible(timeout=READY_TIMEOUT)
    expect(qa_row).to_contain_text("Q&A pair ·")
    dashboard.check(page, "sources-text-qa")

    text_row.get_by_role("button", name="Edit Opening hours").click()
    edit = text_row.get_by_role("form", name="Edit Opening hours")
    expect(edit.get_by_label("Title")).to_have_value("Opening hours")
    edit.get_by_label("Title").fill("Shop hours")
    edit.get_by_label("New text").fill("The shop opens at 10 and closes at 17, Monday to Friday.")
    with page.expect_response(lambda r: r.request.method == "PATCH") as patched:
        edit.get_by_role("button", name="Save and reindex").click()
    assert patched.value.status == 202
    text_row = documents(page).get_by_role("listitem", name="Shop hours")
    expect(text_row.get_by_text("Ready", exact=True)).to_be_visible(timeout=READY_TIMEOUT)

    qa_row.get_by_role("button", name="Edit Do you ship to Iceland?").click()
    edit = qa_row.get_by_role("form", name="Edit Do you ship to Iceland?")
    expect(edit.get_by_label("Question")).to_have_value("Do you ship to Iceland?")
    expect(edit.get_by_label("Answer")).to_have_value("Yes, in seven business days.")
    dashboard.check(page, "sources-edit-qa")
    edit.get_by_label("Answer").fill("Yes, in five business days since March.")
    edit.get_by_role("button", name="Save and reindex").click()
    expect(edit).to_have_count(0)

    docs = {d["origin"]: d for d in owner.get(f"/api/chatbots/{bot['id']}/documents").json()}
    for doc in docs.values():
        wait_until_done(owner, doc["id"])
    chunks = owner.get(f"/api/documents/{docs['qa']['id']}/chunks").json()["items"]
    assert [c["text"] for c in chunks] == [
        "Do you ship to Iceland?\n\nYes, in five business days since March."
    ]
    chunks = owner.get(f"/api/documents/{docs['text']['id']}/chunks").json()["items"]
    assert "opens at 10" in chunks[0]["text"]
    assert owner.get(f"/api/documents/{docs['text']['id']}").json()["filename"] == "Shop hours"


def test_refused_url_shows_the_servers_reason_next_to_the_form(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    dashboard.allow_console("status of 422")
    url = "http://127.0.0.1:9/help"
    refused = owner.post(f"/api/chatbots/{bot['id']}/sources/url", json={"url": url})
    assert refused.status_code == 422
    reason = refused.json()["error"]["message"]
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/sources", tenant=owner)

    form = page.get_by_role("form", name="Add a Website")
    form.get_by_label("Website address").fill(url)
    form.get_by_role("button", name="Add website").click()

    expect(form.get_by_role("alert")).to_have_text(reason)
    expect(websites(page)).to_have_count(0)
    dashboard.check(page, "sources-refused-url")


def test_member_sees_a_text_source_without_add_edit_or_delete(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    added = owner.post(
        f"/api/chatbots/{bot['id']}/sources/text", json={"title": "Opening hours", "text": "9-18."}
    )
    wait_until_done(owner, added.json()["id"])
    member = owner.add_user("member")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/sources", tenant=member)

    expect(documents(page).get_by_role("listitem", name="Opening hours")).to_be_visible()
    expect(page.get_by_role("form", name=re.compile("^Add a"))).to_have_count(0)
    for name in ("Edit Opening hours", "Delete Opening hours", "Add website"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)


def test_a_source_past_the_plans_document_cap_shows_the_402_reason(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    dashboard.allow_console("status of 402")
    with session_scope(live_api.app.state.sessionmaker) as db:
        db.merge(
            Plan(
                name="one-document",
                monthly_tokens=10**9,
                price_per_1k_input=Decimal("0"),
                price_per_1k_output=Decimal("0"),
                max_documents=1,
            )
        )
        db.flush()
        db.get(Customer, uuid.UUID(owner.customer_id)).plan = "one-document"
    added = owner.post(
        f"/api/chatbots/{bot['id']}/sources/text", json={"title": "Opening hours", "text": "9-18."}
    )
    assert added.status_code == 202
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/sources", tenant=owner)

    form = add_qa(page, "Do you ship to Iceland?", "Yes, in seven business days.")

    expect(form.get_by_role("alert")).to_contain_text("plan stores at most 1 documents")
    expect(documents(page).get_by_role("listitem")).to_have_count(1)
