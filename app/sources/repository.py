from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select

from app.core.repository import TenantRepository, system
from app.core.subjects import AuthSubject
from app.documents.models import Document, DocumentStatus
from app.documents.repository import DocumentRepository
from app.sources.models import WebsiteSource, WebsiteStatus

UNFINISHED = (WebsiteStatus.QUEUED, WebsiteStatus.CRAWLING)


class WebsiteSourceRepository(TenantRepository[WebsiteSource]):
    model = WebsiteSource
    label = "Website source"

    def of_chatbot(self, subject: AuthSubject, chatbot_id: uuid.UUID) -> Sequence[WebsiteSource]:
        return self.list(
            subject, WebsiteSource.chatbot_id == chatbot_id, order_by=WebsiteSource.created_at
        )

    def with_url(
        self, subject: AuthSubject, chatbot_id: uuid.UUID, url: str
    ) -> WebsiteSource | None:
        stmt = self.readable(subject).where(
            WebsiteSource.chatbot_id == chatbot_id, WebsiteSource.url == url
        )
        return self.db.scalars(stmt).one_or_none()

    def pages(self, subject: AuthSubject, source_id: uuid.UUID) -> Sequence[Document]:
        """The documents made from the source's pages."""
        stmt = (
            select(Document)
            .where(*DocumentRepository(self.db).scope(subject), Document.website_id == source_id)
            .order_by(Document.created_at)
        )
        return self.db.scalars(stmt).all()

    def page(self, subject: AuthSubject, source_id: uuid.UUID, url: str) -> Document | None:
        stmt = select(Document).where(
            *DocumentRepository(self.db).scope(subject),
            Document.website_id == source_id,
            Document.url == url,
        )
        return self.db.scalars(stmt).first()

    def indexed_pages(
        self, subject: AuthSubject, source_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """How many of each source's pages are ready to be found."""
        stmt = (
            select(Document.website_id, func.count())
            .where(
                *DocumentRepository(self.db).scope(subject),
                Document.website_id.in_(source_ids),
                Document.status == DocumentStatus.READY,
            )
            .group_by(Document.website_id)
        )
        return {source_id: count for source_id, count in self.db.execute(stmt) if source_id}

    # The crawl worker acts on source ids from its queue, for whichever customer.

    @system("a crawl job has only the source's id")
    def for_job(self, source_id: uuid.UUID) -> WebsiteSource | None:
        return self.db.get(WebsiteSource, source_id)

    @system("start-up resumes every customer's unfinished crawls")
    def unfinished(self) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(source, customer) of sources left queued or crawling, oldest first."""
        stmt = (
            select(WebsiteSource.id, WebsiteSource.customer_id)
            .where(WebsiteSource.status.in_(UNFINISHED))
            .order_by(WebsiteSource.created_at)
        )
        return [(source_id, customer_id) for source_id, customer_id in self.db.execute(stmt)]
