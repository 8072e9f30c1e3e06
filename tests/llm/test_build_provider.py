from __future__ import annotations

from typing import Any

import pytest

from app.core.config import Settings
from app.llm import ContextChunk, LLMRequest, build_provider
from tests.fakes.llm_server import FakeLLMServer


def settings_for(fake_llm: FakeLLMServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "secret_key": "test-secret",
        "fireworks_api_key": "fw-test-key",
        "fireworks_base_url": fake_llm.base_url + "/inference",
        "openai_api_key": "sk-test-key",
        "openai_base_url": fake_llm.base_url + "/v1",
        "llm_timeout_seconds": 5.0,
        "llm_max_retries": 0,
    }
    return Settings(**{**values, **overrides})


@pytest.mark.parametrize("name", ["fireworks", "openai-compatible", "extractive"])
def test_built_provider_answers_under_its_name(fake_llm: FakeLLMServer, name: str) -> None:
    provider = build_provider(name, settings=settings_for(fake_llm), count_tokens=len)
    request = LLMRequest(
        messages=[{"role": "user", "content": "Which colour is the pump?"}],
        model="test-model",
        temperature=0.0,
        max_tokens=50,
        question="Which colour is the pump?",
        context=[ContextChunk("The pump is blue.", "manual.pdf", 0.9)],
    )

    completion = provider.complete(request)

    assert provider.name == completion.provider == name
    assert completion.text
    assert len(fake_llm.requests) == (0 if name == "extractive" else 1)


def test_fireworks_without_key_is_refused(fake_llm: FakeLLMServer) -> None:
    settings = settings_for(fake_llm, fireworks_api_key=None)

    with pytest.raises(ValueError, match="FIREWORKS_API_KEY"):
        build_provider("fireworks", settings=settings, count_tokens=len)


def test_unknown_provider_is_refused(fake_llm: FakeLLMServer) -> None:
    with pytest.raises(ValueError, match="Unknown LLM provider"):
        build_provider("gpt-magic", settings=settings_for(fake_llm), count_tokens=len)
