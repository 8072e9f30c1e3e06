"""What one question becomes on its way through the RAG core: who asks (`Asker`), what is
ready before the LLM (`Prepared`), and the answer (`Answer`)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from app.chat.prompt import NOT_FOUND_ANSWER
from app.chat.retriever import Source
from app.chat.schemas import AnswerOut
from app.chatbots.models import Chatbot
from app.core.subjects import AuthSubject
from app.llm import LLMRequest, Usage


@dataclass(frozen=True)
class Asker:
    """Who asks which chatbot, through which door (api, widget, dashboard, openai)."""

    subject: AuthSubject
    chatbot: Chatbot
    channel: str
    # a widget key asking from the API's preview page for its chatbot (`app.chatbots.origins`)
    preview: bool = False


@dataclass
class Prepared:
    customer_id: uuid.UUID
    chatbot_id: uuid.UUID
    channel: str
    user_id: uuid.UUID | None
    key_id: uuid.UUID | None  # the key whose use to record (not if recorded a minute ago)
    # a free-plan member's question counts against the demo allowance when it is recorded
    demo: bool
    # the tokens set aside for the LLM call, given back when the exchange is recorded
    reservation_id: uuid.UUID | None
    session_id: uuid.UUID
    new_session: bool
    question: str
    sources: list[Source]
    request: LLMRequest | None  # None: nothing relevant was found, so no LLM is called
    related: list[Source] = field(default_factory=list)
    not_found: str = NOT_FOUND_ANSWER


@dataclass
class Answer:
    answer: str
    sources: list[Source]
    session_id: uuid.UUID
    message_id: uuid.UUID
    usage: Usage
    model: str
    provider: str
    unanswered: bool = False
    related: list[Source] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """As JSON: the API's answer, and the `done` event of a stream."""
        return self.out().model_dump(mode="json")

    def out(self) -> AnswerOut:
        return AnswerOut.model_validate(
            {
                "answer": self.answer,
                "sources": [asdict(s) for s in self.sources],
                "session_id": self.session_id,
                "message_id": self.message_id,
                "usage": usage_payload(self.usage),
                "model": self.model,
                "provider": self.provider,
                "unanswered": self.unanswered,
                "related": [asdict(s) for s in self.related],
            }
        )


def usage_payload(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }
