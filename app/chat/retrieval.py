"""Hybrid retrieval: the vector and the lexical ranking fused, and the decision to refuse.

Vector search (multilingual-e5 in Chroma) finds paraphrases and other languages; the lexical
index (FTS5 bm25 / PostgreSQL ts_rank, `ChunkRepository.search`) finds exact terms such as
`--list` or "Focal Fossa" that embeddings blur. Each returns its best POOL chunks; reciprocal rank
fusion (Cormack et al., 2009) adds 1 / (RRF_K + rank) over the rankings a chunk appears in, so
neither engine's scores, on scales of their own, need to be compared.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.documents.repository import LexicalHit
from ingestion import Hit

RRF_K = 60
POOL = 20  # chunks asked of each engine
BEST_FUSED = 2 / (RRF_K + 1)  # first in both rankings


@dataclass
class Candidate:
    document_id: str
    chunk_index: int
    text: str
    metadata: dict[str, Any]
    vector_score: float | None = None  # cosine similarity
    vector_rank: int | None = None
    lexical_score: float | None = None  # the engine's own relevance
    lexical_rank: int | None = None
    matched: int = 0  # question words the chunk holds
    fused: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def relevance(self) -> float:
        """The fused score on 0..1: 1 is first in both rankings."""
        return self.fused / BEST_FUSED


def fuse(vector: Sequence[Hit], lexical: Sequence[LexicalHit]) -> list[Candidate]:
    """Every chunk either engine found, best fused score first."""
    found: dict[tuple[str, int], Candidate] = {}
    for rank, hit in enumerate(vector, 1):
        index = int(hit.metadata.get("chunk_index", 0))
        key = (str(hit.metadata.get("document_id", "")), index)
        candidate = found.setdefault(key, Candidate(key[0], index, hit.text, hit.metadata))
        candidate.vector_score, candidate.vector_rank = hit.score, rank
        candidate.fused += 1 / (RRF_K + rank)
    for rank, lexical_hit in enumerate(lexical, 1):
        key = (_id(lexical_hit.document_id), lexical_hit.chunk_index)
        candidate = found.setdefault(
            key, Candidate(key[0], key[1], lexical_hit.text, lexical_hit.meta)
        )
        candidate.lexical_score, candidate.lexical_rank = lexical_hit.score, rank
        candidate.matched = lexical_hit.matched
        candidate.fused += 1 / (RRF_K + rank)
    return sorted(found.values(), key=lambda c: c.fused, reverse=True)


def _id(value: uuid.UUID | str) -> str:
    return str(value)


def decide(
    candidates: Sequence[Candidate],
    vector: Sequence[Hit],
    lexical: Sequence[LexicalHit],
    threshold: float,
) -> str | None:
    """Why the question is refused, or None to answer it."""
    if not candidates:
        return "the chatbot has no indexed chunk"
    best = max((hit.score for hit in vector), default=0.0)
    if best < threshold:
        return f"no chunk is similar enough (best {best:.3f} < {threshold:.2f})"
    return None
