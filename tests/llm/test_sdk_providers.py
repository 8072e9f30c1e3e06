"""The Fireworks and OpenAI-compatible providers, through their real SDKs, against the fake server
over real HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import pytest

from app.llm import Completion, ContextChunk, LLMError, LLMRequest, LLMTimeout, Stop
from app.llm.chat_completions import ChatCompletionsProvider
from app.llm.fireworks import FireworksProvider
from app.llm.openai_compatible import OpenAICompatibleProvider
from tests.fakes.llm_server import FakeLLMServer
from tests.servers import wait_for

API_KEY = "sk-test-secret-key-0123456789"
TIMEOUT = 0.5
MAX_RETRIES = 2
ANSWER = "The pump runs at 5 bar."

ProviderFactory = Callable[..., ChatCompletionsProvider]


def count_characters(text: str) -> int:
    """A counter unlike the fake's word count, so a test can tell whose count it sees."""
    return len(text)


def pump_request() -> LLMRequest:
    question = "What pressure does the pump run at?"
    return LLMRequest(
        messages=[
            {"role": "system", "content": "Answer only from the context."},
            {"role": "system", "content": "Context:\n[manual.pdf, p. 3] The pump runs at 5 bar."},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": question},
        ],
        model="accounts/fireworks/models/test-model",
        temperature=0.3,
        max_tokens=128,
        question=question,
        context=[ContextChunk("The pump runs at 5 bar.", "manual.pdf, p. 3", 0.9)],
    )


# The address each provider is configured with, and the path its SDK then requests. Fireworks is
# given the OpenAI-style address Fireworks documents, ".../inference/v1".
PROVIDERS = {
    "fireworks": (FireworksProvider, "/inference/v1", "/inference/v1/chat/completions"),
    "openai-compatible": (OpenAICompatibleProvider, "/v1", "/v1/chat/completions"),
}


@pytest.fixture(params=list(PROVIDERS))
def provider_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_provider(provider_name: str, fake_llm: FakeLLMServer) -> ProviderFactory:
    provider_class, address, _ = PROVIDERS[provider_name]

    def make(
        base_url: str = fake_llm.base_url + address,
        max_retries: int = MAX_RETRIES,
        timeout: float = TIMEOUT,
    ) -> ChatCompletionsProvider:
        return provider_class(API_KEY, base_url, timeout, max_retries, count_characters)

    return make


def answer(
    provider: ChatCompletionsProvider, request: LLMRequest, *, streaming: bool
) -> Completion:
    return collect(provider, request)[1] if streaming else provider.complete(request)


def collect(provider: ChatCompletionsProvider, request: LLMRequest) -> tuple[list[str], Completion]:
    *deltas, completion = provider.stream(request)
    assert all(isinstance(delta, str) for delta in deltas)
    assert isinstance(completion, Completion)
    return deltas, completion  # type: ignore[return-value]


def test_complete_returns_the_text_and_the_usage_the_server_reported(
    make_provider: ProviderFactory, fake_llm: FakeLLMServer, provider_name: str
) -> None:
    fake_llm.reply_with(ANSWER, input_tokens=42, output_tokens=7)

    completion = make_provider().complete(pump_request())

    assert completion.text == ANSWER
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (42, 7)
    assert completion.usage.total_tokens == 49
    assert completion.model == "accounts/fireworks/models/test-model"
    assert completion.provider == provider_name


def test_stream_yields_deltas_then_one_completion_with_the_reported_usage(
    make_provider: ProviderFactory, fake_llm: FakeLLMServer, provider_name: str
) -> None:
    fake_llm.reply_with(ANSWER, input_tokens=42, output_tokens=7)

    deltas, completion = collect(make_provider(), pump_request())

    assert len(deltas) == len(ANSWER.split())
    assert "".join(deltas) == completion.text == ANSWER
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (42, 7)
    assert completion.provider == provider_name


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
def test_request_sent_carries_the_messages_parameters_and_key(
    make_provider: ProviderFactory, fake_llm: FakeLLMServer, provider_name: str, streaming: bool
) -> None:
    request = pump_request()

    answer(make_provider(), request, streaming=streaming)

    [sent] = fake_llm.requests
    assert sent.path == PROVIDERS[provider_name][2]
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.body["messages"] == request.messages
    assert sent.body["model"] == request.model
    assert sent.body["temperature"] == request.temperature
    assert sent.body["max_tokens"] == request.max_tokens
    assert bool(sent.body.get("stream")) == streaming


def test_openai_compatible_stream_asks_for_usage(fake_llm: FakeLLMServer) -> None:
    provider = OpenAICompatibleProvider(
        API_KEY, fake_llm.base_url + "/v1", TIMEOUT, MAX_RETRIES, count_characters
    )

    collect(provider, pump_request())

    assert fake_llm.requests[0].body["stream_options"] == {"include_usage": True}


def test_default_reply_usage_is_the_servers_word_count(
    make_provider: ProviderFactory, fake_llm: FakeLLMServer
) -> None:
    request = pump_request()

    completion = make_provider().complete(request)

    assert completion.text == f"Received 5 messages. The last one said: {request.question}"
    assert completion.usage.input_tokens == sum(len(m["content"].split()) for m in request.messages)
    assert completion.usage.output_tokens == len(completion.text.split())


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
def test_usage_is_counted_locally_when_the_server_reports_none(
    make_provider: ProviderFactory, fake_llm: FakeLLMServer, streaming: bool
) -> None:
    fake_llm.reply_with(ANSWER, report_usage=False)
    request = pump_request()

    completion = answer(make_provider(), request, streaming=streaming)

    assert completion.usage.input_tokens == sum(len(m["content"]) for m in request.messages)
    assert completion.usage.output_tokens == len(ANSWER)


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
def test_rate_limit_is_retried_until_it_succeeds(
    make_provider: ProviderFactory, fake_llm: FakeLLMServer, streaming: bool
) -> None:
    fake_llm.fail_next(status=429, times=2, retry_after=0.01)
    fake_llm.reply_with(ANSWER)

    completion = answer(make_provider(), pump_request(), streaming=streaming)

    assert completion.text == ANSWER
    assert len(fake_llm.requests) == 3


def test_repeated_server_error_raises_llm_error_without_the_key(
    make_provider: ProviderFactory, fake_llm: FakeLLMServer
) -> None:
    fake_llm.fail_next(status=500, times=MAX_RETRIES + 1)  # the SDK's own backoff: about 1.5 s

    with pytest.raises(LLMError) as caught:
        make_provider().complete(pump_request())

    assert caught.value.status_code == 502
    assert caught.value.message == "The language model provider failed: HTTP 500"
    assert API_KEY not in str(caught.value)
    assert len(fake_llm.requests) == MAX_RETRIES + 1


def test_stream_refused_before_any_delta_raises_llm_error(
    make_provider: ProviderFactory, fake_llm: FakeLLMServer
) -> None:
    fake_llm.fail_next(status=503, times=MAX_RETRIES + 1, retry_after=0.01)

    with pytest.raises(LLMError, match="HTTP 503"):
        collect(make_provider(), pump_request())


def test_client_error_is_not_retried(
    make_provider: ProviderFactory, fake_llm: FakeLLMServer
) -> None:
    fake_llm.fail_next(status=401)

    with pytest.raises(LLMError, match="HTTP 401"):
        make_provider().complete(pump_request())

    assert len(fake_llm.requests) == 1


def test_slow_provider_raises_timeout_after_retrying(
    make_provider: ProviderFactory, fake_llm: FakeLLMServer
) -> None:
    fake_llm.delay_next(TIMEOUT * 3, times=MAX_RETRIES + 1)

    with pytest.raises(LLMTimeout) as caught:
        make_provider().complete(pump_request())

    assert caught.value.status_code == 504
    assert len(fake_llm.requests) == MAX_RETRIES + 1


def test_unreachable_provider_raises_llm_error(make_provider: ProviderFactory) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(LLMError, match="network error"):
        unreachable = make_provider(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
        unreachable.complete(pump_request())


@pytest.mark.parametrize(
    ("how", "error"),
    [("drop", LLMError), ("error", LLMError), ("stall", LLMTimeout)],
    ids=["connection dropped", "error event", "server stalls"],
)
def test_failure_mid_stream_raises_from_the_iterator_after_the_first_deltas(
    make_provider: ProviderFactory, fake_llm: FakeLLMServer, how: str, error: type[Exception]
) -> None:
    fake_llm.interrupt_stream(after_deltas=2, how=how, stall=TIMEOUT * 3)
    received = []

    with pytest.raises(error):
        for item in make_provider().stream(pump_request()):
            received.append(item)

    assert len(received) == 2
    assert all(isinstance(item, str) for item in received)


def test_a_stop_cuts_a_stalled_stream_and_cancels_the_request(
    make_provider: ProviderFactory, fake_llm: FakeLLMServer
) -> None:
    """A stop requested from another thread while the provider thinks ends the read at once (it
    does not wait for the next delta), closes the provider's connection, and the stream ends
    with what was produced, counted, marked interrupted."""
    stall = 120.0
    fake_llm.interrupt_stream(after_deltas=2, how="stall", stall=stall)
    stop = Stop()
    received: list[str | Completion] = []
    for item in make_provider(timeout=stall * 2, max_retries=0).stream(pump_request(), stop):
        received.append(item)
        if len(received) == 2:
            threading.Timer(0.2, stop.request).start()

    *deltas, completion = received
    assert len(deltas) == 2 and isinstance(completion, Completion)
    assert completion.interrupted
    assert completion.text == "".join(deltas)
    assert completion.usage.output_tokens == len(completion.text)  # counted here
    wait_for(lambda: fake_llm.abandoned, 30, "the provider to see its request cancelled")
