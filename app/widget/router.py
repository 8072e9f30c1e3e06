from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.auth.deps import CurrentUser
from app.chatbots.deps import KeyCaller, UsersChatbot, WidgetKey
from app.core.deps import AppSettings
from app.core.openapi import errors
from app.widget import service
from app.widget.schemas import SnippetOut, WidgetConfig

router = APIRouter(tags=["widget"])

ETAG = f'"{service.WIDGET_VERSION}"'
# the snippet's URL names the version, so its content never changes; a bare /widget.js (or an
# old ?v=) does change with a deploy, so it is cached briefly
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=300"


def _key(visitor: KeyCaller) -> str:
    assert visitor.publishable is not None  # WidgetKey callers always carry it
    return visitor.publishable


@router.get("/api/chatbots/{chatbot_id}/snippet", response_model=SnippetOut, responses=errors(409))
def get_snippet(user: CurrentUser, chatbot: UsersChatbot, settings: AppSettings):
    """The line to paste into a website, and an iframe variant. Any user of the customer may
    read it: it holds only the publishable widget key, never the secret key."""
    return service.snippet(settings, chatbot)


@router.get("/widget.js", include_in_schema=False)
async def widget_js(request: Request, v: str | None = None) -> Response:
    headers = {
        "Cache-Control": IMMUTABLE if v == service.WIDGET_VERSION else REVALIDATE,
        "ETag": ETAG,
        "Access-Control-Allow-Origin": "*",  # lets pages load it with crossorigin + integrity
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == ETAG:
        return Response(status_code=304, headers=headers)
    return Response(
        service.WIDGET_JS, media_type="application/javascript; charset=utf-8", headers=headers
    )


@router.get("/widget/config/{chatbot_id}", response_model=WidgetConfig)
def widget_config(
    chatbot_id: uuid.UUID,
    visitor: WidgetKey,
    request: Request,
    response: Response,
    settings: AppSettings,
):
    """What the widget shows, and whether the calling page's origin may use the widget key, so a
    page on another website can say so instead of failing on a CORS-blocked request. Readable
    from any origin: it carries no secrets and takes no credentials."""
    # same-origin GETs carry no Origin header (the preview and iframe pages): use the Referer
    origin = request.headers.get("origin") or request.headers.get("referer")
    response.headers.update(
        {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache", "Vary": "Origin"}
    )
    token = request.headers.get("x-visitor-token")
    return service.widget_config(visitor.chatbot, origin, settings, token)


@router.get("/widget/frame/{chatbot_id}", response_class=HTMLResponse)
def widget_frame(chatbot_id: uuid.UUID, visitor: WidgetKey, settings: AppSettings) -> HTMLResponse:
    """The iframe variant of the snippet; only the chatbot's allowed origins may frame it."""
    return HTMLResponse(
        service.frame_page(settings, visitor.chatbot, _key(visitor)),
        headers={
            "Content-Security-Policy": service.frame_ancestors(visitor.chatbot),
            "Cache-Control": "no-cache",
        },
    )


@router.get("/widget/demo/{chatbot_id}", response_class=HTMLResponse)
def widget_demo(chatbot_id: uuid.UUID, visitor: WidgetKey, settings: AppSettings) -> HTMLResponse:
    """A preview page with the widget, to try it before pasting the snippet (`demo_url`)."""
    return HTMLResponse(
        service.demo_page(settings, visitor.chatbot, _key(visitor)),
        headers={
            "Content-Security-Policy": "frame-ancestors 'self' " + " ".join(settings.cors_origins),
            "Cache-Control": "no-cache",
        },
    )
