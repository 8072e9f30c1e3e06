from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import RequestBody
from app.sources.models import WebsiteStatus

MAX_TITLE_CHARS = 255
MAX_TEXT_CHARS = 200_000
MAX_QUESTION_CHARS = 1_000
MAX_ANSWER_CHARS = 4_000


class WebsiteIn(RequestBody):
    url: str = Field(
        min_length=1,
        max_length=2048,
        description="A page of the site (its links are followed) or a sitemap (its pages are read)",
    )


class PageIssue(BaseModel):
    url: str
    reason: str
    status: int | None = Field(None, description="The HTTP status, when the site answered one")


class WebsiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    chatbot_id: uuid.UUID
    url: str
    status: WebsiteStatus
    pages_found: int = Field(description="Pages of the site the crawl means to read")
    pages_done: int = Field(description="Pages read: each is a document of the chatbot")
    pages_failed: int
    pages_skipped: int = Field(
        description="Pages left out: disallowed by robots.txt, not HTML, no text, ..."
    )
    pages_indexed: int = Field(0, description="Pages whose document is ready to be found")
    issues: list[PageIssue] = Field(description="Pages that failed or were left out, and why")
    error: str | None
    created_at: datetime
    last_crawled_at: datetime | None


class TextIn(RequestBody):
    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class QAIn(RequestBody):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)


class ContentEdit(RequestBody):
    """New content of a text (title, text) or of a Q&A pair (question, answer)."""

    title: str | None = Field(None, min_length=1, max_length=MAX_TITLE_CHARS)
    text: str | None = Field(None, min_length=1, max_length=MAX_TEXT_CHARS)
    question: str | None = Field(None, min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str | None = Field(None, min_length=1, max_length=MAX_ANSWER_CHARS)
