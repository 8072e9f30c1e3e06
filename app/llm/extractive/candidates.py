"""The retrieved chunks' passages as candidates of an answer, each with where it comes from."""

from __future__ import annotations

from dataclasses import dataclass

from app.llm.base import ContextChunk
from app.llm.extractive.language import language_of
from app.llm.extractive.passages import Passage, passages
from app.llm.function_words import folded
from ingestion.sections import NAVIGATION


@dataclass(frozen=True)
class Candidate:
    passage: Passage
    source: int  # 1-based: the chunk's place in request.context, which is the sources' order
    retrieval: float  # the chunk's retrieval score over the best chunk's (1 for the best)
    position: int  # the passage's place in its chunk
    language: str
    label: str  # the source's name (file name, page title): what the whole passage is about


def candidates(context: list[ContextChunk]) -> list[Candidate]:
    """Every passage of every chunk, once (see `_deduplicated`); none of a chunk ingestion
    marked as navigation (an index, a table of contents, a list of links), which answers
    nothing."""
    found = []
    best = max((chunk.score for chunk in context), default=0.0)
    for number, chunk in enumerate(context, 1):
        if chunk.structure.kind == NAVIGATION:
            continue
        retrieval = max(chunk.score, 0.0) / best if best > 0 else 1.0
        language = language_of(chunk.text)
        for position, passage in enumerate(passages(chunk.text, language, chunk.structure)):
            own = language_of(passage.shown, default=language)
            found.append(Candidate(passage, number, retrieval, position, own, chunk.label))
    return _deduplicated(found)


def _deduplicated(candidates: list[Candidate]) -> list[Candidate]:
    """One of each passage that overlapping chunks repeat: the whole one where a chunk's edge cut
    the other, else the better-ranked chunk's."""
    kept: list[tuple[str, Candidate]] = []
    for candidate in candidates:
        key = " ".join(folded(candidate.passage.shown).split())
        for i, (seen, _) in enumerate(kept):
            if key == seen or _within(key, seen):
                break
            if _within(seen, key):
                kept[i] = (key, candidate)
                break
        else:
            kept.append((key, candidate))
    return [candidate for _, candidate in kept]


def _within(short: str, long: str) -> bool:
    return len(short.split()) >= 5 and short in long
