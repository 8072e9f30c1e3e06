"""An answer without any language model: the retrieved sentences closest to the question, quoted
with their source.

It lets the product work with no LLM key at all, and it cannot invent anything.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from app.core.config import Settings
from app.llm.base import (
    Completion,
    ContextChunk,
    LLMProvider,
    LLMRequest,
    TokenCounter,
    Usage,
)
from app.llm.registry import register

NOT_FOUND = "I couldn't find this in the documents."
MAX_SENTENCES = 3
WORDS_PER_DELTA = 4

# Splitting on punctuation and words on \w keeps this free of any one language's rules.
# Single line breaks are wrapping inside a sentence; blank lines and headings end one.
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*#)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*")
_WORD = re.compile(r"\w+")
# A crude, language-neutral stem: "returns" and "return" share their first five letters.
STEM = 5
_WORD_WITH_SPACE = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class _Candidate:
    sentence: str
    label: str
    relevance: float


class ExtractiveProvider(LLMProvider):
    """No language model runs, so nothing is billed: its usage records carry zero tokens (and
    `provider = "extractive"`), count as questions in the reports, and take nothing from the
    monthly allowance."""

    name = "extractive"
    billed = False

    def __init__(self, count_tokens: TokenCounter) -> None:
        self._count_tokens = count_tokens

    def complete(self, request: LLMRequest) -> Completion:
        text = extractive_answer(request.question, request.context)
        return Completion(
            text=text,
            usage=Usage(0, 0),
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


def _sentences(text: str) -> Iterator[str]:
    for paragraph in _PARAGRAPH.split(text):
        joined = " ".join(paragraph.split()).lstrip("#").strip()
        yield from (s for s in _SENTENCE_END.split(joined) if s)


def _candidates(question: str, context: list[ContextChunk]) -> list[_Candidate]:
    """Every distinct sentence of the context, the best-scored chunk's first, with its relevance.

    Relevance weighs each question word shared with the sentence by how rare it is among the
    candidates, so "the" and "to" count for little and "returns" for much.
    """
    seen: set[str] = set()
    found: list[tuple[str, str, float, set[str]]] = []
    for chunk in sorted(context, key=lambda c: c.score, reverse=True):
        for sentence in _sentences(chunk.text):
            words = _words(sentence)
            # Neighbouring chunks overlap, so the same sentence can arrive twice.
            if not words or sentence in seen:
                continue
            seen.add(sentence)
            found.append((sentence, chunk.label, chunk.score, words))
    document_frequency = Counter(w for *_, words in found for w in words)
    question_words = _words(question)

    def weight(word: str) -> float:
        return math.log(1 + len(found) / document_frequency[word])

    return [
        _Candidate(sentence, label, score * sum(weight(w) for w in question_words & words))
        for sentence, label, score, words in found
    ]


def _words(text: str) -> set[str]:
    return {w[:STEM] for w in _WORD.findall(text.lower())}


@register("extractive")
def _from_settings(settings: Settings, count_tokens: TokenCounter) -> ExtractiveProvider:
    return ExtractiveProvider(count_tokens=count_tokens)
