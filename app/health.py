from __future__ import annotations

from fastapi import APIRouter, Request

from app.core.database import database_answers
from app.core.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/health")
def health(request: Request) -> dict[str, str]:
    if not database_answers(request.app.state.probe_engine):
        raise ServiceUnavailable("Database unreachable")
    return {"status": "ok", "database": "ok"}
