"""A real website on loopback for the crawler: pages with navigation and footer boilerplate,
robots.txt, a sitemap index, a redirect loop, a 404, a huge page and links to non-HTML files.

Pages can be edited and removed while it runs (a recrawl's test); `requests` records every path
asked for, so a test can tell what the crawler never fetched.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

NAV = (
    '<nav class="menu"><ul><li><a href="/">Home</a></li><li><a href="/shipping">Shipping</a></li>'
    '<li><a href="/returns">Returns</a></li><li><a href="/loop-a">Offers</a></li></ul></nav>'
)
FOOTER = (
    "<footer><p>Copyright 2026 Nordvik Outdoor AS. Cookie settings. Privacy policy. "
    "Subscribe to the Zephyrquill newsletter for weekly deals.</p></footer>"
)
# words that only the boilerplate holds: none may reach the index
BOILERPLATE_WORDS = ("Zephyrquill", "Cookie settings")

PAGES = {
    "/": (
        "Nordvik Outdoor – Home",
        "<h1>Welcome to Nordvik Outdoor</h1>"
        "<p>Nordvik Outdoor sells tents, sleeping bags and hiking boots made for the Nordic "
        "climate. Our workshop in Tromsø repairs every product we sell, for as long as you own "
        "it, at a fixed price of 25 euros per repair.</p>"
        "<p>Read about <a href='/shipping'>shipping</a>, <a href='/returns'>returns</a>, our "
        "<a href='/private/launch'>upcoming launch</a>, <a href='/missing'>old catalogue</a>, "
        "<a href='/huge'>full inventory</a>, <a href='/manual.pdf'>the tent manual (PDF)</a>, "
        "<a href='/prices'>the price list</a>, <a href='/moved'>the returns policy</a>, "
        "<a href='http://other.invalid/partner'>our partner</a> and "
        "<a href='/shipping#norway'>shipping to Norway</a>.</p>",
    ),
    "/shipping": (
        "Shipping times – Nordvik Outdoor",
        "<h1>Shipping</h1><p>Parcels to Norway arrive within four business days with Posten. "
        "Parcels to Sweden and Finland take five business days, and shipping is free for "
        "orders above 80 euros.</p><h2>Tracking</h2><p>Every parcel has a tracking number that "
        "is sent by e-mail on the day the parcel leaves the warehouse in Bodø.</p>",
    ),
    "/returns": (
        "Returns – Nordvik Outdoor",
        "<h1>Returns</h1><p>Unused products can be returned within 45 days of delivery for a "
        "full refund. Print the prepaid return label from your account page and drop the "
        "parcel at any post office; the refund reaches your card within a week.</p>",
    ),
    "/faq": (
        "Frequently asked questions – Nordvik Outdoor",
        "<h1>Questions</h1><p>Gift cards from Nordvik Outdoor are valid for three years from "
        "the date of purchase and can be used in the web shop and in the Tromsø store.</p>",
    ),
    "/private/launch": (
        "Launch",
        "<h1>Launch</h1><p>The secret winter tent is code-named Bluebird and ships in March.</p>",
    ),
}
REDIRECTS = {"/loop-a": "/loop-b", "/loop-b": "/loop-a", "/moved": "/returns"}
ROBOTS = "User-agent: *\nDisallow: /private/\n"


def page_html(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<header><a href='/'>Nordvik Outdoor</a> | <a href='/faq'>FAQ</a></header>{NAV}"
        f"<main><article>{body}</article></main>{FOOTER}</body></html>"
    )


@dataclass
class Site:
    url: str
    pages: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(PAGES))
    robots: str | None = ROBOTS  # None: robots.txt answers 503
    requests: list[str] = field(default_factory=list)
    huge_bytes: int = 3 * 1024 * 1024

    def sitemap_index(self) -> str:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{self.url}/sitemap-pages.xml</loc></sitemap></sitemapindex>"
        )

    def sitemap_pages(self) -> str:
        urls = "".join(f"<url><loc>{self.url}{path}</loc></url>" for path in ("/shipping", "/faq"))
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            # the crawler hangs up on a page past its size limit
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = unquote(self.path.split("?")[0])
            site.requests.append(path)
            if path == "/robots.txt" and site.robots is None:
                self._send(503, b"busy", "text/plain")
            elif path == "/robots.txt":
                self._send(200, site.robots.encode(), "text/plain")
            elif path == "/sitemap.xml":
                self._send(200, site.sitemap_index().encode(), "application/xml")
            elif path == "/sitemap-pages.xml":
                self._send(200, site.sitemap_pages().encode(), "application/xml")
            elif path in REDIRECTS:
                self._send(302, b"", "text/html", Location=REDIRECTS[path])
            elif path == "/huge":
                body = page_html("Inventory", "<p>" + "tent " * (site.huge_bytes // 5) + "</p>")
                self._send(200, body.encode(), "text/html; charset=utf-8")
            elif path == "/busy":  # a transient failure: the page may be back later
                self._send(503, b"<h1>Busy, try again later</h1>", "text/html")
            elif path == "/prices":
                self._send(200, b'{"tent": 399}', "application/json")
            elif path == "/manual.pdf":
                self._send(200, b"%PDF-1.4 not really", "application/pdf")
            elif path in site.pages:
                title, body = site.pages[path]
                self._send(200, page_html(title, body).encode(), "text/html; charset=utf-8")
            else:
                self._send(404, b"<h1>Not found</h1>", "text/html")

    return Handler


@contextmanager
def serve_site(host: str = "127.0.0.1") -> Iterator[Site]:
    server = ThreadingHTTPServer((host, 0), _handler(Site("")))
    site = Site(f"http://{host}:{server.server_address[1]}")
    site.robots = ROBOTS + f"Sitemap: {site.url}/sitemap.xml\n"
    server.RequestHandlerClass = _handler(site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
