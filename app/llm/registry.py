"""Providers by name: each provider module registers a factory from settings."""

from __future__ import annotations

from collections.abc import Callable

from app.core.config import Settings
from app.llm.base import LLMProvider, TokenCounter

ProviderFactory = Callable[[Settings, TokenCounter], LLMProvider]
_factories: dict[str, ProviderFactory] = {}


def register(name: str) -> Callable[[ProviderFactory], ProviderFactory]:
    def add(factory: ProviderFactory) -> ProviderFactory:
        _factories[name] = factory
        return factory

    return add


def provider_names() -> list[str]:
    return sorted(_factories)


def build_provider(name: str, *, settings: Settings, count_tokens: TokenCounter) -> LLMProvider:
    """The provider called `name` (usually `settings.resolved_llm_provider`).

    Build it once and reuse it: the SDK clients keep their HTTP connections open between requests.
    """
    factory = _factories.get(name)
    if factory is None:
        raise ValueError(f"Unknown LLM provider {name!r}; expected one of {provider_names()}")
    return factory(settings, count_tokens)
