"""What the service notes about every HTTP request, in one ASGI middleware (the outermost one):

- its id (`X-Request-ID`: the caller's when sane, else a new one) on every log line written while
  it runs and on its response;
- one access log line and one latency observation, labelled by route template and status class;
- on the first request, `PUBLIC_BASE_URL` when it is not configured: the address of the socket
  the server accepted the request on, never the client-controlled `Host` header.
"""

from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.logging import REQUEST_ID_HEADER, bind_request_id
from app.core.metrics import REQUEST_LATENCY

log = logging.getLogger(__name__)
access_log = logging.getLogger("app.access")

FALLBACK_BASE_URL = "http://localhost:8000"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ANY_ADDRESS = {"0.0.0.0", "::", ""}  # noqa: S104 - recognised, not bound


def server_base_url(scope: Scope) -> str | None:
    """`scheme://host[:port]` of the address this request reached; None on a Unix socket."""
    server = scope.get("server")
    if not server or server[1] is None:
        return None
    host, port = server
    if host in _ANY_ADDRESS:
        host = "localhost"
    if ":" in host:
        host = f"[{host}]"
    scheme = scope.get("scheme", "http")
    return f"{scheme}://{host}" + ("" if _DEFAULT_PORTS.get(scheme) == port else f":{port}")


def route_template(scope: Scope) -> str:
    """The matched route's path template; `unmatched` for 404s and answers given before routing
    (CORS preflights), so that no raw path ever becomes a label."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # No reset afterwards: each request runs in a task of its own, and the handler of
        # unexpected errors, outside this middleware, still needs the id.
        request_id = bind_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        if not self.settings.public_base_url:
            self._derive_public_base_url(scope)
        status = 500  # unless a response starts: an exception escaped, answered further out
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method, route = scope["method"], route_template(scope)
            REQUEST_LATENCY.labels(method, route, f"{status // 100}xx").observe(seconds)
            access_log.info(
                "%s %s %d %.1f ms",
                method,
                route,
                status,
                seconds * 1000,
                extra={
                    "method": method,
                    "route": route,
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )

    def _derive_public_base_url(self, scope: Scope) -> None:
        derived = server_base_url(scope)
        self.settings.public_base_url = derived or FALLBACK_BASE_URL
        log.info(
            "PUBLIC_BASE_URL is not set: using %s%s",
            self.settings.public_base_url,
            "" if derived else " (the server listens on a Unix socket; set PUBLIC_BASE_URL)",
        )
