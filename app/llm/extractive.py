"""An answer without any language model: the retrieved sentences closest to the question, quoted
with their source.

It lets the product work with no LLM key at all, and it cannot invent anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from app.llm.base import (
    Completion,
    ContextChunk,
    LLMProvider,
    LLMRequest,
    TokenCounter,
    counted_usage,
)

NOT_FOUND = "I couldn't find this in the documents."
MAX_SENTENCES = 3
WORDS_PER_DELTA = 4

# Splitting on punctuation and words on \w keeps this free of any one language's rules.
_SENTENCE = re.compile(r"[^.!?。\n]+[.!?。]*")
_WORD = re.compile(r"\w+")
_WORD_WITH_SPACE = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class _Candidate:
    sentence: str
    label: str
    relevance: float


class ExtractiveProvider(LLMProvider):
    name = "extractive"

    def __init__(self, count_tokens: TokenCounter) -> None:
        self._count_tokens = count_tokens

    def complete(self, request: LLMRequest) -> Completion:
        text = extractive_answer(request.question, request.context)
        return Completion(
            text=text,
            usage=counted_usage(request, text, self._count_tokens),
            model=self.name,
            provider=self.name,
        )

    def stream(self, request: LLMRequest) -> Iterator[str | Completion]:
        completion = self.complete(request)
        words = _WORD_WITH_SPACE.findall(completion.text)
        for start in range(0, len(words), WORDS_PER_DELTA):
            yield "".join(words[start : start + WORDS_PER_DELTA])
        yield completion


def extractive_answer(question: str, context: list[ContextChunk]) -> str:
    candidates = _candidates(question, context)
    if not candidates:
        return NOT_FOUND
    # Retrieval already judged these chunks relevant: with no word in common, the best chunk's
    # opening sentence still serves the user better than "not found".
    relevant = [c for c in candidates if c.relevance > 0] or candidates[:1]
    best = sorted(relevant, key=lambda c: c.relevance, reverse=True)[:MAX_SENTENCES]
    return "\n".join(f'According to {c.label}: "{c.sentence}"' for c in best)


def _candidates(question: str, context: list[ContextChunk]) -> list[_Candidate]:
    """Every distinct sentence of the context, the best-scored chunk's first, with its relevance."""
    question_words = _words(question)
    seen: set[str] = set()
    candidates = []
    for chunk in sorted(context, key=lambda c: c.score, reverse=True):
        for match in _SENTENCE.finditer(chunk.text):
            sentence = " ".join(match.group().split())
            # Neighbouring chunks overlap, so the same sentence can arrive twice.
            if not _words(sentence) or sentence in seen:
                continue
            seen.add(sentence)
            overlap = len(question_words & _words(sentence))
            candidates.append(_Candidate(sentence, chunk.label, overlap * chunk.score))
    return candidates


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))
