"""Domain errors that carry their HTTP status, and the one JSON shape every error is rendered in.

Every 4xx/5xx leaves the API as::

    {"error": {"code": "not_found", "message": "Chatbot not found", "details": [...]}}

Routes and services raise the exceptions below; they never build responses by hand.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.logging import REQUEST_ID_HEADER, current_request_id

log = logging.getLogger(__name__)


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers


class BadRequest(AppError):
    status_code, code = 400, "bad_request"


class Unauthorized(AppError):
    status_code, code = 401, "unauthorized"

    def __init__(self, message: str = "Not authenticated", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kw)


class PaymentRequired(AppError):
    status_code, code = 402, "quota_exceeded"


class Forbidden(AppError):
    status_code, code = 403, "forbidden"


class NotFound(AppError):
    status_code, code = 404, "not_found"


class Conflict(AppError):
    status_code, code = 409, "conflict"


class PayloadTooLarge(AppError):
    status_code, code = 413, "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code, code = 415, "unsupported_media_type"


class Unprocessable(AppError):
    status_code, code = 422, "unprocessable"


class TooManyRequests(AppError):
    status_code, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after: int | None = None, **kw: Any) -> None:
        if retry_after is not None:
            kw.setdefault("headers", {"Retry-After": str(max(1, int(retry_after)))})
        super().__init__(message, **kw)


class BadGateway(AppError):
    status_code, code = 502, "upstream_error"


class ServiceUnavailable(AppError):
    status_code, code = 503, "unavailable"


class GatewayTimeout(AppError):
    status_code, code = 504, "upstream_timeout"


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    if request_id := current_request_id():  # what to quote to support, and to grep the logs for
        body["request_id"] = request_id
    return {"error": body}


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        # ("body", "email") reads better as field "email" located in "body"
        where = loc[0] if loc else "body"
        field = ".".join(loc[1:]) if len(loc) > 1 else where
        details.append({"field": field, "in": where, "message": err.get("msg", "invalid")})
    return details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:3])
        return JSONResponse(
            error_body("validation_error", f"Invalid request: {summary}", details),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return JSONResponse(
            error_body(code, message),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(IntegrityError)
    async def _constraint(request: Request, exc: IntegrityError) -> JSONResponse:
        # Two requests raced past a check (an address, a URL or content already there, a
        # parent deleted meanwhile) and the database's constraint stopped the second. The
        # services turn the races they know into their own 409s; this is the net under them.
        log.warning("constraint on %s %s: %s", request.method, request.url.path, exc.orig)
        body = error_body(
            "conflict", "The request conflicts with a change made at the same time; try again"
        )
        return JSONResponse(body, status_code=409)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        # answered outside the request middleware, which therefore cannot add the id header
        request_id = current_request_id()
        headers = {REQUEST_ID_HEADER: request_id} if request_id else None
        if _unstorable_text(exc):
            log.warning("text with NUL on %s %s", request.method, request.url.path)
            body = error_body(
                "invalid_value", "Text in the request must not contain NUL characters"
            )
            return JSONResponse(body, status_code=422, headers=headers)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", "Internal server error"), status_code=500, headers=headers
        )


def _unstorable_text(exc: BaseException | None) -> bool:
    """PostgreSQL's driver refuses text with a NUL character (SQLite stores it): the client
    sent it, so it is the client's error, found only when the value is written."""
    while exc is not None:
        if isinstance(exc, ValueError) and "NUL (0x00)" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
