"""The embeddable widget: its script as a versioned asset, the snippet, its public config and pages.

Where a widget key works is decided in `app.chatbots.origins`; the iframe page may only be framed
by the chatbot's allowed origins (`frame-ancestors`).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from html import escape
from pathlib import Path

from app.chatbots.models import Chatbot
from app.chatbots.origins import origin_of, visitor_allowed
from app.core.config import Settings
from app.core.errors import Conflict
from app.core.security import create_visitor_token
from app.widget.schemas import SnippetOut, WidgetConfig

WIDGET_JS = (Path(__file__).parent / "static" / "widget.js").read_bytes()
# the asset is fixed per version, so a snippet can pin it with Subresource Integrity
WIDGET_VERSION = hashlib.sha256(WIDGET_JS).hexdigest()[:12]
WIDGET_INTEGRITY = "sha384-" + base64.b64encode(hashlib.sha384(WIDGET_JS).digest()).decode()

DEFAULT_GREETING = "Hi! Ask me a question and I'll answer from our documents."
DEFAULT_ACCENT = "#2563eb"
FRAME_SIZE = "width:100%;max-width:420px;height:600px;border:0"


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


def script_tag(
    settings: Settings,
    chatbot_id: uuid.UUID,
    key: str,
    *,
    mode: str = "",
    visitor: bool = False,
    preview: bool = False,
) -> str:
    extra = f' data-mode="{escape(mode)}"' if mode else ""
    if visitor:  # one of the API's own pages: it may use the key only with this token
        token = create_visitor_token(
            chatbot_id=chatbot_id, secret=settings.secret_key, preview=preview
        )
        extra += f' data-visitor-token="{escape(token)}"'
    return (
        f'<script async src="{escape(script_url(settings))}" '
        f'data-chatbot-id="{chatbot_id}" data-widget-key="{escape(key)}"{extra}></script>'
    )


def page_url(settings: Settings, page: str, chatbot_id: uuid.UUID, key: str) -> str:
    return f"{base_url(settings)}/widget/{page}/{chatbot_id}?key={key}"


def snippet(settings: Settings, chatbot: Chatbot) -> SnippetOut:
    key = active_widget_key(chatbot)
    frame_url = page_url(settings, "frame", chatbot.id, key)
    title = escape(widget_config(chatbot, None, settings).title)
    return SnippetOut(
        chatbot_id=chatbot.id,
        widget_key=key,
        script=script_tag(settings, chatbot.id, key),
        iframe=f'<iframe src="{escape(frame_url)}" title="{title}" style="{FRAME_SIZE}"></iframe>',
        script_url=script_url(settings),
        integrity=WIDGET_INTEGRITY,
        iframe_url=frame_url,
        demo_url=page_url(settings, "demo", chatbot.id, key),
        allowed_origins=chatbot.allowed_origins or [],
    )


def _page(title: str, head: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>{head}</head><body>{body}</body></html>\n"
    )


def frame_page(settings: Settings, chatbot: Chatbot, key: str) -> str:
    """The iframe variant: the widget filling the frame, for sites that forbid foreign scripts."""
    return _page(
        widget_config(chatbot, None, settings).title,
        "<style>html,body{margin:0;height:100%}</style>",
        script_tag(settings, chatbot.id, key, mode="inline", visitor=True),
    )


def frame_ancestors(chatbot: Chatbot) -> str:
    # only values that are origins (a row stored before they were validated could hold more)
    origins = [o for o in chatbot.allowed_origins or [] if origin_of(o) == o]
    return "frame-ancestors " + (" ".join(origins) or "'none'")


def demo_page(settings: Settings, chatbot: Chatbot, key: str) -> str:
    tag = script_tag(settings, chatbot.id, key)
    live = script_tag(settings, chatbot.id, key, visitor=True, preview=True)
    return _page(
        f"Widget preview: {chatbot.name}",
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;"
        "padding:0 1rem;color:#1f2937}pre{white-space:pre-wrap;word-break:break-all;"
        "background:#f3f4f6;padding:1rem;border-radius:8px}</style>",
        f"<h1>Preview: {escape(chatbot.name)}</h1>"
        "<p>This page shows the chat widget as your visitors will see it. Open the bubble in the "
        "corner and ask a question about your documents; the answers count against your plan "
        "like any other.</p>"
        "<p>To add it to your website, paste this line before <code>&lt;/body&gt;</code>, and list "
        "the site under the chatbot's <code>allowed_origins</code>:</p>"
        f"<pre><code>{escape(tag)}</code></pre>{live}",
    )
