"""Metrics around any LLM provider: `MeteredProvider(build_provider(...))` records every call's
latency, its failures by error code and its tokens (`app.core.metrics`), and otherwise behaves as
the provider it wraps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from app.core.errors import AppError
from app.core.metrics import LLM_ERRORS, LLM_LATENCY, TOKENS
from app.llm.base import Completion, LLMProvider, LLMRequest, Stop, Usage


class MeteredProvider(LLMProvider):
    def __init__(self, provider: LLMProvider) -> None:
        self.provider = provider
        self.name = provider.name
        self.billed = provider.billed

    def __getattr__(self, attribute: str) -> Any:
        # the wrapped provider's own attributes (model, settings...), as if it were unwrapped
        return getattr(self.provider, attribute)

    def complete(self, request: LLMRequest) -> Completion:
        started = time.perf_counter()
        try:
            completion = self.provider.complete(request)
        except Exception as exc:
            self._failed(exc)
            raise
        finally:
            LLM_LATENCY.labels(self.name).observe(time.perf_counter() - started)
        self._count(completion.usage)
        return completion

    def stream(self, request: LLMRequest, stop: Stop | None = None) -> Iterator[str | Completion]:
        started = time.perf_counter()
        try:
            for item in self.provider.stream(request, stop):
                if isinstance(item, Completion):
                    LLM_LATENCY.labels(self.name).observe(time.perf_counter() - started)
                    self._count(item.usage)
                yield item
        except GeneratorExit:  # the client went away: neither a failure nor a whole call
            raise
        except Exception as exc:
            LLM_LATENCY.labels(self.name).observe(time.perf_counter() - started)
            self._failed(exc)
            raise

    def _count(self, usage: Usage) -> None:
        TOKENS.labels(self.name, "input").inc(usage.input_tokens)
        TOKENS.labels(self.name, "output").inc(usage.output_tokens)

    def _failed(self, exc: Exception) -> None:
        LLM_ERRORS.labels(self.name, exc.code if isinstance(exc, AppError) else "internal").inc()
