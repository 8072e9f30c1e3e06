"""Where a chatbot's widget key works: the websites in its `allowed_origins`.

Widget keys are publishable: they sit in customers' pages next to the chatbot id. What keeps them
from working everywhere is the browser's `Origin`, checked against that list. The API's own origin
(`PUBLIC_BASE_URL`) counts as allowed too, because the preview page and the iframe variant are
served from it; the iframe page itself may only be framed by the allowed origins.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from app.chatbots.models import Chatbot
from app.core.config import Settings


def origin_of(url: str | None) -> str | None:
    """`scheme://host[:port]` of a URL or Origin header, lower-cased; None when it has none."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def origin_allowed(chatbot: Chatbot, origin: str | None, settings: Settings) -> bool:
    """Whether a browser page on `origin` may use this chatbot's widget key."""
    origin = origin_of(origin)
    if origin is None:
        return False
    return origin in (chatbot.allowed_origins or []) or origin == origin_of(
        settings.public_base_url
    )
