"""The process's long-lived parts as typed dependencies.

The app factory (`app/main.py`) builds each part once and keeps it on `app.state`; routes and
dependencies declare the parts they need in their signatures (`settings: AppSettings`,
`limiter: Limiter`, ...) instead of looking them up, so a route's needs read in one place and a
test can override any of them (`app.dependency_overrides`). This module and the factory are the
only code that touches `app.state` (a test in tests/test_architecture.py holds that).

A domain declares its own parts the same way, with `from_state`: `Rag` in `app/chat/deps.py`,
`Jobs` in `app/documents/deps.py`, `Crawls` in `app/sources/deps.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.core.concurrency import CustomerSlots
from app.core.config import Settings
from app.core.openapi import declares
from app.core.ratelimit import RateLimiter


def from_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """The dependency returning the part the factory keeps as `app.state.<name>`. Async and
    without I/O, so FastAPI runs it on the event loop instead of handing it to a thread."""

    async def part(request: Request) -> Any:
        return getattr(request.app.state, name)

    part.__name__ = f"app_{name}"
    return part


AppSettings = Annotated[Settings, Depends(from_state("settings"))]
SessionFactory = Annotated[sessionmaker[Session], Depends(from_state("sessionmaker"))]
# the health probe's own engine, outside the application's pool
ProbeEngine = Annotated[Engine, Depends(from_state("probe_engine"))]
# a route that takes the rate limiter, or a slot of its customer's, can answer 429
Limiter = Annotated[RateLimiter, Depends(declares(429)(from_state("limiter")))]
Slots = Annotated[CustomerSlots, Depends(declares(429)(from_state("slots")))]
