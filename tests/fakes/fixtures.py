"""Pytest fixtures for the fakes; import them into a conftest (or list this module in
`pytest_plugins`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.llm_server import FakeLLMServer
from tests.mailbox import Mailbox


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    """A fake LLM server of the test's own, with an empty script and no recorded requests.

    One per test, on its own port: a server shared by the session let a request a previous
    test's app still had in flight (a retry after a timeout, from a thread that outlived its
    test) take the next test's scripted behaviour, so a stream scripted to stall ran to its end.
    """
    server = FakeLLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on loopback; `app_with(**mailbox.settings())` delivers to it."""
    box = Mailbox().start()
    yield box
    box.stop()
