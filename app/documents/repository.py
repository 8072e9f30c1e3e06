from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    table,
    update,
)

from app.chatbots.models import Chatbot
from app.core.repository import TenantRepository, system
from app.core.subjects import AuthSubject
from app.documents.models import Document, DocumentChunk, DocumentStatus
from app.llm.function_words import is_function_word

UNFINISHED = (DocumentStatus.QUEUED, DocumentStatus.PROCESSING)


class DocumentRepository(TenantRepository[Document]):
    model = Document
    label = "Document"

    def of_chatbot(self, subject: AuthSubject, chatbot_id: uuid.UUID) -> Sequence[Document]:
        return self.list(subject, Document.chatbot_id == chatbot_id, order_by=Document.created_at)

    def with_bytes(
        self, subject: AuthSubject, chatbot_id: uuid.UUID, sha256: str
    ) -> Document | None:
        stmt = self.readable(subject).where(
            Document.chatbot_id == chatbot_id, Document.sha256 == sha256
        )
        return self.db.scalars(stmt).one_or_none()

    # The ingestion worker acts on document ids from its queue, for whichever customer.

    @system("an ingestion job has only the document's id")
    def for_job(self, document_id: uuid.UUID) -> tuple[Document, Chatbot] | None:
        """The document and its chatbot (whose settings drive splitting), if it still exists."""
        row = self.db.execute(
            select(Document, Chatbot)
            .join(Chatbot, Chatbot.id == Document.chatbot_id)
            .where(Document.id == document_id)
        ).one_or_none()
        return (row[0], row[1]) if row is not None else None

    @system("an ingestion job has only the document's id")
    def set_for_job(self, document_id: uuid.UUID, **values: object) -> int:
        """Sets the document's fields; how many rows changed (0: deleted meanwhile)."""
        result = self.db.execute(
            update(Document).where(Document.id == document_id).values(**values)
        )
        return result.rowcount  # type: ignore[attr-defined, no-any-return]

    @system("an ingestion job has only the document's id")
    def still_exists(self, document_id: uuid.UUID) -> bool:
        """Whether the document was not deleted meanwhile (asked while it is being ingested)."""
        found = self.db.execute(select(Document.id).where(Document.id == document_id)).first()
        return found is not None

    @system("start-up resumes every customer's unfinished documents")
    def unfinished(self) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(document, customer) of documents left queued or processing, oldest first (to resume
        after a restart)."""
        stmt = (
            select(Document.id, Document.customer_id)
            .where(Document.status.in_(UNFINISHED))
            .order_by(Document.created_at)
        )
        return [(document_id, customer_id) for document_id, customer_id in self.db.execute(stmt)]

    @system("start-up backfills every customer's lexical index")
    def without_lexical_index(self) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, int]]:
        """(document, chatbot, customer, chunks) of ready documents with chunks but no row in the
        lexical index: indexed before it existed (migration 0008), for every customer."""
        has_rows = exists().where(DocumentChunk.document_id == Document.id)
        stmt = (
            select(Document.id, Document.chatbot_id, Document.customer_id, Document.chunks_total)
            .where(Document.status == DocumentStatus.READY, Document.chunks_total > 0, ~has_rows)
            .order_by(Document.created_at)
        )
        return [(d, b, c, int(n)) for d, b, c, n in self.db.execute(stmt)]

    def stored(self, subject: AuthSubject) -> int:
        """Documents the subject's customer stores, over all its chatbots (the plan's cap)."""
        stmt = select(func.count()).select_from(Document).where(*self.scope(subject))
        return int(self.db.scalar(stmt) or 0)

    def stored_chunks(self, subject: AuthSubject, besides: uuid.UUID) -> int:
        """Chunks of the customer's documents other than `besides` (the plan's cap)."""
        stmt = select(func.coalesce(func.sum(Document.chunks_total), 0)).where(
            *self.scope(subject), Document.id != besides, Document.status == DocumentStatus.READY
        )
        return int(self.db.scalar(stmt) or 0)

    @system("the Celery dispatcher weighs a customer's queue by its id")
    def queued_of_customer(self, customer_id: uuid.UUID) -> int:
        """Documents of one customer waiting for ingestion (its place in the fair order)."""
        stmt = select(func.count()).where(
            Document.customer_id == customer_id, Document.status == DocumentStatus.QUEUED
        )
        return int(self.db.scalar(stmt) or 0)

    @system("the metrics endpoint counts the whole queue")
    def count_unfinished(self) -> dict[DocumentStatus, int]:
        """How many documents are queued and how many processing, across customers (metrics)."""
        stmt = (
            select(Document.status, func.count())
            .where(Document.status.in_(UNFINISHED))
            .group_by(Document.status)
        )
        counts = {status: 0 for status in UNFINISHED}
        counts.update({status: count for status, count in self.db.execute(stmt)})
        return counts


# Words as both full-text engines split them (letters and digits; "--list" is "list"), lower case.
_WORD = re.compile(r"[^\W_]+")
MAX_QUERY_TERMS = 32


def search_terms(text: str) -> list[str]:
    """The distinct words of a question that say what it is about, in order, at most
    MAX_QUERY_TERMS. Function words ("how", "le", "mit": `app.llm.function_words`) are left
    out: PostgreSQL's ts_rank has no inverse document frequency, so they outranked the words
    that matter, and on either engine they matched chunks of the question's language whatever
    those were about."""
    words = dict.fromkeys(_WORD.findall(text.casefold()))
    return [word for word in words if not is_function_word(word)][:MAX_QUERY_TERMS]


def _prefix(word: str) -> str:
    return word if len(word) <= 5 else word[: max(5, math.ceil(0.75 * len(word)))]


@dataclass(frozen=True)
class LexicalHit:
    document_id: uuid.UUID
    chunk_index: int
    text: str
    meta: dict[str, Any]
    # the engine's relevance, higher is better: -bm25() on SQLite, ts_rank() on PostgreSQL
    score: float
    # how many of the question's words the chunk holds, and whether that is all of them
    matched: int
    complete: bool = False


class ChunkRepository(TenantRepository[DocumentChunk]):
    """The chunks of documents and the lexical half of retrieval (migration 0008's index)."""

    model = DocumentChunk
    label = "Chunk"

    @system("an ingestion job writes the chunks of the document it has")
    def replace(self, document_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
        """Make these rows the document's only chunks (the ingestion job, for any customer)."""
        self.db.execute(delete(DocumentChunk).where(DocumentChunk.document_id == document_id))
        if rows:
            self.db.execute(insert(DocumentChunk), rows)

    @system("the backfill writes the chunks of the document it has")
    def add_if_none(self, document_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
        """Add the document's rows unless it has some already (the backfill of older ones)."""
        has_rows = exists().where(DocumentChunk.document_id == document_id)
        if rows and not self.db.scalar(select(has_rows)):
            self.db.execute(insert(DocumentChunk), rows)

    def count(self, subject: AuthSubject, chatbot_id: uuid.UUID) -> int:
        stmt = select(func.count()).where(
            *self.scope(subject), DocumentChunk.chatbot_id == chatbot_id
        )
        return int(self.db.scalar(stmt) or 0)

    def lacking(
        self, subject: AuthSubject, chatbot_id: uuid.UUID, terms: Sequence[str]
    ) -> list[int]:
        """Which of the terms no chunk of the chatbot has, by their place in `terms`: one
        indexed lookup each. A word counts when a chunk has a word that starts with its first
        three quarters (at least five letters: "configure" and "configuration"); a term of
        several words ("UNIX-LISTEN", "ASN.1") counts as the phrase the engine's own parser
        makes of it."""
        sqlite = self.db.get_bind().dialect.name == "sqlite"
        lacking = []
        for place, term in enumerate(terms):
            words = _WORD.findall(term.casefold())
            if not words:
                continue
            stmt = select(DocumentChunk.id)
            if sqlite:
                fts = table("document_chunks_fts", literal_column("rowid"))
                index: ColumnElement[Any] = literal_column("document_chunks_fts")
                found = f'"{_prefix(words[0])}"*' if len(words) == 1 else f'"{" ".join(words)}"'
                stmt = stmt.join(
                    fts, literal_column("document_chunks_fts.rowid") == DocumentChunk.id
                ).where(index.op("MATCH")(f'chatbot_id : "{chatbot_id.hex}" AND {found}'))
            else:
                vector: ColumnElement[Any] = literal_column("document_chunks.search_vector")
                simple: ColumnElement[Any] = literal_column("'simple'::regconfig")
                query = (
                    func.to_tsquery(simple, f"{_prefix(words[0])}:*")
                    if len(words) == 1
                    else func.phraseto_tsquery(simple, term)
                )
                stmt = stmt.where(vector.op("@@")(query))
            stmt = stmt.where(*self.scope(subject), DocumentChunk.chatbot_id == chatbot_id)
            if self.db.execute(stmt.limit(1)).first() is None:
                lacking.append(place)
        return lacking

    def search(
        self, subject: AuthSubject, chatbot_id: uuid.UUID, question: str, limit: int
    ) -> list[LexicalHit]:
        """The chatbot's chunks holding any word of the question, best first (one query; the
        engine's relevance is computed once per matching chunk, as the sort key)."""
        terms = search_terms(question)
        if not terms:
            return []
        relevance: ColumnElement[Any]
        if self.db.get_bind().dialect.name == "sqlite":
            fts = table("document_chunks_fts", literal_column("rowid"))
            index: ColumnElement[Any] = literal_column("document_chunks_fts")
            # the chatbot_id column (weight 0) narrows the search to the chatbot inside FTS5, so
            # it does not grow with every tenant's chunks (migration 0010)
            relevance = (-func.bm25(index, literal_column("0.0"), literal_column("1.0"))).label(
                "relevance"
            )
            # each term quoted: FTS5 query syntax (AND, NEAR, *, ...) in a question means nothing
            any_word = " OR ".join(f'"{term}"' for term in terms)
            matches = index.op("MATCH")(f'chatbot_id : "{chatbot_id.hex}" AND ({any_word})')
            source = (
                select(DocumentChunk.id)
                .join(fts, literal_column("document_chunks_fts.rowid") == DocumentChunk.id)
                .where(matches)
            )
        else:
            vector: ColumnElement[Any] = literal_column("document_chunks.search_vector")
            query = func.to_tsquery(literal_column("'simple'::regconfig"), " | ".join(terms))
            relevance = func.ts_rank(vector, query).label("relevance")
            source = select(DocumentChunk.id).where(vector.op("@@")(query))
        stmt = (
            source.with_only_columns(
                DocumentChunk.document_id,
                DocumentChunk.chunk_index,
                DocumentChunk.text,
                DocumentChunk.search_text,
                DocumentChunk.meta,
                relevance,
            )
            .where(*self.scope(subject), DocumentChunk.chatbot_id == chatbot_id)
            .order_by(relevance.desc())
            .limit(limit)
        )
        hits = []
        for document_id, chunk_index, text, search_text, meta, score in self.db.execute(stmt):
            words = set(_WORD.findall(search_text.casefold()))
            hits.append(
                LexicalHit(
                    document_id=document_id,
                    chunk_index=chunk_index,
                    text=text,
                    meta=dict(meta or {}),
                    score=float(score),
                    matched=(matched := sum(term in words for term in terms)),
                    complete=matched == len(terms),
                )
            )
        return hits
