from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, Timestamps, UTCDateTime, UUIDPrimaryKey
from app.core.repository import TenantOwned

STATUSES = ("queued", "processing", "ready", "failed")
# where a document came from: an uploaded file, a page of a website source, a text snippet or a
# question/answer pair added through the API
ORIGINS = ("upload", "web", "text", "qa")


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
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
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
        return self.chunks_total if self.status == "ready" else 0
