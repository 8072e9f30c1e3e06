"""A method a path does not have is answered 405, with an `Allow` header naming all it has.

The router leaves two gaps. Its 405 names the methods of one route of the path, and each route
has its own (OPTIONS /api/chatbots/{id} said `Allow: GET`, not PATCH and DELETE). And a concrete
path's missing method falls through to a templated sibling: PATCH /api/users/invitations reached
PATCH /api/users/{user_id}, which refused "invitations" as a malformed id (422). Here, as in
OpenAPI, a concrete path is matched before templated ones: its own routes say what it allows.

Inside the CORS middlewares, which answer browsers' preflight OPTIONS before this sees them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.routing import iter_route_contexts
from starlette.responses import JSONResponse
from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import error_body


@dataclass(frozen=True)
class PathMethods:
    pattern: re.Pattern[str]
    methods: frozenset[str]
    concrete: bool


def path_methods(router: Router) -> list[PathMethods]:
    """Every route's path pattern and methods, included routers' routes under their prefix."""
    table = []
    for context in iter_route_contexts(router.routes):
        if context.methods and context.path_format:
            concrete = "{" not in context.path_format
            table.append(PathMethods(context.path_regex, frozenset(context.methods), concrete))
    return table


def allowed_methods(table: list[PathMethods], path: str) -> set[str]:
    """The methods `path` has: its concrete routes', or if it has none its templated ones'."""
    matching = [entry for entry in table if entry.pattern.match(path)]
    concrete = [entry for entry in matching if entry.concrete]
    return {method for entry in concrete or matching for method in entry.methods}


class MethodNotAllowedMiddleware:
    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router
        self._table: list[PathMethods] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self._table is None:  # on the first request: every route has been added by then
                self._table = path_methods(self.router)
            allowed = allowed_methods(self._table, scope["path"])
            if allowed and scope["method"] not in allowed:
                response = JSONResponse(
                    error_body("method_not_allowed", "Method Not Allowed"),
                    status_code=405,
                    headers={"Allow": ", ".join(sorted(allowed))},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
