"""A ceiling on request bodies, enforced before anything reads or parses them.

Every route but the uploads takes JSON or a form of a few kilobytes; without a ceiling a 500 MB
body to an unauthenticated route (`POST /auth/login`) is read whole into memory before the 422.
A declared Content-Length over the limit is refused at once; a chunked body is counted as it
arrives and refused as soon as it passes the limit. Uploads have a ceiling of their own, sized
for several files; their parts spool to disk, and each file is checked against MAX_UPLOAD_MB.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import error_body

UPLOAD_PREFIX = "/api/upload/"
# files one upload request may carry at the largest size each
UPLOAD_FILES = 10


def _too_large(limit: int) -> str:
    return f"The request body is larger than the {limit // 1024:,} KB this route accepts"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes * UPLOAD_FILES + max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload_bytes if scope["path"].startswith(UPLOAD_PREFIX) else self.max_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = JSONResponse(
                error_body("payload_too_large", _too_large(limit)), status_code=413
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # reaches the client through the app's HTTPException handler, as a 413
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counting_receive, send)
