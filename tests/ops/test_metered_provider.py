"""`MeteredProvider` around a real provider talking to the fake chat-completions server over HTTP:
latency, tokens and errors land in the metrics `/metrics` exposes."""

from __future__ import annotations

from collections.abc import Generator

import pytest
from prometheus_client import REGISTRY

from app.llm import Completion, LLMError, LLMRequest, LLMTimeout
from app.llm.metered import MeteredProvider
from app.llm.openai_compatible import OpenAICompatibleProvider
from tests.fakes.llm_server import FakeLLMServer

PROVIDER = "openai-compatible"
ANSWER = "The pump runs at five bar."


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"provider": PROVIDER, **labels}) or 0.0


def counts() -> dict[str, float]:
    return {
        "calls": sample("llm_request_duration_seconds_count"),
        "input": sample("llm_tokens_total", direction="input"),
        "output": sample("llm_tokens_total", direction="output"),
        "failed": sample("llm_errors_total", code="upstream_error"),
        "timed_out": sample("llm_errors_total", code="upstream_timeout"),
    }


def added(before: dict[str, float]) -> dict[str, float]:
    return {key: value - before[key] for key, value in counts().items() if value != before[key]}


def request() -> LLMRequest:
    return LLMRequest(
        messages=[{"role": "user", "content": "What pressure does the pump run at?"}],
        model="test-model",
        temperature=0.0,
        max_tokens=64,
        question="What pressure does the pump run at?",
        context=[],
    )


@pytest.fixture
def provider(fake_llm: FakeLLMServer) -> MeteredProvider:
    inner = OpenAICompatibleProvider("sk-test", fake_llm.base_url + "/v1", 0.5, 0, len)
    return MeteredProvider(inner)


def test_completion_records_latency_and_the_providers_token_counts(
    provider: MeteredProvider, fake_llm: FakeLLMServer
) -> None:
    fake_llm.reply_with(ANSWER, input_tokens=11, output_tokens=7)
    before = counts()

    completion = provider.complete(request())

    assert completion.text == ANSWER and completion.provider == PROVIDER
    assert added(before) == {"calls": 1, "input": 11, "output": 7}


def test_stream_counts_tokens_once_when_the_answer_is_complete(
    provider: MeteredProvider, fake_llm: FakeLLMServer
) -> None:
    fake_llm.reply_with(ANSWER, input_tokens=5, output_tokens=6)
    before = counts()

    *deltas, completion = provider.stream(request())

    assert "".join(str(delta) for delta in deltas) == ANSWER
    assert isinstance(completion, Completion) and completion.text == ANSWER
    assert added(before) == {"calls": 1, "input": 5, "output": 6}


def test_failed_call_counts_an_error_by_code_and_no_tokens(
    provider: MeteredProvider, fake_llm: FakeLLMServer
) -> None:
    fake_llm.fail_next(503)
    before = counts()

    with pytest.raises(LLMError):
        provider.complete(request())

    assert added(before) == {"calls": 1, "failed": 1}


def test_timeout_while_streaming_counts_as_a_timeout(
    provider: MeteredProvider, fake_llm: FakeLLMServer
) -> None:
    fake_llm.interrupt_stream(after_deltas=2, how="stall", stall=2.0)
    before = counts()

    with pytest.raises(LLMTimeout):
        list(provider.stream(request()))

    assert added(before) == {"calls": 1, "timed_out": 1}


def test_abandoned_stream_is_neither_a_call_nor_an_error(
    provider: MeteredProvider, fake_llm: FakeLLMServer
) -> None:
    before = counts()

    stream = provider.stream(request())
    assert isinstance(stream, Generator)
    next(stream)
    stream.close()  # the visitor closed the page

    assert added(before) == {}


def test_wrapper_answers_for_the_provider_it_wraps(provider: MeteredProvider) -> None:
    assert provider.name == PROVIDER
    assert provider.timeout_errors == provider.provider.timeout_errors  # type: ignore[attr-defined]
