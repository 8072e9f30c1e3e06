"""Hybrid retrieval: the vector and the lexical ranking fused, and the decision to refuse.

Vector search (multilingual-e5 in Chroma) finds paraphrases and other languages; the lexical
index (FTS5 bm25 / PostgreSQL ts_rank, `ChunkRepository.search`) finds exact terms such as
`--list` or "Focal Fossa" that embeddings blur. Each returns its best POOL chunks; weighted
reciprocal rank fusion (Cormack et al., 2009) adds weight / (RRF_K + rank) over the rankings a
chunk appears in, so neither engine's scores, on scales of their own, need to be compared.

The weights are measured (scripts/eval_retrieval.py, docs/BENCHMARKS.md). The question's
function words are not searched (`search_terms`). A chunk holding every remaining word of the
question (a part number, an option name) counts half a vector match; one holding some of them
a quarter, times the share it holds of what the best lexical match holds: a question in one
language over documents in another matches chunks by a stray shared word, and those matches
must not push the vector search's right answer out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.documents.repository import LexicalHit, search_terms
from ingestion import Hit, document_title

RRF_K = 10
# the vector ranking's weight is 1
LEXICAL_WEIGHT_COMPLETE = 0.5  # a chunk holding every word searched
LEXICAL_WEIGHT = 0.25  # one holding some, times its share of the best match's words
POOL = 20  # chunks asked of each engine
BEST_FUSED = (1 + LEXICAL_WEIGHT_COMPLETE) / (RRF_K + 1)  # first in both rankings


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
    most = max((hit.matched for hit in lexical), default=1) or 1
    for rank, lexical_hit in enumerate(lexical, 1):
        key = (str(lexical_hit.document_id), lexical_hit.chunk_index)
        candidate = found.setdefault(
            key, Candidate(key[0], key[1], lexical_hit.text, lexical_hit.meta)
        )
        candidate.lexical_score, candidate.lexical_rank = lexical_hit.score, rank
        candidate.matched = lexical_hit.matched
        if lexical_hit.complete:
            weight = LEXICAL_WEIGHT_COMPLETE
        else:
            weight = LEXICAL_WEIGHT * lexical_hit.matched / most
        candidate.fused += weight / (RRF_K + rank)
    return sorted(found.values(), key=lambda c: c.fused, reverse=True)


@dataclass(frozen=True)
class Calibration:
    """Where a model's similarities say "this is about the documents".

    `threshold`: the best chunk's cosine similarity at which a question is answered on vector
    evidence alone. `margin`: how far below it the question is still answered when the lexical
    index agrees, that is when at least `agreement` of the chunks kept were found by both
    searches, or both put the same chunk first. `named`: how far below it a question that names
    a document the full-text search found ("… mit xz", "under the LGPL") is answered. Measured
    with scripts/eval_retrieval.py (docs/BENCHMARKS.md); each model has a scale of its own.
    """

    threshold: float
    margin: float
    agreement: float
    named: float


# by a substring of the model's name, first match wins. e5 compresses similarities into
# 0.75-0.95; all-MiniLM spreads English over 0.15-0.8, but scores every non-English text
# 0.4-0.5 whatever it says (it is an English model), so it leans on the lexical evidence more.
CALIBRATIONS: tuple[tuple[str, Calibration], ...] = (
    ("minilm", Calibration(threshold=0.495, margin=0.135, agreement=0.2, named=0.195)),
    ("e5", Calibration(threshold=0.85, margin=0.015, agreement=0.8, named=0.03)),
)
DEFAULT_CALIBRATION = CALIBRATIONS[-1][1]


def calibration_for(model: str, threshold: float | None) -> Calibration:
    """The model's calibration; a chatbot's or the server's `score_threshold` replaces its
    threshold (the margin stays the model's)."""
    name = model.lower()
    found = next((c for key, c in CALIBRATIONS if key in name), DEFAULT_CALIBRATION)
    if threshold is None:
        return found
    return Calibration(threshold, found.margin, found.agreement, found.named)


def names_a_document(question: str, lexical: Sequence[LexicalHit]) -> bool:
    """Whether the question holds a word of the title (a web page's) or file name of a document
    the full-text search found: "Wie teste ich mit xz …" and xz.1.fr.txt. Numbers and function
    words do not count, nor a file name's extension."""
    asked = {word for word in search_terms(question) if not word.isdigit()}
    if not asked:
        return False
    return any(asked.intersection(search_terms(document_title(hit.meta))) for hit in lexical)


def decide(
    candidates: Sequence[Candidate],
    vector: Sequence[Hit],
    calibration: Calibration,
    named: bool = False,
) -> str | None:
    """Why the question is refused, or None to answer it. Decided before any LLM call, so a
    refused question costs no tokens. `named`: the question names a document the full-text
    search found (`names_a_document`), evidence that it is about the documents which a
    question in another language than theirs often has when its similarities are low."""
    if not candidates:
        return "the chatbot has no indexed chunk yet"
    best = max((hit.score for hit in vector), default=0.0)
    if best >= calibration.threshold:
        return None
    if named and best >= calibration.threshold - calibration.named:
        return None
    floor = calibration.threshold - calibration.margin
    both = sum(c.vector_rank is not None and c.lexical_rank is not None for c in candidates)
    # Both searches putting the same chunk first is agreement too: in a small collection most
    # kept chunks are there only because there is nothing else to keep.
    top = candidates[0]
    agreed = both >= calibration.agreement * len(candidates) or (
        top.vector_rank == 1 and top.lexical_rank == 1
    )
    if best >= floor and agreed:
        return None
    if best >= floor:
        return (
            f"the best chunk's similarity {best:.3f} is below {calibration.threshold:.3f} and "
            f"the full-text index found only {both} of the {len(candidates)} chunks"
        )
    return f"no chunk is similar enough: the best similarity {best:.3f} is below {floor:.3f}"
