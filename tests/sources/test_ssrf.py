"""Server-side request forgery: with ALLOW_PRIVATE_URLS off (the default) a website source
never reaches loopback, private, link-local or other non-public addresses, whatever the URL
says, whatever the name resolves to the second time, and wherever a redirect points."""

from __future__ import annotations

import socket

import pytest

from ingestion import web
from tests.sources.conftest import wait_crawled
from tests.sources.site import REDIRECTS, serve_site

REFUSED = [
    ("http://127.0.0.1:{port}/", "127.0.0.1, a loopback address"),
    ("http://10.20.30.40/", "10.20.30.40, a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
    ("http://[::1]:{port}/", "::1, a loopback address"),
    ("http://localhost:{port}/", "a loopback address"),
    ("http://[::ffff:127.0.0.1]/", "a loopback address"),
    ("http://2130706433/", "127.0.0.1, a loopback address"),  # 127.0.0.1 as one number
    ("http://0.0.0.0/", "an unspecified address"),
    ("http://224.0.0.1/", "a multicast address"),
    ("http://192.168.1.1/", "a private address"),
    ("ftp://example.com/file", "Only http:// and https://"),
    ("file:///etc/passwd", "Only http:// and https://"),
    ("http://admin:secret@example.com/", "user name or password"),
    ("http://exa mple.com/", "spaces or control characters"),
]


@pytest.fixture
def bot(tenant) -> dict:
    return tenant.create_chatbot()


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_private_and_odd_urls_are_refused_with_422(tenant, bot, site, url, reason):
    port = site.url.rsplit(":", 1)[1]
    r = tenant.post(f"/api/chatbots/{bot['id']}/sources/url", json={"url": url.format(port=port)})
    assert r.status_code == 422, r.text
    assert reason in r.json()["error"]["message"]
    assert tenant.get(f"/api/chatbots/{bot['id']}/sources/url").json() == []
    assert site.requests == []


def test_a_name_that_resolves_to_loopback_at_crawl_time_is_refused(tenant, bot, site, monkeypatch):
    """DNS rebinding: public when the URL is checked, loopback when the crawl connects."""
    real = socket.getaddrinfo
    port = int(site.url.rsplit(":", 1)[1])
    answers = iter(["93.184.215.14"])

    def rebinding(host, *args, **kwargs):
        if host != "shop.rebind.test":
            return real(host, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    r = tenant.post(
        f"/api/chatbots/{bot['id']}/sources/url", json={"url": f"http://shop.rebind.test:{port}/"}
    )
    assert r.status_code == 202, r.text
    source, pages = wait_crawled(tenant, r.json()["id"])
    assert source["status"] == "failed"
    assert "resolves to 127.0.0.1, a loopback address" in source["error"]
    assert pages == [] and site.requests == []


def test_every_redirect_hop_is_checked_before_connecting(monkeypatch):
    """127.0.0.1 stands in for a public site here; its redirect to 127.0.0.2 is refused."""
    checked = web._address_problem
    monkeypatch.setattr(web, "_address_problem", lambda a: None if a == "127.0.0.1" else checked(a))
    monkeypatch.setitem(REDIRECTS, "/go", "http://127.0.0.2:9/internal")
    with serve_site() as site:
        fetcher = web.Fetcher(web.WebLimits())
        try:
            with pytest.raises(web.UnsafeURL, match="127.0.0.2, a loopback address"):
                fetcher.get(f"{site.url}/go")
        finally:
            fetcher.close()
        assert site.requests == ["/go"]


def test_the_guard_connects_to_the_address_it_checked(monkeypatch):
    """The connection goes to the resolved, checked address: the host name is never looked up
    again by the socket layer."""
    connected: list[str] = []
    original = web.httpcore.SyncBackend.connect_tcp

    def spy(self, host, port, *args, **kwargs):
        connected.append(host)
        return original(self, host, port, *args, **kwargs)

    monkeypatch.setattr(web.httpcore.SyncBackend, "connect_tcp", spy)
    with serve_site() as site:
        port = site.url.rsplit(":", 1)[1]
        fetcher = web.Fetcher(web.WebLimits(allow_private=True))
        try:
            assert fetcher.get(f"http://localhost:{port}/faq").status == 200
        finally:
            fetcher.close()
    assert connected[-1] in ("127.0.0.1", "::1")


def test_a_page_that_redirects_to_a_refused_address_fails_alone(monkeypatch):
    checked = web._address_problem
    monkeypatch.setattr(web, "_address_problem", lambda a: None if a == "127.0.0.1" else checked(a))
    monkeypatch.setitem(REDIRECTS, "/loop-a", "http://127.0.0.2:9/internal")
    with serve_site() as site:
        pages = {p.url: p for p in web.Crawler(f"{site.url}/", web.WebLimits()).pages()}
    assert "127.0.0.2, a loopback address" in (pages[f"{site.url}/loop-a"].reason or "")
    assert pages[f"{site.url}/loop-a"].outcome == "failed"
    assert pages[f"{site.url}/shipping"].outcome == "ok"
