"""The error answers in `/openapi.json`, derived from the routes so a new route is described too.

Every 4xx/5xx body is `error_body`'s shape (`app/core/errors.py`), so every error response in
the document refers to one `ErrorResponse` schema, FastAPI's `HTTPValidationError` included
(our 422 is not FastAPI's). Which statuses a route declares comes from what it is made of:

- a dependency marked with `@declares(...)` adds its statuses to every route that uses it,
  however deep: the signed-in user's 401, a role's 403, the rate limiter's 429, a key's 401;
- a path parameter (an id) adds 404: not found, or not the caller's;
- a request body adds 400 (unreadable), 413 (too large) and 422; any parameter adds 422;
- what only the route's own service refuses (a 409 conflict, a 402 quota) the route declares
  with `responses=errors(409)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.routing import BaseRoute

ERROR_SCHEMA_NAME = "ErrorResponse"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable, for programs: not_found, validation_error, ...",
                },
                "message": {"type": "string", "description": "For people"},
                "details": {
                    "description": "Validation errors: a list of {field, in, message}",
                },
                "request_id": {
                    "type": "string",
                    "description": "The X-Request-ID to quote to support",
                },
            },
        }
    },
}
# FastAPI's own 422 schemas, replaced by ours and dropped when nothing refers to them any more
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

DESCRIPTIONS = {
    400: "The request could not be read, or was refused as sent (see the message)",
    401: "No credentials, or invalid, revoked or expired ones",
    402: "The plan's quota is used up",
    403: "The caller may not do this",
    404: "Not found, or not the caller's",
    409: "Conflicts with the current state (see the message)",
    413: "The request body, or a file in it, is too large",
    415: "The file's type is not supported",
    422: "The request is invalid (`details` names the fields)",
    429: "Too many requests; retry after Retry-After seconds when it is given",
    502: "The language model's provider failed",
    503: "A service the API needs is unreachable",
    504: "The language model's provider did not answer in time",
}
HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}},
}

D = TypeVar("D", bound=Callable[..., Any])
_DECLARED: dict[Callable[..., Any] | None, frozenset[int]] = {}


def declares(*statuses: int) -> Callable[[D], D]:
    """Marks a dependency with the error statuses it answers, for every route that uses it."""

    def mark(dependency: D) -> D:
        _DECLARED[dependency] = frozenset(statuses)
        return dependency

    return mark


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's own error statuses, for `responses=`; the body schema is added to all alike."""
    return {status: {"description": DESCRIPTIONS[status]} for status in statuses}


def install_openapi(app: FastAPI) -> None:
    """`app.openapi()` (and so `/openapi.json`) with every route's error answers declared."""

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI makes the document again when routes were added since; adding to it twice
        # changes nothing
        return describe_errors(generate(), app.routes)

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point


def describe_errors(document: dict[str, Any], routes: Sequence[BaseRoute]) -> dict[str, Any]:
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            _declare(operation["responses"], route_statuses(route))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    return document


def _declare(responses: dict[str, Any], statuses: set[int]) -> None:
    for status in sorted(statuses):
        responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
    for key, response in responses.items():
        if key.isdigit() and int(key) >= 400:
            if key == "422" and response.get("description") == "Validation Error":
                response["description"] = DESCRIPTIONS[422]  # FastAPI's, for its own 422 body
            response["content"] = {"application/json": {"schema": ERROR_REF}}
            if headers := HEADERS.get(int(key)):
                response["headers"] = headers


def route_statuses(route: RouteContext) -> set[int]:
    """The error statuses `route` can answer, from its dependencies and its parameters (as
    included: a router's dependencies are the route's too)."""
    dependants = list(_dependants(route.dependant))
    statuses = {status for d in dependants for status in _DECLARED.get(d.call, ())}
    if any(d.path_params for d in dependants):
        statuses.add(404)
    if route.body_field is not None:
        statuses |= {400, 413, 422}
    if any(
        d.path_params or d.query_params or d.header_params or d.cookie_params for d in dependants
    ):
        statuses.add(422)
    return statuses


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    """The route's own dependant and every dependency under it."""
    yield dependant
    for dependency in dependant.dependencies:
        yield from _dependants(dependency)
