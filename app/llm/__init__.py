"""Language model providers behind one interface (`LLMProvider`), chosen by settings."""

from __future__ import annotations

from app.core.config import Settings
from app.llm.base import (
    Completion,
    ContextChunk,
    LLMError,
    LLMProvider,
    LLMRequest,
    LLMTimeout,
    TokenCounter,
    Usage,
)
from app.llm.extractive import ExtractiveProvider
from app.llm.fireworks import FireworksProvider
from app.llm.openai_compatible import OpenAICompatibleProvider

__all__ = [
    "Completion",
    "ContextChunk",
    "LLMError",
    "LLMProvider",
    "LLMRequest",
    "LLMTimeout",
    "TokenCounter",
    "Usage",
    "build_provider",
]


def build_provider(name: str, *, settings: Settings, count_tokens: TokenCounter) -> LLMProvider:
    """The provider called `name` (usually `settings.resolved_llm_provider`).

    Build it once and reuse it: the SDK clients keep their HTTP connections open between requests.
    """
    if name == "fireworks":
        if not settings.fireworks_api_key:
            raise ValueError("LLM provider 'fireworks' needs FIREWORKS_API_KEY")
        return FireworksProvider(
            api_key=settings.fireworks_api_key,
            base_url=settings.fireworks_base_url,
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
            count_tokens=count_tokens,
        )
    if name == "openai-compatible":
        return OpenAICompatibleProvider(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
            count_tokens=count_tokens,
        )
    if name == "extractive":
        return ExtractiveProvider(count_tokens=count_tokens)
    raise ValueError(f"Unknown LLM provider {name!r}")
