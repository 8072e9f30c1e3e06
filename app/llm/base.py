"""The interface every LLM provider implements, and the errors it may raise.

The RAG service builds an `LLMRequest` and codes against `LLMProvider` only; which provider
answers is a setting (see `build_provider`).
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields

from app.core.errors import BadGateway, GatewayTimeout

TokenCounter = Callable[[str], int]

log = logging.getLogger(__name__)


class LLMError(BadGateway):
    """The provider failed (after retries); the message is safe to show to the client."""


class LLMTimeout(GatewayTimeout):
    """The provider did not answer in time (after retries)."""


@dataclass(frozen=True)
class Structure:
    """What ingestion knew of a chunk, from its stored metadata (ingestion/sections.py); empty
    for chunks stored before it recorded this."""

    kind: str = ""  # "prose", "option", "row", "faq", "code" or "navigation" (never quoted)
    heading_path: str = ""  # the headings above the chunk, joined by " > "
    option: str = ""  # for an option: its flags as written ("-l, --list")
    question: str = ""  # for a question with its answer: the question

    @classmethod
    def of(cls, metadata: Mapping[str, object]) -> Structure:
        return cls(**{field.name: str(metadata.get(field.name) or "") for field in fields(cls)})


@dataclass(frozen=True)
class ContextChunk:
    text: str
    label: str
    score: float
    tokens: int | None = None  # its token count, when ingestion recorded it
    structure: Structure = Structure()


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
    # stopped midway (`Stop`): the text and usage are what was produced until then
    interrupted: bool = False


class Stop:
    """A request, from any thread, that a streamed answer stop where it is.

    The provider sees it between two deltas, and registers `on_request` hooks for what it
    blocks on in between (a read from the provider's socket): a hook runs at the request, or at
    once if the request came first, and never after its `with` block has ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requested = False
        self._hooks: list[Callable[[], None]] = []

    @property
    def requested(self) -> bool:
        return self._requested

    def request(self) -> None:
        with self._lock:  # a hook never runs while its `with` block is being left
            if self._requested:
                return
            self._requested = True
            for hook in self._hooks:
                _run_hook(hook)

    @contextmanager
    def on_request(self, hook: Callable[[], None]) -> Iterator[None]:
        with self._lock:
            if self._requested:
                _run_hook(hook)
            self._hooks.append(hook)
        try:
            yield
        finally:
            with self._lock:
                self._hooks.remove(hook)


def _run_hook(hook: Callable[[], None]) -> None:
    try:
        hook()
    except Exception:  # a hook only hurries the stop along: the stop happens anyway
        log.exception("a stop hook failed")


class LLMProvider(ABC):
    name: str
    # whether its tokens are billed (and reserved against the allowance before each call)
    billed: bool = True

    @abstractmethod
    def complete(self, request: LLMRequest) -> Completion: ...

    @abstractmethod
    def stream(self, request: LLMRequest, stop: Stop | None = None) -> Iterator[str | Completion]:
        """Yields text deltas as they arrive, then exactly one final Completion (full text and
        usage). Once `stop` is requested no delta follows: the Completion comes at once, marked
        `interrupted`, with the text produced so far and its tokens counted."""


def counted_usage(request: LLMRequest, answer: str, count_tokens: TokenCounter) -> Usage:
    """Our own count, for when the provider reports none: every message in, the answer out."""
    return Usage(
        input_tokens=sum(count_tokens(message["content"]) for message in request.messages),
        output_tokens=count_tokens(answer),
    )
