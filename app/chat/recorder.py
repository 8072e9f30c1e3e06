"""The record of an exchange: both messages, the usage record and the customer's totals (and
an allowance alert when they cross one), the reservation given back, the key's last use and a
member's demo count, in one transaction of its own, the only one that writes for a question. It
is its own because a streamed answer outlives the request's session and a failed call must still
keep the user's question."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.billing import service as billing
from app.billing.alerts import alert_if_crossed
from app.chat.exchange import Answer, Prepared
from app.chat.models import MessageRole, MessageStatus
from app.chat.repository import ChatMessageRepository, ChatSessionRepository
from app.chatbots.repository import ApiKeyRepository
from app.core.config import Settings
from app.core.database import session_scope, utcnow
from app.core.errors import AppError
from app.core.subjects import OperatorSubject
from app.core.tenancy import act_for
from app.llm import Completion, Usage
from app.llm.extractive import NOT_FOUND as EXTRACTIVE_NOT_FOUND


class ExchangeRecorder:
    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.factory = factory

    @staticmethod
    def _session_row(db: Session, prepared: Prepared, now: datetime) -> None:
        sessions, owner = ChatSessionRepository(db), OperatorSubject(prepared.customer_id)
        if prepared.new_session:
            session = {
                "id": prepared.session_id,
                "chatbot_id": prepared.chatbot_id,
                "user_id": prepared.user_id,
                "channel": prepared.channel,
                "created_at": now,
                "last_message_at": now,
            }
            sessions.start(owner, session)
            prepared.new_session = False
        else:
            sessions.touch(owner, prepared.session_id, now)

    @staticmethod
    def _message_row(
        prepared: Prepared, role: MessageRole, content: str, **values: Any
    ) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "session_id": prepared.session_id,
            "chatbot_id": prepared.chatbot_id,
            "role": role,
            "content": content,
            **values,
        }

    def record(
        self,
        prepared: Prepared,
        text: str,
        completion: Completion | None,
        status: MessageStatus = MessageStatus.OK,
    ) -> Answer:
        usage = completion.usage if completion else Usage(0, 0)
        model = completion.model if completion else "none"
        provider = completion.provider if completion else "none"
        # the extractive answerer found no passage that answers: a gap like a refusal
        unanswered = completion is None or completion.text == EXTRACTIVE_NOT_FOUND
        now = utcnow()
        question = self._message_row(
            prepared, MessageRole.USER, prepared.question, unanswered=unanswered, created_at=now
        )
        reply = self._message_row(
            prepared,
            MessageRole.ASSISTANT,
            text,
            sources=[asdict(s) for s in prepared.sources],
            status=status,
            model=model,
            provider=provider,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            created_at=now + timedelta(microseconds=1),
        )
        with session_scope(self.factory) as db:
            act_for(db, prepared.customer_id)
            self._session_row(db, prepared, now)
            ChatMessageRepository(db).add(OperatorSubject(prepared.customer_id), [question, reply])
            self._count_caller(db, prepared, now)
            self._bill(db, prepared, completion, reply["id"], now)
        return Answer(
            answer=text,
            sources=prepared.sources,
            session_id=prepared.session_id,
            message_id=reply["id"],
            usage=usage,
            model=model,
            provider=provider,
            unanswered=unanswered,
            related=prepared.related,
        )

    def _bill(
        self,
        db: Session,
        prepared: Prepared,
        completion: Completion | None,
        message_id: uuid.UUID,
        now: datetime,
    ) -> None:
        """The LLM call's usage record and the customer's totals, and the allowance alert it
        may cross; a question answered without an LLM counts in the totals only."""
        if completion is None:
            billing.add_to_totals(db, prepared.customer_id, 0, 0, queries=1, now=now)
            return
        usage = completion.usage
        billing.record_usage(
            db,
            customer_id=prepared.customer_id,
            chatbot_id=prepared.chatbot_id,
            session_id=prepared.session_id,
            message_id=message_id,
            model=completion.model,
            provider=completion.provider,
            usage=usage,
            now=now,
        )
        if usage.input_tokens or usage.output_tokens:
            period = billing.current_period(now)
            alert_if_crossed(db, self.settings, prepared.customer_id, period, now)

    def record_failure(self, prepared: Prepared, exc: AppError) -> None:
        """Keep the question (marked failed); no answer, no usage, no tokens."""
        now = utcnow()
        failed = self._message_row(
            prepared,
            MessageRole.USER,
            prepared.question,
            status=MessageStatus.FAILED,
            error=exc.message,
            created_at=now,
        )
        with session_scope(self.factory) as db:
            act_for(db, prepared.customer_id)
            self._session_row(db, prepared, now)
            ChatMessageRepository(db).add(OperatorSubject(prepared.customer_id), [failed])
            self._count_caller(db, prepared, now)

    @staticmethod
    def _count_caller(db: Session, prepared: Prepared, now: datetime) -> None:
        """The reservation given back, the key's last use and a member's demo count, in the
        exchange's transaction."""
        if prepared.reservation_id is not None:
            billing.settle(db, prepared.customer_id, prepared.reservation_id)
        if prepared.key_id is not None:
            ApiKeyRepository(db).touch(prepared.key_id, now)
        if prepared.demo and prepared.user_id is not None:
            billing.count_demo_message(
                db, prepared.customer_id, prepared.user_id, prepared.chatbot_id
            )
