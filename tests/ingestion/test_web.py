"""The crawler library against a real site on loopback: what it reads, and what it survives."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ingestion import web
from ingestion.web import Fetcher, FetchFailed, WebLimits
from tests.sources.site import serve_site

OPEN = web.WebLimits(allow_private=True)


def _crawl(url: str, limits: web.WebLimits = OPEN) -> dict[str, web.Page]:
    return {page.url: page for page in web.Crawler(url, limits).pages()}


def test_urls_get_one_ascii_spelling():
    assert web.normalise("HTTP://Bücher.Example:80/søk?q=å b#top") == (
        "http://xn--bcher-kva.example/s%C3%B8k?q=%C3%A5%20b"
    )
    assert web.normalise("https://a.test/a%20b") == "https://a.test/a%20b"
    assert web.normalise("http://[::1]:8080") == "http://[::1]:8080/"
    with pytest.raises(ValueError):
        web.normalise("http://a.test:port/")


def test_malformed_and_international_links_do_not_stop_the_crawl():
    with serve_site() as site:
        site.pages["/"] = (
            "Links",
            "<p>Every kind of link a real page holds, well formed or not, must leave the crawl "
            "going and reading the pages it can reach.</p>"
            "<a href='http://[oops/'>bad</a><a href='http://x.test:port/'>bad port</a>"
            "<a href='mailto:shop@example.com'>mail</a><a href='javascript:void(0)'>js</a>"
            "<a href='/søk'>search</a><a href='/faq' rel='nofollow'>faq</a>",
        )
        site.pages["/søk"] = (
            "Søk",
            "<p>Søkesiden finner telt, soveposer og fjellstøvler i nettbutikken vår.</p>",
        )
        pages = _crawl(f"{site.url}/")
    assert pages[f"{site.url}/s%C3%B8k"].outcome == "ok"
    assert pages[f"{site.url}/s%C3%B8k"].title == "Søk"
    assert f"{site.url}/faq" in pages  # from the header's link: rel=nofollow on one link only


def test_a_sitemap_with_an_entity_is_read_without_expanding_it():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>http://a.test/&x;</loc></url><url><loc>http://a.test/b</loc></url></urlset>"
    )
    pages, nested = web.sitemap_entries(xxe)
    assert nested == [] and "root:" not in "".join(pages)
    assert "http://a.test/b" in pages
    with pytest.raises(web.FetchFailed):
        web.sitemap_entries(b"<html>not a sitemap</html>")


@pytest.mark.parametrize(
    ("robots", "allowed"),
    [
        ("", True),  # empty: everything allowed
        ("User-agent: *\nDisallow: /private/\n", True),
        ("User-agent: RAGChatbotCrawler\nDisallow: /\n", False),  # by its name
        (None, False),  # a server error forbids the whole site (RFC 9309)
    ],
)
def test_robots_txt_decides_what_is_fetched(robots, allowed):
    with serve_site() as site:
        site.robots = robots
        pages = _crawl(f"{site.url}/faq", web.WebLimits(allow_private=True, max_depth=0))
    if allowed:
        assert pages[f"{site.url}/faq"].outcome == "ok"
    else:
        [page] = pages.values()
        assert (page.outcome, page.reason) == ("skipped", "robots.txt disallows it")
        assert site.requests == ["/robots.txt"]


def test_a_page_asking_not_to_be_indexed_is_left_out():
    with serve_site() as site:
        site.pages["/faq"] = (
            "Private FAQ</title><meta name='robots' content='noindex'><title>x",
            "<p>Nothing here should be indexed by any crawler at all, ever.</p>",
        )
        page = _crawl(f"{site.url}/faq")[f"{site.url}/faq"]
    assert (page.outcome, page.reason) == ("skipped", "the page asks not to be indexed")


@contextmanager
def trickling_server() -> Iterator[str]:
    """A server that answers with a header line that never ends, one byte every 0.3 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.wait(0.3):
                try:
                    conn.sendall(b"a")
                except OSError:  # the client gave up
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        listener.close()


def test_a_fetch_ends_by_its_deadline_however_slowly_the_headers_come():
    """Each byte arrives well within the read timeout, so only a deadline over the whole fetch
    (connect, headers, body) ends it: headers trickled a byte every 2 s once held a fetch for
    241 s against a 20 s limit."""
    limits = WebLimits(allow_private=True, read_timeout=1.0, page_seconds=2.0)
    fetcher = Fetcher(limits)
    with trickling_server() as url:
        started = time.monotonic()
        with pytest.raises(FetchFailed) as failed:
            fetcher.get(url)
        elapsed = time.monotonic() - started
    fetcher.close()
    assert failed.value.transient
    assert elapsed < limits.page_seconds + 3, elapsed  # without the deadline: never


def test_a_crawl_stops_at_its_own_deadline_and_says_so():
    """A site asking for a 1 s Crawl-delay between 6 pages: a crawl given 2.5 s in all stops
    after its third page however long the site would take, and says why."""
    with serve_site() as site:
        site.robots = "User-agent: *\nCrawl-delay: 1\nDisallow: /private/\n"
        limits = WebLimits(allow_private=True, crawl_seconds=2.5)
        crawler = web.Crawler(f"{site.url}/", limits)
        pages = list(crawler.pages())
        unlimited = list(web.Crawler(f"{site.url}/", OPEN).pages())
    read = [p for p in pages if p.outcome == "ok"]
    assert 1 <= len(read) < len([p for p in unlimited if p.outcome == "ok"])
    assert crawler.stop_reason and "time limit (2.5 s)" in crawler.stop_reason


def test_the_crawl_deadline_cuts_the_fetch_in_progress():
    """A crawl whose only page trickles its headers ends by the crawl's deadline even when that
    comes before the page's own."""
    limits = WebLimits(allow_private=True, read_timeout=5.0, page_seconds=60.0, crawl_seconds=2.0)
    with trickling_server() as url:
        fetcher = Fetcher(limits)
        started = time.monotonic()
        fetcher.end_by = started + limits.crawl_seconds
        with pytest.raises(FetchFailed) as failed:
            fetcher.get(url)
        elapsed = time.monotonic() - started
        fetcher.close()
    assert failed.value.transient
    assert elapsed < limits.page_seconds / 2, elapsed  # by the page's deadline alone: 60 s
