"""Fireworks AI, through its SDK (`fireworks-ai`)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import fireworks
import httpx

from app.core.config import Settings
from app.llm.base import TokenCounter
from app.llm.chat_completions import ChatCompletionsProvider
from app.llm.registry import register


class FireworksProvider(ChatCompletionsProvider):
    name = "fireworks"
    # The SDK does not wrap failures that happen while a stream is being read: those arrive as
    # plain httpx errors.
    timeout_errors = (fireworks.APITimeoutError, httpx.TimeoutException)
    network_errors = (fireworks.APIConnectionError, httpx.TransportError)
    errors = (fireworks.APIError, httpx.HTTPError)

    def __init__(
        self,
        api_key: str,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        count_tokens: TokenCounter,
    ) -> None:
        super().__init__(count_tokens=count_tokens)
        self._client = fireworks.Fireworks(
            api_key=api_key,
            base_url=_sdk_base_url(base_url),
            timeout=timeout,
            max_retries=max_retries,
        )

    def _create(self, arguments: dict[str, Any]) -> Any:
        return self._client.chat.completions.create(**arguments)

    def _create_stream(self, arguments: dict[str, Any]) -> AbstractContextManager[Any]:
        # Fireworks reports usage in the last chunk without being asked.
        return self._client.chat.completions.create(**arguments, stream=True)


def _sdk_base_url(base_url: str | None) -> str | None:
    """The SDK appends `/v1/chat/completions` to a custom base URL, so the OpenAI-style address
    Fireworks documents (`https://api.fireworks.ai/inference/v1`) must lose its `/v1`."""
    if base_url is None:
        return None
    return base_url.rstrip("/").removesuffix("/v1")


@register("fireworks")
def _from_settings(settings: Settings, count_tokens: TokenCounter) -> FireworksProvider:
    if not settings.fireworks_api_key:
        raise ValueError("LLM provider 'fireworks' needs FIREWORKS_API_KEY")
    return FireworksProvider(
        api_key=settings.fireworks_api_key,
        base_url=settings.fireworks_base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
        count_tokens=count_tokens,
    )
