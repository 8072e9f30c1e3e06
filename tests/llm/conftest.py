"""The fake LLM server's fixtures, for the tests in this folder."""

from tests.fakes.fixtures import fake_llm, fake_llm_server

__all__ = ["fake_llm", "fake_llm_server"]
