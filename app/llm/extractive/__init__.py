"""An answer without any language model: the one or two passages of the retrieved context that
answer the question, each followed by the number of its source.

It lets the product work with no LLM key at all, and it cannot invent anything: the answer is
the documents' own words (a table row shows only the fields the question asks for), plus the
citation markers.

The steps, a module each: `passages` cuts each retrieved chunk into what can be quoted (a
sentence, an option line with its description, a table row, an FAQ's answer), `candidates`
keeps each once with where it comes from, `features` reads the question against every one of
them into a feature record (`Features`), `scoring` scores a record, and `compose` quotes the best
and cites it.

How a passage is chosen: every question term it shares counts by how rare the term is across the
context's passages (IDF), so "the" counts for little and "--list" for much; numbers, options and
codes such as "20.04" count only when they are exactly there, and three times over; words match
across inflections and close languages by a shared stem ("lists" and "liste", "archive" and
"Archivs"). Retrieval's order adds a little, to break near-ties. When the documents have the
question's language, passages in other languages count less.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from app.core.config import Settings
from app.llm.base import Completion, LLMProvider, LLMRequest, Stop, TokenCounter, Usage
from app.llm.extractive.compose import NOT_FOUND, extractive_answer
from app.llm.extractive.language import warm_up
from app.llm.registry import register

__all__ = ["NOT_FOUND", "ExtractiveProvider", "extractive_answer"]

WORDS_PER_DELTA = 4
_WORD_WITH_SPACE = re.compile(r"\S+\s*")


class ExtractiveProvider(LLMProvider):
    """No language model runs, so nothing is billed: its usage records carry zero tokens (and
    `provider = "extractive"`), count as questions in the reports, and take nothing from the
    monthly allowance."""

    name = "extractive"
    billed = False

    def __init__(self, count_tokens: TokenCounter) -> None:
        self._count_tokens = count_tokens
        warm_up()  # the language model loads in about a second: at start-up, not in an answer

    def complete(self, request: LLMRequest) -> Completion:
        text = extractive_answer(request.question, request.context)
        return Completion(
            text=text,
            usage=Usage(0, 0),
            model=self.name,
            provider=self.name,
        )

    def stream(self, request: LLMRequest, stop: Stop | None = None) -> Iterator[str | Completion]:
        completion = self.complete(request)
        words = _WORD_WITH_SPACE.findall(completion.text)
        for start in range(0, len(words), WORDS_PER_DELTA):
            if stop is not None and stop.requested:
                text = "".join(words[:start])
                yield replace(completion, text=text, interrupted=True)
                return
            yield "".join(words[start : start + WORDS_PER_DELTA])
        yield completion


@register("extractive")
def _from_settings(settings: Settings, count_tokens: TokenCounter) -> ExtractiveProvider:
    return ExtractiveProvider(count_tokens=count_tokens)
