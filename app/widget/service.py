"""The embeddable widget: its script as a versioned asset, the snippet, its public config and pages.

Where a widget key works is decided in `app.chatbots.origins`; the iframe page may only be framed
by the chatbot's allowed origins (`frame-ancestors`). The pages are templates (`templates/`),
autoescaped; the snippet's tags are built here, every attribute escaped.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from pathlib import Path

from markupsafe import Markup

from app.chatbots.models import Chatbot
from app.chatbots.origins import origin_of, visitor_allowed
from app.core.config import Settings
from app.core.errors import Conflict
from app.core.security import create_visitor_token
from app.core.templates import environment
from app.widget.schemas import SnippetOut, WidgetConfig

WIDGET_JS = (Path(__file__).parent / "static" / "widget.js").read_bytes()
# the asset is fixed per version, so a snippet can pin it with Subresource Integrity
WIDGET_VERSION = hashlib.sha256(WIDGET_JS).hexdigest()[:12]
WIDGET_INTEGRITY = "sha384-" + base64.b64encode(hashlib.sha384(WIDGET_JS).digest()).decode()

DEFAULT_GREETING = "Hi! Ask me a question and I'll answer from our documents."
DEFAULT_ACCENT = "#2563eb"
FRAME_SIZE = "width:100%;max-width:420px;height:600px;border:0"
TEMPLATES = Path(__file__).parent / "templates"


def base_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/")


def widget_config(
    chatbot: Chatbot, origin: str | None, settings: Settings, visitor_token: str | None = None
) -> WidgetConfig:
    options = (chatbot.settings or {}).get("widget") or {}
    return WidgetConfig(
        chatbot_id=chatbot.id,
        title=options.get("title") or chatbot.name,
        greeting=options.get("greeting") or DEFAULT_GREETING,
        starter_questions=options.get("starter_questions") or [],
        accent_color=options.get("accent_color") or DEFAULT_ACCENT,
        position=options.get("position") or "bottom-right",
        origin=origin_of(origin),
        origin_allowed=visitor_allowed(chatbot, origin, visitor_token, settings),
    )


def active_widget_key(chatbot: Chatbot) -> str:
    keys = [
        key
        for key in chatbot.api_keys
        if key.kind == "widget" and key.revoked_at is None and key.publishable_key
    ]
    newest = max(keys, key=lambda key: key.created_at, default=None)
    if newest is None or newest.publishable_key is None:
        raise Conflict("This chatbot has no widget key to show; rotate its widget key first")
    return newest.publishable_key


def script_url(settings: Settings) -> str:
    return f"{base_url(settings)}/widget.js?v={WIDGET_VERSION}"


def _element(name: str, attributes: dict[str, str | None]) -> Markup:
    """An empty element, as markup: every attribute's value escaped (None: one without value)."""
    written = Markup(" ").join(
        Markup("{}").format(key) if value is None else Markup('{}="{}"').format(key, value)
        for key, value in attributes.items()
    )
    return Markup("<{0} {1}></{0}>").format(name, written)


def script_tag(
    settings: Settings,
    chatbot_id: uuid.UUID,
    key: str,
    *,
    mode: str = "",
    visitor: bool = False,
    preview: bool = False,
) -> Markup:
    attributes: dict[str, str | None] = {
        "async": None,
        "src": script_url(settings),
        "data-chatbot-id": str(chatbot_id),
        "data-widget-key": key,
    }
    if mode:
        attributes["data-mode"] = mode
    if visitor:  # one of the API's own pages: it may use the key only with this token
        attributes["data-visitor-token"] = create_visitor_token(
            chatbot_id=chatbot_id, secret=settings.secret_key, preview=preview
        )
    return _element("script", attributes)


def page_url(settings: Settings, page: str, chatbot_id: uuid.UUID, key: str) -> str:
    return f"{base_url(settings)}/widget/{page}/{chatbot_id}?key={key}"


def snippet(settings: Settings, chatbot: Chatbot) -> SnippetOut:
    key = active_widget_key(chatbot)
    frame_url = page_url(settings, "frame", chatbot.id, key)
    title = widget_config(chatbot, None, settings).title
    iframe = _element("iframe", {"src": frame_url, "title": title, "style": FRAME_SIZE})
    return SnippetOut(
        chatbot_id=chatbot.id,
        widget_key=key,
        script=str(script_tag(settings, chatbot.id, key)),
        iframe=str(iframe),
        script_url=script_url(settings),
        integrity=WIDGET_INTEGRITY,
        iframe_url=frame_url,
        demo_url=page_url(settings, "demo", chatbot.id, key),
        allowed_origins=chatbot.allowed_origins or [],
    )


def _render(page: str, **values: object) -> str:
    return environment(TEMPLATES).get_template(page).render(values)


def frame_page(settings: Settings, chatbot: Chatbot, key: str) -> str:
    return _render(
        "frame.html",
        title=widget_config(chatbot, None, settings).title,
        widget=script_tag(settings, chatbot.id, key, mode="inline", visitor=True),
    )


def frame_ancestors(chatbot: Chatbot) -> str:
    # only values that are origins (a row stored before they were validated could hold more)
    origins = [o for o in chatbot.allowed_origins or [] if origin_of(o) == o]
    return "frame-ancestors " + (" ".join(origins) or "'none'")


def demo_page(settings: Settings, chatbot: Chatbot, key: str) -> str:
    return _render(
        "demo.html",
        name=chatbot.name,
        snippet=str(script_tag(settings, chatbot.id, key)),  # shown as text, escaped
        widget=script_tag(settings, chatbot.id, key, visitor=True, preview=True),
    )
