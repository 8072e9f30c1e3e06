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

# pages left out or failed that a source reports, with their reasons
MAX_ISSUES = 100


class WebsiteStatus(StrEnum):
    """Where a website source is in its crawl: waiting, being crawled, crawled (its pages are
    documents), or given up on (its `error` says why)."""

    QUEUED = "queued"
    CRAWLING = "crawling"
    READY = "ready"
    FAILED = "failed"


class WebsiteSource(UUIDPrimaryKey, TenantOwned, Timestamps, Base):
    """A website a chatbot reads: each page it crawled is a document (`Document.website_id`)."""

    __tablename__ = "website_sources"
    __table_args__ = (UniqueConstraint("chatbot_id", "url"),)

    chatbot_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("chatbots.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    status: Mapped[WebsiteStatus] = mapped_column(
        StoredEnum(WebsiteStatus, 16), default=WebsiteStatus.QUEUED, index=True
    )
    pages_found: Mapped[int] = mapped_column(Integer, default=0)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    pages_failed: Mapped[int] = mapped_column(Integer, default=0)
    pages_skipped: Mapped[int] = mapped_column(Integer, default=0)
    # [{"url", "reason", "status"}] of pages that failed or were left out, the first MAX_ISSUES
    issues: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_crawled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
