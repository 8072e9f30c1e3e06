"""The interface every LLM provider implements, and the errors it may raise.

The RAG service builds an `LLMRequest` and codes against `LLMProvider` only; which provider
answers is a setting (see `build_provider`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.core.errors import BadGateway, GatewayTimeout

TokenCounter = Callable[[str], int]


class LLMError(BadGateway):
    """The provider failed (after retries); the message is safe to show to the client."""


class LLMTimeout(GatewayTimeout):
    """The provider did not answer in time (after retries)."""


@dataclass(frozen=True)
class ContextChunk:
    text: str
    label: str
    score: float
    tokens: int | None = None  # its token count, when ingestion recorded it


@dataclass
class LLMRequest:
    messages: list[dict[str, str]]
    model: str
    temperature: float
    max_tokens: int
    question: str
    context: list[ContextChunk]


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    model: str
    provider: str


class LLMProvider(ABC):
    name: str
    # whether its tokens are billed (and reserved against the allowance before each call)
    billed: bool = True

    @abstractmethod
    def complete(self, request: LLMRequest) -> Completion: ...

    @abstractmethod
    def stream(self, request: LLMRequest) -> Iterator[str | Completion]:
        """Yields text deltas as they arrive, then exactly one final Completion (full text and
        usage)."""


def counted_usage(request: LLMRequest, answer: str, count_tokens: TokenCounter) -> Usage:
    """Our own count, for when the provider reports none: every message in, the answer out."""
    return Usage(
        input_tokens=sum(count_tokens(message["content"]) for message in request.messages),
        output_tokens=count_tokens(answer),
    )
