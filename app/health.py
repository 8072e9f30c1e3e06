from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from app.core.database import DB
from app.core.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/health")
def health(db: DB) -> dict[str, str]:
    try:
        db.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailable("Database unreachable") from exc
    return {"status": "ok", "database": "ok"}
