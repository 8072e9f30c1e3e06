"""Any server speaking OpenAI's chat completions (OpenAI, OpenRouter, Groq, vLLM, Ollama), through
the `openai` SDK."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import openai

from app.core.config import Settings
from app.llm.base import TokenCounter
from app.llm.chat_completions import ChatCompletionsProvider
from app.llm.registry import register

# Local servers (Ollama, vLLM) need no key, but the SDK refuses to start without one.
_NO_KEY = "no-key"


class OpenAICompatibleProvider(ChatCompletionsProvider):
    name = "openai-compatible"
    timeout_errors = (openai.APITimeoutError,)
    network_errors = (openai.APIConnectionError,)
    errors = (openai.APIError,)

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        count_tokens: TokenCounter,
    ) -> None:
        super().__init__(count_tokens=count_tokens)
        self._client = openai.OpenAI(
            api_key=api_key or _NO_KEY,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
        )

    def _create(self, arguments: dict[str, Any]) -> Any:
        return self._client.chat.completions.create(**arguments)

    def _create_stream(self, arguments: dict[str, Any]) -> AbstractContextManager[Any]:
        # Without stream_options OpenAI-style servers send no usage at all when streaming.
        return self._client.chat.completions.create(
            **arguments, stream=True, stream_options={"include_usage": True}
        )


@register("openai-compatible")
def _from_settings(settings: Settings, count_tokens: TokenCounter) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
        count_tokens=count_tokens,
    )
