"""Callers of the public doors: a chatbot's secret key (customers' servers) or its widget key
(visitors' browsers, from an allowed origin). Declared in route signatures as `ChatbotKey`,
`SecretKey` or `WidgetKey`, and in OpenAPI as the `APIKeyHeader` and `HTTPBearer` schemes, so
Swagger's Authorize button takes a secret key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.auth.deps import CurrentUser
from app.chatbots.models import ApiKey, Chatbot
from app.chatbots.origins import previewing, visitor_allowed
from app.chatbots.repository import ApiKeyRepository
from app.chatbots.service import get_chatbot
from app.core.config import Settings
from app.core.database import DB
from app.core.deps import AppSettings, Limiter
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.openapi import declares
from app.core.ratelimit import RateLimiter, client_address
from app.core.security import api_key_matches, hash_api_key
from app.core.subjects import KeySubject
from app.core.tenancy import act_for

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="ChatbotKey",
    description="The chatbot's secret key (sk_…) from your server, or its widget key (pk_…) "
    "from one of its allowed websites",
)
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ChatbotBearer",
    description="The same key as a Bearer token (what OpenAI clients send)",
)
MAX_KEY_LENGTH = 128


@dataclass(frozen=True)
class KeyCaller:
    """An authenticated key, with the chatbot it belongs to (its settings drive the answer)."""

    subject: KeySubject
    chatbot: Chatbot
    # the widget key as presented, for the pages that load the widget with it
    publishable: str | None = None
    # a widget key asking from the API's preview page (`origins.previewing`)
    preview: bool = False

    @property
    def kind(self) -> str:
        return self.subject.kind


def find_key(db: DB, raw: str | None) -> ApiKey | None:
    """The active key matching `raw`: unknown, revoked and malformed keys all look alike."""
    if not raw or len(raw) > MAX_KEY_LENGTH:
        return None
    key = ApiKeyRepository(db).by_hash(hash_api_key(raw))
    if key is None or key.revoked_at is not None or not api_key_matches(raw, key.key_hash):
        return None
    act_for(db, key.customer_id)  # the request acts for the key's customer only
    return key


@declares(401)
async def presented_raw_key(
    header_key: Annotated[str | None, Depends(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The key as sent in X-API-Key or as a Bearer token; 401 without one. Async and without
    I/O, so FastAPI runs it on the event loop instead of handing it to a thread."""
    raw = (header_key or "").strip() or (credentials.credentials.strip() if credentials else "")
    if not raw:
        raise Unauthorized("Send the chatbot's API key in X-API-Key or as a Bearer token")
    return raw


PresentedKey = Annotated[str, Depends(presented_raw_key)]


def active_key(db: Session, raw: str) -> ApiKey:
    """The active key `raw` names; 401 if none."""
    key = find_key(db, raw)
    if key is None:
        raise Unauthorized("Invalid or revoked API key")
    return key


def presented_key(db: DB, raw: PresentedKey) -> ApiKey:
    """The active key sent in X-API-Key or as a Bearer token; 401 without one."""
    return active_key(db, raw)


@dataclass(frozen=True)
class KeyDoor:
    """What the key doors check a caller against: the settings (origins, the preview page) and
    the rate limits shared by every API process."""

    settings: Settings
    limiter: RateLimiter

    def rate_limit(self, request: Request, key: ApiKey) -> None:
        settings, address = self.settings, client_address(request)
        if key.kind == "secret":
            self.limiter.hit(settings.rate_limit_public, "key", str(key.id), what="API key")
            self.limiter.hit(
                settings.rate_limit_public_per_ip, "ip", address, what="client address"
            )
        else:
            self.limiter.hit(
                settings.rate_limit_widget_per_ip,
                "visitor",
                str(key.chatbot_id),
                address,
                what="visitor",
            )


async def key_door(settings: AppSettings, limiter: Limiter) -> KeyDoor:
    return KeyDoor(settings, limiter)


Door = Annotated[KeyDoor, Depends(key_door)]


def check_widget_origin(
    settings: Settings, request: Request, chatbot: Chatbot, visitor_token: str | None
) -> None:
    origin = request.headers.get("origin")
    if not visitor_allowed(chatbot, origin, visitor_token, settings):
        raise Forbidden(
            f"This chatbot's widget key only works on its allowed websites, and "
            f"{origin or 'a request without an Origin'} is not one of them. "
            "Add the site under the chatbot's allowed_origins."
        )


def _caller(key: ApiKey, publishable: str | None = None, *, preview: bool = False) -> KeyCaller:
    subject = KeySubject(key.id, key.kind, key.customer_id, key.chatbot_id, key.last_used_at)
    return KeyCaller(subject, key.chatbot, publishable, preview)


VisitorToken = Annotated[
    str | None,
    Header(
        alias="X-Visitor-Token",
        description="On the API's own widget pages (preview, iframe): the token they were "
        "served with",
    ),
]


@declares(403)
def chatbot_key(
    chatbot_id: uuid.UUID,
    request: Request,
    door: Door,
    key: Annotated[ApiKey, Depends(presented_key)],
    visitor_token: VisitorToken = None,
) -> KeyCaller:
    """The path's chatbot, asked with its secret key, or its widget key from an allowed origin."""
    return caller_of_chatbot(door, request, chatbot_id, key, visitor_token)


def caller_of_chatbot(
    door: KeyDoor, request: Request, chatbot_id: uuid.UUID, key: ApiKey, visitor_token: str | None
) -> KeyCaller:
    """`chatbot_key`'s checks, for a route that looks the key up itself."""
    if key.chatbot_id != chatbot_id:
        raise NotFound("Chatbot not found")
    preview = False
    if key.kind == "widget":
        check_widget_origin(door.settings, request, key.chatbot, visitor_token)
        origin = request.headers.get("origin")
        preview = previewing(key.chatbot, origin, visitor_token, door.settings)
    door.rate_limit(request, key)
    return _caller(key, preview=preview)


@declares(403)
def secret_key(
    request: Request, door: Door, key: Annotated[ApiKey, Depends(presented_key)]
) -> KeyCaller:
    """A chatbot's secret key; widget keys may only ask questions through the chatbot's path."""
    if key.kind != "secret":
        raise Forbidden("Widget keys can only ask questions; use the secret key here")
    door.rate_limit(request, key)
    return _caller(key)


@declares(401, 403)
def widget_key(
    chatbot_id: uuid.UUID,
    request: Request,
    db: DB,
    door: Door,
    key: Annotated[str | None, Query(description="The chatbot's widget key (pk_…)")] = None,
) -> KeyCaller:
    """A chatbot's widget key in the query string, for the widget's config and pages."""
    door.limiter.hit(
        door.settings.rate_limit_public_per_ip,
        "widget",
        client_address(request),
        what="client address",
    )
    if not key or not key.strip():
        raise Unauthorized("Pass the chatbot's widget key (pk_…) as the `key` query parameter")
    found = find_key(db, key.strip())
    if found is None:
        raise Unauthorized("Invalid or revoked widget key")
    if found.chatbot_id != chatbot_id:
        raise NotFound("Chatbot not found")
    if found.kind != "widget":
        raise Forbidden(
            "This takes the widget key (pk_…). A secret key must never appear in a web page: "
            "rotate it if it has been published."
        )
    return _caller(found, key.strip())


def users_chatbot(chatbot_id: uuid.UUID, user: CurrentUser, db: DB) -> Chatbot:
    """The path's chatbot, when it is one of the signed-in user's customer's (404 otherwise)."""
    return get_chatbot(db, user, chatbot_id)


# declared after the route's user (`user: StaffUser, chatbot: UsersChatbot`), so that a caller
# without the role gets 403 before anyone learns whether the chatbot exists
UsersChatbot = Annotated[Chatbot, Depends(users_chatbot)]
ChatbotKey = Annotated[KeyCaller, Depends(chatbot_key)]
SecretKey = Annotated[KeyCaller, Depends(secret_key)]
WidgetKey = Annotated[KeyCaller, Depends(widget_key)]
