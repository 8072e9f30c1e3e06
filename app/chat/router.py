from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from app.auth.deps import CurrentUser, Expensive
from app.chat import history
from app.chat.deps import ANSWERING, Rag
from app.chat.exchange import Asker
from app.chat.schemas import (
    AnswerOut,
    MessageOut,
    QueryIn,
    RetrieveIn,
    RetrieveOut,
    SessionOut,
)
from app.chat.service import RagService
from app.chat.streaming import AnswerStreamResponse, hold_until_answered
from app.chatbots.deps import (
    Door,
    KeyDoor,
    PresentedKey,
    UsersChatbot,
    VisitorToken,
    active_key,
    caller_of_chatbot,
)
from app.core.concurrency import CustomerSlots
from app.core.database import DB, session_scope
from app.core.deps import SessionFactory, Slots
from app.core.errors import NotFound
from app.core.openapi import errors
from app.core.schemas import IsoDatetime

router = APIRouter(tags=["query"])

ANSWER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "JSON answer, or SSE when streaming",
    },
    **ANSWERING,
}


def sse(events: Iterator[tuple[str, dict[str, Any]]]) -> Iterator[str]:
    for event, data in events:
        yield f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _ask(
    rag: RagService, request: Request, db: Session, asker: Asker, body: QueryIn
) -> AnswerOut | AnswerStreamResponse:
    prepared = rag.prepare(db, asker, body.question, session_id=body.session_id)
    if body.stream or "text/event-stream" in request.headers.get("accept", ""):
        return AnswerStreamResponse(rag.streams.run(lambda stop: sse(rag.stream(prepared, stop))))
    return rag.answer(prepared).out()


# 403: a widget key from an origin not allowed, or a chatbot not yet published (admission.py)
@router.post(
    "/api/public/{chatbot_id}/query",
    response_model=AnswerOut,
    responses={**ANSWER_RESPONSES, **errors(403)},
)
async def public_query(
    chatbot_id: uuid.UUID,
    body: QueryIn,
    request: Request,
    key: PresentedKey,
    door: PublicDoor,
    visitor_token: VisitorToken = None,
):
    """Ask a chatbot with its secret key (`X-API-Key` or `Authorization: Bearer`), or with its
    widget key from one of its allowed origins."""
    # The busiest route: the key check, the question and its record run in one worker thread
    # with one database session, instead of FastAPI giving each sync dependency a thread hop.
    return await run_in_threadpool(_public_ask, door, request, chatbot_id, body, key, visitor_token)


@dataclass(frozen=True)
class PublicQueryDoor:
    """What the public query route uses, resolved on the event loop before its one thread."""

    keys: KeyDoor
    sessions: sessionmaker[Session]
    slots: CustomerSlots
    rag: RagService


async def public_query_door(
    keys: Door, sessions: SessionFactory, slots: Slots, rag: Rag
) -> PublicQueryDoor:
    return PublicQueryDoor(keys, sessions, slots, rag)


PublicDoor = Annotated[PublicQueryDoor, Depends(public_query_door)]


def _public_ask(
    door: PublicQueryDoor,
    request: Request,
    chatbot_id: uuid.UUID,
    body: QueryIn,
    raw_key: str,
    visitor_token: str | None,
) -> AnswerOut | AnswerStreamResponse:
    with session_scope(door.sessions) as db:
        key = active_key(db, raw_key)
        caller = caller_of_chatbot(door.keys, request, chatbot_id, key, visitor_token)
        channel = "widget" if caller.kind == "widget" else "api"
        # a key's customer is known once the key is: its slot is held from here until the
        # answer is over (a streamed one's, until its thread has recorded it)
        asker = Asker(caller.subject, caller.chatbot, channel, preview=caller.preview)
        return hold_until_answered(
            door.slots,
            caller.subject.customer_id,
            lambda: _ask(door.rag, request, db, asker, body),
        )


@router.post(
    "/api/{customer_id}/{chatbot_id}/query",
    response_model=AnswerOut,
    responses=ANSWER_RESPONSES,
    dependencies=[Expensive],
)
def dashboard_query(
    customer_id: uuid.UUID,
    body: QueryIn,
    request: Request,
    user: CurrentUser,
    chatbot: UsersChatbot,
    db: DB,
    rag: Rag,
):
    """Ask a chatbot as a signed-in user of its customer."""
    if customer_id != user.customer_id:
        raise NotFound("Chatbot not found")
    return _ask(rag, request, db, Asker(user, chatbot, "dashboard"), body)


@router.post(
    "/api/chatbots/{chatbot_id}/retrieve", response_model=RetrieveOut, dependencies=[Expensive]
)
def retrieve(
    body: RetrieveIn, user: CurrentUser, chatbot: UsersChatbot, db: DB, rag: Rag
) -> RetrieveOut:
    """The retrieval playground: the chunks a question retrieves, ranked, with their vector,
    lexical and fused scores, and whether (and why) it would be refused. No LLM is called and
    nothing is recorded or billed."""
    return rag.playground(db, user, chatbot, body.question, body.top_k)


@router.get("/api/chatbots/{chatbot_id}/sessions", response_model=list[SessionOut])
def list_sessions(
    chatbot_id: uuid.UUID,
    user: CurrentUser,
    db: DB,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[
        IsoDatetime | None, Query(description="Sessions last active before this (paging)")
    ] = None,
) -> list[SessionOut]:
    """The chatbot's conversations, newest first, with their first question and message
    count."""
    return history.list_sessions(db, user, chatbot_id, limit=limit, before=before)


@router.get("/api/sessions/{session_id}/messages", response_model=list[MessageOut])
def list_messages(session_id: uuid.UUID, user: CurrentUser, db: DB):
    return history.list_messages(db, user, session_id)
