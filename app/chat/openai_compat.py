"""`POST /v1/chat/completions`: the chat-completions protocol in front of a chatbot, so the
official `openai` client and tools built on it can talk to it (`model` = the chatbot id, the
secret key as Bearer token). The conversation travels in `messages`, as in that protocol; each
call is still stored as a session and billed. The chatbot's own system prompt governs, so
system messages from the client are ignored.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from app.chat.deps import ANSWERING, Rag
from app.chat.exchange import Asker, Prepared, usage_payload
from app.chat.prompt import Turn
from app.chat.service import RagService
from app.chat.streaming import AnswerStreamResponse, hold_until_answered
from app.chatbots.deps import KeyCaller, SecretKey
from app.core.database import DB
from app.core.deps import Slots
from app.core.errors import BadRequest, NotFound
from app.core.openapi import errors
from app.core.schemas import RequestBody
from app.llm import Stop

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

# The conversation a client sends: the question is capped like every door's (in the RAG
# service); the turns before it feed a history budget of HISTORY_TOKEN_BUDGET tokens.
MAX_MESSAGES = 200
MAX_CONVERSATION_CHARS = 32_000


class ContentPart(RequestBody):
    """One part of a message's content; only text parts are read, images and others ignored."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessageIn(RequestBody):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None


class StreamOptions(RequestBody):
    include_usage: bool = False


class ChatCompletionIn(RequestBody):
    model: str = Field(description="The chatbot id")
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None

    @model_validator(mode="after")
    def _bounded_conversation(self) -> ChatCompletionIn:
        size = sum(len(_text(m.content)) for m in self.messages)
        if size > MAX_CONVERSATION_CHARS:
            raise ValueError(
                f"the messages hold {size:,} characters; at most {MAX_CONVERSATION_CHARS:,} "
                "are read (older turns beyond the history budget are dropped anyway)"
            )
        return self


def _text(content: str | list[ContentPart] | None) -> str:
    if isinstance(content, list):
        return "".join(part.text or "" for part in content if part.type == "text")
    return content or ""


def _conversation(messages: list[ChatMessageIn]) -> tuple[str, list[Turn]]:
    said = [(m.role, _text(m.content)) for m in messages if m.role in ("user", "assistant")]
    if not said or said[-1][0] != "user" or not said[-1][1].strip():
        raise BadRequest("The last message must be a non-empty user message")
    turns = [
        Turn(q, a)
        for (rq, q), (ra, a) in zip(said, said[1:], strict=False)
        if rq == "user" and ra == "assistant"
    ]
    return said[-1][1], turns


def _chunk(cid: str, created: int, model: str, **fields: Any) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model}
    return f"data: {json.dumps({**body, **fields}, ensure_ascii=False)}\n\n"


def _stream(
    rag: RagService, prepared: Prepared, model: str, include_usage: bool, stop: Stop
) -> Iterator[str]:
    cid, created = f"chatcmpl-{prepared.session_id.hex}", int(time.time())
    first = True
    for event, data in rag.stream(prepared, stop):
        if event == "delta":
            delta = {"content": data["text"]}
            if first:
                delta["role"], first = "assistant", False
            choice = {"index": 0, "delta": delta, "finish_reason": None}
            yield _chunk(cid, created, model, choices=[choice])
        elif event == "error":
            yield f"data: {json.dumps(data)}\n\n"
            return
        elif event == "done":
            finish = {"index": 0, "delta": {}, "finish_reason": "stop"}
            yield _chunk(cid, created, model, choices=[finish])
            if include_usage:
                usage = data["usage"]
                yield _chunk(
                    cid,
                    created,
                    model,
                    choices=[],
                    usage={
                        "prompt_tokens": usage["input_tokens"],
                        "completion_tokens": usage["output_tokens"],
                        "total_tokens": usage["total_tokens"],
                    },
                )
    yield "data: [DONE]\n\n"


class ModelOut(BaseModel):
    id: str = Field(description="The chatbot id: pass it as `model`")
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    name: str = Field(description="The chatbot's name")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


def _chatbot_id(model: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(model)
    except ValueError:
        return None


@router.get("/models", response_model=ModelList)
def list_models(caller: SecretKey) -> ModelList:
    """The chatbots this key may use as `model`: a secret key works for its own chatbot."""
    chatbot = caller.chatbot
    model = ModelOut(
        id=str(chatbot.id),
        created=int(chatbot.created_at.timestamp()),
        owned_by=str(chatbot.customer_id),
        name=chatbot.name,
    )
    return ModelList(data=[model])


@router.post("/chat/completions", responses={**ANSWERING, **errors(404)})
def chat_completions(body: ChatCompletionIn, caller: SecretKey, db: DB, slots: Slots, rag: Rag):
    if _chatbot_id(body.model) != caller.chatbot.id:
        raise NotFound(
            f"Model {body.model!r} not found; use the id of the key's chatbot as the model "
            "(GET /v1/models lists it)"
        )
    question, history = _conversation(body.messages)
    return hold_until_answered(
        slots,
        caller.subject.customer_id,
        lambda: _complete(rag, db, caller, body, question, history),
    )


def _complete(
    rag: RagService,
    db: Session,
    caller: KeyCaller,
    body: ChatCompletionIn,
    question: str,
    history: list[Turn],
) -> AnswerStreamResponse | dict[str, Any]:
    prepared = rag.prepare(
        db, Asker(caller.subject, caller.chatbot, "openai"), question, history=history
    )
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return AnswerStreamResponse(
            rag.streams.run(partial(_stream, rag, prepared, body.model, include_usage))
        )
    answer = rag.answer(prepared)
    usage = usage_payload(answer.usage)
    return {
        "id": f"chatcmpl-{answer.message_id.hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.answer},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": usage["input_tokens"],
            "completion_tokens": usage["output_tokens"],
            "total_tokens": usage["total_tokens"],
        },
        "sources": [asdict(s) for s in answer.sources],
        "session_id": str(answer.session_id),
    }
