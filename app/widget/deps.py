"""Callers of the widget's public config and pages: anyone holding a chatbot's widget key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from app.auth.deps import DB
from app.chat.deps import client_address
from app.chatbots.keys import authenticate_key
from app.chatbots.models import Chatbot
from app.core.errors import Forbidden, NotFound, Unauthorized


@dataclass(frozen=True)
class WidgetVisitor:
    chatbot: Chatbot
    key: str


def get_widget_visitor(
    chatbot_id: uuid.UUID,
    request: Request,
    db: DB,
    key: Annotated[str | None, Query(description="The chatbot's widget key (pk_…)")] = None,
) -> WidgetVisitor:
    settings, limiter = request.app.state.settings, request.app.state.limiter
    limiter.hit(
        settings.rate_limit_public_per_ip, "widget", client_address(request), what="client address"
    )
    if not key or not key.strip():
        raise Unauthorized("Pass the chatbot's widget key (pk_…) as the `key` query parameter")
    found = authenticate_key(db, key.strip())
    if found is None:
        raise Unauthorized("Invalid or revoked widget key")
    if found.chatbot_id != chatbot_id:
        raise NotFound("Chatbot not found")
    if found.kind != "widget":
        raise Forbidden(
            "This takes the widget key (pk_…). A secret key must never appear in a web page: "
            "rotate it if it has been published."
        )
    chatbot = db.get(Chatbot, chatbot_id)
    assert chatbot is not None
    return WidgetVisitor(chatbot, key.strip())


Visitor = Annotated[WidgetVisitor, Depends(get_widget_visitor)]
