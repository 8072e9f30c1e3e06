"""A real API on localhost, customers' websites on 127.0.0.1, and headless Chromium.

The API and the host pages run on different origins, as they do in production, so the browser
applies CORS and the widget key's origin check exactly as it would on a customer's site.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.main import create_app
from tests.conftest import ROOT, Tenant, register_tenant, wipe
from tests.live import serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
# ms an `expect(...)` waits for its state unless it says otherwise: Playwright's 5 s is too short
# for an answer or a page on a busy machine, and a passing assertion returns as soon as it holds
EXPECT_TIMEOUT = 60_000


def patient_expect() -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT)


@dataclass
class LiveApi:
    url: str
    app: FastAPI
    owner: Tenant


@contextmanager
def _live(settings: Settings) -> Iterator[LiveApi]:
    app = create_app(settings)
    try:
        with serve(app, host="localhost") as url, httpx.Client(base_url=url, timeout=60) as http:
            settings.public_base_url = url  # the port is known only once the server is up
            yield LiveApi(url, app, register_tenant(http))
    finally:
        wipe(app.state.engine)


@pytest.fixture
def live_api(make_settings) -> Iterator[LiveApi]:
    """The whole app served by uvicorn on http://localhost:<port>, with a registered owner."""
    with _live(make_settings()) as api:
        yield api


@pytest.fixture
def live_llm_api(make_settings, fake_llm) -> Iterator[LiveApi]:
    """`live_api` answering through the Fireworks SDK from the loopback fake LLM, so a test
    decides the exact answer text (`fake_llm.reply_with`) and everything after it is real."""
    settings = make_settings(
        llm_provider="fireworks",
        fireworks_api_key="fw-test-key",
        fireworks_base_url=f"{fake_llm.base_url}/inference",
    )
    with _live(settings) as api:
        yield api


@pytest.fixture
def live_mail_api(make_settings, mailbox) -> Iterator[LiveApi]:
    """`live_api` delivering its email to `mailbox`, a real SMTP server on loopback."""
    with _live(make_settings(**mailbox.settings())) as api:
        yield api


@dataclass
class Site:
    """A customer's website: static pages on an origin of its own."""

    server: ThreadingHTTPServer
    pages: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = site.pages.get(self.path.split("?")[0])
            body = (page or "not found").encode()
            self.send_response(200 if page is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def site_factory() -> Iterator:
    """`site_factory()` starts another website on 127.0.0.1 with a port of its own."""
    sites: list[Site] = []

    def start() -> Site:
        site = Site(ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler))
        site.server.RequestHandlerClass = _handler(site)
        threading.Thread(target=site.server.serve_forever, daemon=True).start()
        sites.append(site)
        return site

    yield start
    for site in sites:
        site.server.shutdown()
        site.server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test does)")
    from playwright.sync_api import sync_playwright

    patient_expect()

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
