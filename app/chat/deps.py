"""Callers of the public endpoints: a chatbot's secret key (servers) or widget key (browsers)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session

from app.chatbots.keys import authenticate_key
from app.chatbots.models import Chatbot
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.widget.service import origin_allowed


@dataclass(frozen=True)
class KeyCaller:
    key_id: uuid.UUID
    kind: str
    chatbot: Chatbot

    @property
    def customer_id(self) -> uuid.UUID:
        return self.chatbot.customer_id


def presented_key(request: Request) -> str | None:
    if key := request.headers.get("x-api-key"):
        return key.strip()
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_widget_origin(request: Request, chatbot: Chatbot) -> None:
    origin = request.headers.get("origin")
    if not origin_allowed(chatbot, origin, request.app.state.settings):
        raise Forbidden(
            f"This chatbot's widget key only works on its allowed websites, and "
            f"{origin or 'a request without an Origin'} is not one of them. "
            "Add the site under the chatbot's allowed_origins."
        )


def authenticate_caller(
    request: Request, db: Session, chatbot_id: uuid.UUID, *, allow_widget: bool = True
) -> KeyCaller:
    raw = presented_key(request)
    if not raw:
        raise Unauthorized("Send the chatbot's API key in X-API-Key or as a Bearer token")
    key = authenticate_key(db, raw)
    if key is None:
        raise Unauthorized("Invalid or revoked API key")
    if key.chatbot_id != chatbot_id:
        raise NotFound("Chatbot not found")
    chatbot = key.chatbot
    if key.kind == "widget":
        if not allow_widget:
            raise Forbidden("Widget keys can only ask questions; use the secret key here")
        check_widget_origin(request, chatbot)
    settings, limiter = request.app.state.settings, request.app.state.limiter
    address = client_address(request)
    if key.kind == "secret":
        limiter.hit(settings.rate_limit_public, "key", str(key.id), what="API key")
        limiter.hit(settings.rate_limit_public_per_ip, "ip", address, what="client address")
    else:
        limiter.hit(
            settings.rate_limit_widget_per_ip, "visitor", str(chatbot_id), address, what="visitor"
        )
    return KeyCaller(key.id, key.kind, chatbot)
