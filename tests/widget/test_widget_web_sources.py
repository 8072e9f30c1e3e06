"""A website source's citation in the widget is a link to the page it quotes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from app.main import create_app
from tests.conftest import register_tenant, wipe
from tests.live import serve
from tests.sources.conftest import wait_crawled
from tests.sources.site import serve_site
from tests.widget.conftest import LiveApi
from tests.widget.test_widget_browser import WIDGET, ask, host_page, launcher

pytestmark = pytest.mark.browser


@pytest.fixture
def crawling_api(make_settings) -> Iterator[LiveApi]:
    """The app on localhost, allowed to crawl loopback (ALLOW_PRIVATE_URLS)."""
    settings = make_settings(allow_private_urls=True)
    app = create_app(settings)
    try:
        with serve(app, host="localhost") as url, httpx.Client(base_url=url, timeout=60) as http:
            settings.public_base_url = url
            yield LiveApi(url, app, register_tenant(http))
    finally:
        wipe(app.state.engine)


def test_a_web_page_source_is_a_link_to_the_page(crawling_api, site_factory, browser):
    host = site_factory()
    owner = crawling_api.owner
    bot = owner.create_chatbot(
        name="Shop help", allowed_origins=[host.origin], settings={"widget": WIDGET}
    )
    with serve_site() as shop:
        added = owner.post(
            f"/api/chatbots/{bot['id']}/sources/url", json={"url": f"{shop.url}/shipping"}
        )
        assert added.status_code == 202, added.text
        source, pages = wait_crawled(owner, added.json()["id"])
    assert f"{shop.url}/shipping" in [p["url"] for p in pages]
    snippet = owner.get(f"/api/chatbots/{bot['id']}/snippet").json()["script"]
    host.pages["/"] = host_page(snippet)

    page = browser.new_page()
    page.goto(f"{host.origin}/")
    launcher(page).click()
    ask(page, "How long does a parcel to Norway take?")
    log = page.get_by_role("log")
    expect(log).to_contain_text("four business days")
    link = log.get_by_role("link", name="Shipping times – Nordvik Outdoor – Shipping")
    expect(link).to_have_attribute("href", f"{shop.url}/shipping")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    page.close()
