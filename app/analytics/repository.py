"""The aggregate reads behind a chatbot's analytics: questions from the chat history and ratings
from feedback, scoped to the subject that asks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, select

from app.chat.models import ChatMessage, Feedback, MessageRole
from app.chat.repository import ChatMessageRepository
from app.core.repository import TenantRepository
from app.core.sql import utc_day
from app.core.subjects import AuthSubject

# distinct question texts read per list; the long tail beyond them cannot reach the top anyway
GROUPS_READ = 1000


class QuestionRepository(ChatMessageRepository):
    """Users' questions to one chatbot since a moment."""

    def _questions(
        self, subject: AuthSubject, chatbot_id: uuid.UUID, since: datetime
    ) -> list[ColumnElement[bool]]:
        return [
            *self.scope(subject),
            ChatMessage.chatbot_id == chatbot_id,
            ChatMessage.role == MessageRole.USER,
            ChatMessage.created_at >= since,
        ]

    def per_day(
        self, subject: AuthSubject, chatbot_id: uuid.UUID, since: datetime
    ) -> dict[str, tuple[int, int]]:
        """Questions and unanswered questions per UTC day (`YYYY-MM-DD`)."""
        day = utc_day(self.db, ChatMessage.created_at)
        unanswered = func.sum(case((ChatMessage.unanswered, 1), else_=0))
        stmt = (
            select(day, func.count(), unanswered)
            .where(*self._questions(subject, chatbot_id, since))
            .group_by(day)
        )
        return {str(d): (int(n), int(u)) for d, n, u in self.db.execute(stmt)}

    def most_asked(
        self,
        subject: AuthSubject,
        chatbot_id: uuid.UUID,
        since: datetime,
        *,
        unanswered_only: bool = False,
    ) -> list[tuple[str, int]]:
        """(question, count) grouped on lower-cased, trimmed text, most frequent first."""
        where: list[Any] = self._questions(subject, chatbot_id, since)
        if unanswered_only:
            where.append(ChatMessage.unanswered.is_(True))
        text = func.lower(func.trim(ChatMessage.content))
        count = func.count()
        stmt = select(text, count).where(*where).group_by(text).order_by(count.desc())
        return [(q, int(n)) for q, n in self.db.execute(stmt.limit(GROUPS_READ))]


class FeedbackRepository(TenantRepository[Feedback]):
    model = Feedback
    label = "Feedback"

    def exists_for(self, subject: AuthSubject, message_id: uuid.UUID) -> bool:
        stmt = select(exists().where(*self.scope(subject), Feedback.message_id == message_id))
        return bool(self.db.scalar(stmt))

    def ratings(
        self, subject: AuthSubject, chatbot_id: uuid.UUID, since: datetime
    ) -> dict[str, int]:
        stmt = (
            select(Feedback.rating, func.count())
            .where(
                *self.scope(subject),
                Feedback.chatbot_id == chatbot_id,
                Feedback.created_at >= since,
            )
            .group_by(Feedback.rating)
        )
        return {rating: int(n) for rating, n in self.db.execute(stmt)}
