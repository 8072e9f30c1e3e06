"""Pytest fixtures for the fakes; import them into a conftest (or list this module in
`pytest_plugins`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLMServer) -> FakeLLMServer:
    """The fake LLM server with an empty script and no recorded requests."""
    fake_llm_server.reset()
    return fake_llm_server
