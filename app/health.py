from __future__ import annotations

from fastapi import APIRouter

from app.core.database import database_answers
from app.core.deps import ProbeEngine
from app.core.errors import ServiceUnavailable
from app.core.openapi import errors

router = APIRouter(tags=["health"])


@router.get("/health", responses=errors(503))
def health(probe_engine: ProbeEngine) -> dict[str, str]:
    if not database_answers(probe_engine):
        raise ServiceUnavailable("Database unreachable")
    return {"status": "ok", "database": "ok"}
