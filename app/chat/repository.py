from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, select, update

from app.chat.models import ChatMessage, ChatSession, Feedback, MessageRole, MessageStatus
from app.core.errors import NotFound
from app.core.repository import TenantRepository
from app.core.subjects import AuthSubject, UserSubject


@dataclass(frozen=True)
class Purged:
    sessions: int
    messages: int


class ChatSessionRepository(TenantRepository[ChatSession]):
    model = ChatSession
    label = "Session"

    # An exchange's rows are written with Core statements that take their rows as parameters,
    # not unit-of-work flushes: they are on the path of every answer, have nothing to load back,
    # and such statements are compiled once per process.

    def start(self, subject: AuthSubject, session: dict[str, Any]) -> None:
        self.db.execute(insert(ChatSession), [{**session, "customer_id": subject.customer_id}])

    def touch(self, subject: AuthSubject, session_id: uuid.UUID, now: datetime) -> None:
        self.db.execute(
            update(ChatSession)
            .where(*self.scope(subject), ChatSession.id == session_id)
            .values(last_message_at=now)
        )

    def of_chatbot(self, subject: AuthSubject, chatbot_id: uuid.UUID) -> Sequence[ChatSession]:
        return self.list(
            subject,
            ChatSession.chatbot_id == chatbot_id,
            order_by=ChatSession.last_message_at.desc(),
        )

    def previews(
        self,
        subject: AuthSubject,
        chatbot_id: uuid.UUID,
        *,
        limit: int,
        before: datetime | None = None,
    ) -> list[tuple[ChatSession, str | None, int]]:
        """The chatbot's sessions, newest first, with their first question and message count."""
        messages = ChatMessageRepository(self.db).scope(subject)
        in_session = ChatMessage.session_id == ChatSession.id
        first_question = (
            select(ChatMessage.content)
            .where(*messages, in_session, ChatMessage.role == MessageRole.USER)
            .order_by(ChatMessage.created_at)
            .limit(1)
            .scalar_subquery()
        )
        count = select(func.count()).where(*messages, in_session).scalar_subquery()
        stmt = (
            select(ChatSession, first_question, count)
            .where(*self.scope(subject), ChatSession.chatbot_id == chatbot_id)
            .order_by(ChatSession.last_message_at.desc(), ChatSession.id)
            .limit(limit)
        )
        if before is not None:
            aware = before if before.tzinfo else before.replace(tzinfo=UTC)
            stmt = stmt.where(ChatSession.last_message_at < aware.astimezone(UTC))
        return [(session, question, int(n)) for session, question, n in self.db.execute(stmt)]

    def to_continue(
        self, subject: AuthSubject, chatbot_id: uuid.UUID, session_id: uuid.UUID, channel: str
    ) -> ChatSession:
        """A session of this chatbot that the subject may add a question to: one started
        through the same door (`channel`) and, by a signed-in user, by that user. Another's is
        missing (404): its history would go into this question's prompt, so a chatbot key that
        knew an owner's session id could have the owner's conversation quoted back."""
        where = [
            ChatSession.id == session_id,
            ChatSession.chatbot_id == chatbot_id,
            ChatSession.channel == channel,
        ]
        if isinstance(subject, UserSubject):
            where.append(ChatSession.user_id == subject.user_id)
        stmt = self.readable(subject).where(*where)
        session = self.db.scalars(stmt).one_or_none()
        if session is None:
            raise NotFound("Session not found")
        return session

    def purge_older_than(self, subject: AuthSubject, cutoff: datetime) -> Purged:
        """Delete messages older than `cutoff`, then the sessions they leave empty."""
        messages = self.db.execute(
            delete(ChatMessage)
            .where(*ChatMessageRepository(self.db).scope(subject), ChatMessage.created_at < cutoff)
            .execution_options(synchronize_session=False)
        )
        sessions = self.db.execute(
            delete(ChatSession)
            .where(
                *self.scope(subject),
                ChatSession.last_message_at < cutoff,
                ~exists(select(ChatMessage.id).where(ChatMessage.session_id == ChatSession.id)),
            )
            .execution_options(synchronize_session=False)
        )
        return Purged(sessions=sessions.rowcount, messages=messages.rowcount)  # type: ignore[attr-defined]


class ChatMessageRepository(TenantRepository[ChatMessage]):
    model = ChatMessage
    label = "Message"

    def add(self, subject: AuthSubject, messages: list[dict[str, Any]]) -> None:
        rows = [{**message, "customer_id": subject.customer_id} for message in messages]
        self.db.execute(insert(ChatMessage), rows)

    def transcript(
        self, subject: AuthSubject, session_id: uuid.UUID
    ) -> list[tuple[ChatMessage, Feedback | None]]:
        """The session's messages, oldest first, each with its rating, in one statement."""
        rated = and_(
            Feedback.message_id == ChatMessage.id, Feedback.customer_id == ChatMessage.customer_id
        )
        stmt = (
            select(ChatMessage, Feedback)
            .outerjoin(Feedback, rated)
            .where(*self.scope(subject), ChatMessage.session_id == session_id)
            .order_by(ChatMessage.created_at)
        )
        return [(message, feedback) for message, feedback in self.db.execute(stmt)]

    def latest(
        self, subject: AuthSubject, session_id: uuid.UUID, limit: int
    ) -> Sequence[ChatMessage]:
        """The session's last `limit` messages, oldest first."""
        stmt = (
            self.readable(subject)
            .where(ChatMessage.session_id == session_id)
            .order_by(ChatMessage.created_at.desc())
            .limit(limit)
        )
        return list(self.db.scalars(stmt))[::-1]

    def answer(
        self, subject: AuthSubject, chatbot_id: uuid.UUID, message_id: uuid.UUID
    ) -> ChatMessage:
        """One of the chatbot's answers (for rating it)."""
        stmt = self.readable(subject).where(
            ChatMessage.id == message_id,
            ChatMessage.chatbot_id == chatbot_id,
            ChatMessage.role == MessageRole.ASSISTANT,
        )
        message = self.db.scalars(stmt).one_or_none()
        if message is None:
            raise NotFound("Message not found")
        return message

    def asked_through(self, subject: AuthSubject, channels: tuple[str, ...]) -> int:
        """Questions of the subject's customer, all its chatbots, that came through these doors
        and were not failed calls: the customer's, whichever of its keys asks."""
        stmt = (
            select(func.count(ChatMessage.id))
            .join(ChatSession, ChatSession.id == ChatMessage.session_id)
            .where(
                ChatMessage.customer_id == subject.customer_id,
                ChatMessage.role == MessageRole.USER,
                ChatMessage.status != MessageStatus.FAILED,
                ChatSession.channel.in_(channels),
            )
        )
        return int(self.db.scalar(stmt) or 0)
