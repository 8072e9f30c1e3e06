"""Language model providers behind one interface (`LLMProvider`), chosen by settings.

Each provider module registers a factory under its name (`@register("fireworks")`);
`build_provider` looks the name up. A new provider is a module with one registered factory.
"""

from __future__ import annotations

# importing the provider modules registers them
from app.llm import extractive, fireworks, openai_compatible  # noqa: E402, F401, I001
from app.llm.base import (
    Completion,
    ContextChunk,
    LLMError,
    LLMProvider,
    LLMRequest,
    LLMTimeout,
    Stop,
    Structure,
    TokenCounter,
    Usage,
)
from app.llm.registry import build_provider, provider_names, register

__all__ = [
    "Completion",
    "ContextChunk",
    "LLMError",
    "LLMProvider",
    "LLMRequest",
    "LLMTimeout",
    "Stop",
    "Structure",
    "TokenCounter",
    "Usage",
    "build_provider",
    "provider_names",
    "register",
]
