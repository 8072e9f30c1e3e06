from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.auth.deps import DB, CurrentUser
from app.billing import service

router = APIRouter(prefix="/api/usage", tags=["usage"])


class UsageSummary(BaseModel):
    period: str
    plan: str
    allowance: int
    tokens_used: int
    tokens_remaining: int
    input_tokens: int
    output_tokens: int
    queries: int


@router.get("/summary", response_model=UsageSummary)
def usage_summary(principal: CurrentUser, db: DB):
    """Tokens used and remaining in the customer's current monthly period."""
    return service.summary(db, principal.customer_id)
