"""The dashboard in headless Chromium, served by the real app with its built web app.

The live API and the customers' websites are the widget tests' fixtures. Every page
opened through `dashboard` fails its test on a console error or an uncaught exception, and
`dashboard.check(page, name)` runs axe-core (no serious or critical violation) and saves
screenshots at desktop and phone size in test-artifacts/dashboard/.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    ViewportSize,
    sync_playwright,
)

from app.dashboard.router import DIST
from tests.conftest import ROOT, Tenant
from tests.widget import conftest as widget

# the widget tests' fixtures: the live API on localhost and customers' websites
live_api, live_llm_api, live_mail_api = widget.live_api, widget.live_llm_api, widget.live_mail_api
site_factory = widget.site_factory

AXE = ROOT / "app" / "dashboard" / "web" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
PHONE: ViewportSize = {"width": 390, "height": 844}
SHOTS = widget.ARTIFACTS / "dashboard"


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Chromium for these tests, closed when they are done.

    Playwright's sync API allows one instance per thread, and the widget tests keep theirs for
    the whole session: reuse it when those ran first; otherwise start one and stop it before
    they start (this package's tests run before tests/widget in the default order).
    """
    widget.patient_expect()
    running = [o for o in gc.get_objects() if isinstance(o, Browser) and o.is_connected()]
    if running:
        yield running[0]
        return
    if not Path(widget.CHROMIUM).exists():
        pytest.fail(f"{widget.CHROMIUM} is missing: install Debian's chromium (scripts/test does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=widget.CHROMIUM, headless=True, args=widget.CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def built_dashboard() -> None:
    if not (DIST / "index.html").is_file() or not AXE.is_file():
        pytest.fail(
            "The dashboard is not built (app/dashboard/web/dist) or its node_modules are missing: "
            "run scripts/build-dashboard (scripts/test does it before the tests)"
        )


@dataclass
class Dashboard:
    browser: Browser
    url: str
    contexts: list[BrowserContext] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def open(self, path: str = "/dashboard/", tenant: Tenant | None = None, **context) -> Page:
        """A new browser context at `path`, signed in as `tenant` when given."""
        ctx = self.browser.new_context(
            viewport=context.pop("viewport", DESKTOP), base_url=self.url, **context
        )
        self.contexts.append(ctx)
        if tenant is not None:
            ctx.add_init_script(
                f"localStorage.getItem('dashboard.token') || "
                f"localStorage.setItem('dashboard.token', {tenant.token!r})"
            )
        page = self.watch(ctx.new_page())
        page.goto(path)
        return page

    def watch(self, page: Page) -> Page:
        """Fail the test on the page's console errors and uncaught exceptions."""
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught: {exc}"))
        return page

    def allow_console(self, pattern: str) -> None:
        """Expected console noise, e.g. the browser's log line for a 401 the test provokes."""
        self.allowed.append(re.compile(pattern))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and not any(
            p.search(message.text) for p in self.allowed
        ):
            self.problems.append(f"console {message.type}: {message.text}")

    def check(self, page: Page, name: str) -> None:
        """No serious or critical accessibility violation; screenshots at desktop and phone size."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        size = page.viewport_size or DESKTOP
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            assert_accessible(page, f"{name} ({label})")
            page.screenshot(path=SHOTS / f"{name}-{label}.png", full_page=True)
        page.set_viewport_size(size)


def assert_accessible(page: Page, where: str) -> None:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # evaluated through DevTools rather than as a <script>, which the app's CSP refuses
        page.evaluate(f"() => {{ {AXE.read_text()}\n}}")
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.id} (${v.impact}): ${v.help} at `
                + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )
    assert not violations, f"accessibility violations on {where}:\n" + "\n".join(violations)


@contextmanager
def _board(browser, url: str) -> Iterator[Dashboard]:
    board = Dashboard(browser, url)
    yield board
    for ctx in board.contexts:
        ctx.close()
    assert not board.problems, "\n".join(board.problems)


@pytest.fixture
def dashboard(built_dashboard, live_api, browser) -> Iterator[Dashboard]:
    with _board(browser, live_api.url) as board:
        yield board


@pytest.fixture
def llm_dashboard(built_dashboard, live_llm_api, browser) -> Iterator[Dashboard]:
    """The dashboard on `live_llm_api`: answers come from the loopback fake LLM."""
    with _board(browser, live_llm_api.url) as board:
        yield board


@pytest.fixture
def mail_dashboard(built_dashboard, live_mail_api, browser) -> Iterator[Dashboard]:
    """The dashboard on `live_mail_api`: its email arrives in `mailbox` (real SMTP)."""
    with _board(browser, live_mail_api.url) as board:
        yield board
