from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select

from app.chatbots.models import Chatbot
from app.core.repository import TenantRepository
from app.core.subjects import AuthSubject
from app.documents.models import Document

UNFINISHED = ("queued", "processing")


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

    def for_job(self, document_id: uuid.UUID) -> tuple[Document, Chatbot] | None:
        """The document and its chatbot (whose settings drive splitting), if it still exists."""
        row = self.db.execute(
            select(Document, Chatbot)
            .join(Chatbot, Chatbot.id == Document.chatbot_id)
            .where(Document.id == document_id)
        ).one_or_none()
        return (row[0], row[1]) if row is not None else None

    def unfinished(self) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(document, customer) of documents left queued or processing, oldest first (to resume
        after a restart)."""
        stmt = (
            select(Document.id, Document.customer_id)
            .where(Document.status.in_(UNFINISHED))
            .order_by(Document.created_at)
        )
        return [(document_id, customer_id) for document_id, customer_id in self.db.execute(stmt)]

    def stored(self, subject: AuthSubject) -> int:
        """Documents the subject's customer stores, over all its chatbots (the plan's cap)."""
        stmt = select(func.count()).select_from(Document).where(*self.scope(subject))
        return int(self.db.scalar(stmt) or 0)

    def stored_chunks(self, subject: AuthSubject, besides: uuid.UUID) -> int:
        """Chunks of the customer's documents other than `besides` (the plan's cap)."""
        stmt = select(func.coalesce(func.sum(Document.chunks_total), 0)).where(
            *self.scope(subject), Document.id != besides, Document.status == "ready"
        )
        return int(self.db.scalar(stmt) or 0)

    def queued_of_customer(self, customer_id: uuid.UUID) -> int:
        """Documents of one customer waiting for ingestion (its place in the fair order)."""
        stmt = select(func.count()).where(
            Document.customer_id == customer_id, Document.status == "queued"
        )
        return int(self.db.scalar(stmt) or 0)

    def count_unfinished(self) -> dict[str, int]:
        """How many documents are queued and how many processing, across customers (metrics)."""
        stmt = (
            select(Document.status, func.count())
            .where(Document.status.in_(UNFINISHED))
            .group_by(Document.status)
        )
        counts = {status: 0 for status in UNFINISHED}
        counts.update({status: count for status, count in self.db.execute(stmt)})
        return counts
