"""Conversations read back: a session's history for the prompt, and the dashboard's lists of
sessions and transcripts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from app.chat.models import MessageRole, MessageStatus
from app.chat.prompt import Turn
from app.chat.repository import ChatMessageRepository, ChatSessionRepository
from app.chat.schemas import MessageFeedbackOut, MessageOut, SessionOut
from app.chatbots.repository import ChatbotRepository
from app.core.subjects import AuthSubject

HISTORY_MESSAGES = 40


def turns_of(db: Session, subject: AuthSubject, session_id: uuid.UUID) -> list[Turn]:
    """The session's last exchanges that were answered, as the prompt's history."""
    messages = ChatMessageRepository(db).latest(subject, session_id, HISTORY_MESSAGES)
    turns = []
    for asked, answered in zip(messages, messages[1:], strict=False):
        if (
            asked.role == MessageRole.USER
            and answered.role == MessageRole.ASSISTANT
            and asked.status == MessageStatus.OK
        ):
            turns.append(Turn(asked.content, answered.content))
    return turns


def list_sessions(
    db: Session,
    subject: AuthSubject,
    chatbot_id: uuid.UUID,
    *,
    limit: int = 50,
    before: datetime | None = None,
) -> list[SessionOut]:
    """The chatbot's conversations, newest first, each with its first question and size; page
    with `before` = the last one's `last_message_at`."""
    chatbot = ChatbotRepository(db).get(subject, chatbot_id)
    rows = ChatSessionRepository(db).previews(subject, chatbot.id, limit=limit, before=before)
    return [
        SessionOut.model_validate(session).model_copy(
            update={"first_question": question, "message_count": count}
        )
        for session, question, count in rows
    ]


def list_messages(db: Session, subject: AuthSubject, session_id: uuid.UUID) -> list[MessageOut]:
    """The transcript, each answer with its rating and comment."""
    session = ChatSessionRepository(db).get(subject, session_id)
    return [
        MessageOut.model_validate(message).model_copy(
            update={"feedback": MessageFeedbackOut.model_validate(feedback) if feedback else None}
        )
        for message, feedback in ChatMessageRepository(db).transcript(subject, session.id)
    ]
