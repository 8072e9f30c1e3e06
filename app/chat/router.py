from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.deps import DB, CurrentUser
from app.billing import service as billing
from app.chat.deps import authenticate_caller
from app.chat.models import ChatMessage, ChatSession
from app.chat.schemas import AnswerOut, MessageOut, QueryIn, SessionOut
from app.chat.service import Asker, Prepared, RagService
from app.chatbots.service import get_chatbot
from app.core.errors import NotFound
from app.core.tenancy import get_owned, tenant_select
from app.customers.models import Customer

router = APIRouter(tags=["query"])

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
ANSWER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "JSON answer, or SSE when streaming"}
}


def sse(events: Iterator[tuple[str, dict[str, Any]]]) -> Iterator[str]:
    for event, data in events:
        yield f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def wants_stream(request: Request, body: QueryIn) -> bool:
    return body.stream or "text/event-stream" in request.headers.get("accept", "")


def respond(db: Session, rag: RagService, prepared: Prepared, stream: bool):
    # the exchange is recorded in a transaction of its own: end the request's first, or on
    # SQLite its write lock (key last_used_at, demo counter) would block that one
    db.commit()
    if stream:
        return StreamingResponse(
            sse(rag.stream(prepared)), media_type="text/event-stream", headers=SSE_HEADERS
        )
    return rag.answer(prepared).payload()


@router.post("/api/public/{chatbot_id}/query", response_model=AnswerOut, responses=ANSWER_RESPONSES)
def public_query(chatbot_id: uuid.UUID, body: QueryIn, request: Request, db: DB):
    """Ask a chatbot with its secret key (`X-API-Key` or `Authorization: Bearer`), or with its
    widget key from one of its allowed origins."""
    caller = authenticate_caller(request, db, chatbot_id)
    rag: RagService = request.app.state.rag
    channel = "widget" if caller.kind == "widget" else "api"
    prepared = rag.prepare(
        db,
        Asker(caller.customer_id, caller.chatbot, channel),
        body.question,
        session_id=body.session_id,
    )
    return respond(db, rag, prepared, wants_stream(request, body))


@router.post(
    "/api/{customer_id}/{chatbot_id}/query", response_model=AnswerOut, responses=ANSWER_RESPONSES
)
def dashboard_query(
    customer_id: uuid.UUID,
    chatbot_id: uuid.UUID,
    body: QueryIn,
    request: Request,
    principal: CurrentUser,
    db: DB,
):
    """Ask a chatbot as a signed-in user of its customer."""
    if customer_id != principal.customer_id:
        raise NotFound("Chatbot not found")
    chatbot = get_chatbot(db, principal.customer_id, chatbot_id)
    customer = db.get(Customer, principal.customer_id)
    assert customer is not None
    if principal.role == "member" and customer.plan == "free":
        billing.consume_demo_message(
            db,
            customer_id=customer.id,
            user_id=principal.user_id,
            chatbot_id=chatbot.id,
            limit=request.app.state.settings.demo_message_limit,
        )
    rag: RagService = request.app.state.rag
    prepared = rag.prepare(
        db,
        Asker(principal.customer_id, chatbot, "dashboard", principal.user_id),
        body.question,
        session_id=body.session_id,
    )
    return respond(db, rag, prepared, wants_stream(request, body))


@router.get("/api/chatbots/{chatbot_id}/sessions", response_model=list[SessionOut])
def list_sessions(chatbot_id: uuid.UUID, principal: CurrentUser, db: DB):
    chatbot = get_chatbot(db, principal.customer_id, chatbot_id)
    stmt = (
        tenant_select(ChatSession, principal.customer_id)
        .where(ChatSession.chatbot_id == chatbot.id)
        .order_by(ChatSession.last_message_at.desc())
    )
    return db.scalars(stmt).all()


@router.get("/api/sessions/{session_id}/messages", response_model=list[MessageOut])
def list_messages(session_id: uuid.UUID, principal: CurrentUser, db: DB):
    session = get_owned(db, ChatSession, session_id, principal.customer_id)
    stmt = (
        select(ChatMessage)
        .where(ChatMessage.session_id == session.id)
        .order_by(ChatMessage.created_at)
    )
    return db.scalars(stmt).all()
