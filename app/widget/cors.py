"""CORS for `/api/public/{chatbot_id}/...`, answered per chatbot from its `allowed_origins`.

The application-wide CORSMiddleware serves the dashboard's origins and answers preflights itself,
so this middleware sits outside it: it answers these paths' preflights, and on their responses
replaces whatever CORS headers came from inside with its own. An origin is echoed only when it is
in the chatbot's list, never `*`. The list is read on every cross-origin request (one primary-key
lookup, no cache), so a PATCH of `allowed_origins` applies to the next request, in every process.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.chatbots.repository import ChatbotRepository
from app.core.errors import error_body

PUBLIC_PATH = re.compile(r"^/api/public/([0-9a-fA-F-]{32,36})(/|$)")
ALLOW_METHODS = "POST, OPTIONS"
ALLOW_HEADERS = "content-type, x-api-key"
PREFLIGHT_MAX_AGE = "600"


def allowed_origins(factory: sessionmaker[Session], chatbot_id: uuid.UUID) -> list[str]:
    with factory() as db:
        return ChatbotRepository(db).allowed_origins(chatbot_id)


def _cross_origin_chatbot(scope: Scope) -> tuple[uuid.UUID, str] | None:
    """The chatbot id and Origin of a browser's request to a public chatbot path, else None."""
    match = PUBLIC_PATH.match(scope["path"]) if scope["type"] == "http" else None
    origin = Headers(scope=scope).get("origin") if match else None
    if match is None or not origin:
        return None
    try:
        return uuid.UUID(match.group(1)), origin
    except ValueError:
        return None


class ChatbotCORSMiddleware:
    def __init__(self, app: ASGIApp, sessionmaker: sessionmaker[Session]) -> None:
        self.app = app
        self.sessionmaker = sessionmaker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _cross_origin_chatbot(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        chatbot_id, origin = found
        allowed = origin.lower() in await run_in_threadpool(
            allowed_origins, self.sessionmaker, chatbot_id
        )
        echo = {"Access-Control-Allow-Origin": origin}

        preflight_method = Headers(scope=scope).get("access-control-request-method")
        if scope["method"] == "OPTIONS" and preflight_method:
            if allowed:
                preflight = {
                    "Access-Control-Allow-Methods": ALLOW_METHODS,
                    "Access-Control-Allow-Headers": ALLOW_HEADERS,
                    "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                }
                response = Response(None, 204, {**echo, **preflight, "Vary": "Origin"})
            else:
                message = (
                    f"{origin} is not among this chatbot's allowed_origins; add it to use the "
                    "widget there"
                )
                response = JSONResponse(error_body("forbidden", message), 403, {"Vary": "Origin"})
            await response(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name in [n for n in response_headers if n.startswith("access-control-")]:
                    del response_headers[name]
                response_headers.add_vary_header("Origin")
                if allowed:
                    response_headers.update(echo)
                    response_headers["Access-Control-Expose-Headers"] = "Retry-After"
            await send(message)

        await self.app(scope, receive, send_with_cors)
