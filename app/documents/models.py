from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, Timestamps, UTCDateTime, UUIDPrimaryKey
from app.core.enums import StoredEnum
from app.core.repository import TenantOwned

# where a document came from: an uploaded file, a page of a website source, a text snippet or a
# question/answer pair added through the API
ORIGINS = ("upload", "web", "text", "qa")


class DocumentStatus(StrEnum):
    """Where a document is in its ingestion: waiting for a worker, being read and embedded,
    searchable, or given up on (its `error` says why)."""

    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Document(UUIDPrimaryKey, TenantOwned, Timestamps, Base):
    __tablename__ = "documents"
    # the same bytes uploaded twice to one chatbot are one document, so never duplicate vectors
    __table_args__ = (UniqueConstraint("chatbot_id", "sha256"),)

    chatbot_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("chatbots.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[DocumentStatus] = mapped_column(
        StoredEnum(DocumentStatus, 16), default=DocumentStatus.QUEUED, index=True
    )
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    origin: Mapped[str] = mapped_column(String(16), default="upload", server_default="upload")
    # a web page's address, its citation; its website source, whose deletion takes the page along
    url: Mapped[str | None] = mapped_column(String(2048))
    website_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("website_sources.id", ondelete="CASCADE"), index=True
    )

    @property
    def chunk_count(self) -> int:
        return self.chunks_total if self.status == DocumentStatus.READY else 0


class DocumentChunk(TenantOwned, Base):
    """A document's chunk as retrieval quotes it, and the row the lexical index reads.

    Written by the ingestion job in the transaction that marks the document ready, so the lexical
    index and the vectors in Chroma hold the same chunks; rows go with their document or chatbot
    (foreign-key cascade). The full-text index itself is engine-specific and built by migration
    0008: an FTS5 table kept by triggers on SQLite, a generated `tsvector` column with a GIN index
    on PostgreSQL (`is_lexical_index_object`: unknown to the models).
    """

    __tablename__ = "document_chunks"
    __table_args__ = (UniqueConstraint("document_id", "chunk_index"),)

    # an integer key: SQLite's FTS5 table refers to rows by their rowid
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chatbot_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("chatbots.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("documents.id", ondelete="CASCADE")
    )
    chunk_index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # title, heading and text: what the lexical index reads
    search_text: Mapped[str] = mapped_column(Text)
    # the chunk's metadata as Chroma holds it (filename, page, heading, title, url, ...)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def is_lexical_index_object(name: str | None) -> bool:
    """The full-text index's own tables (FTS5 and its shadow tables), column and index, which
    the models do not describe and autogenerate must leave alone."""
    return bool(name) and (
        str(name).startswith("document_chunks_fts")
        or name in ("search_vector", "ix_document_chunks_search_vector")
    )
