from __future__ import annotations

from fastapi import APIRouter

from app.core.database import DB, database_answers
from app.core.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/health")
def health(db: DB) -> dict[str, str]:
    if not database_answers(db):
        raise ServiceUnavailable("Database unreachable")
    return {"status": "ok", "database": "ok"}
