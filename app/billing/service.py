"""Usage accounting and limits. Totals only ever change by atomic SQL increments."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.billing.models import DemoUsage, UsageRecord, UsageTotal
from app.billing.plans import plan_for
from app.core.database import utcnow
from app.core.errors import PaymentRequired, TooManyRequests
from app.customers.models import Customer
from app.llm import Usage


def current_period(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def upsert_increment(
    db: Session, table: Table, keys: dict[str, Any], increments: dict[str, int], **values: Any
) -> None:
    """INSERT the row or add `increments` to it, in one statement (no read-modify-write)."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(**keys, **increments, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={
            **{name: table.c[name] + stmt.excluded[name] for name in increments},
            **{name: stmt.excluded[name] for name in values},
        },
    )
    db.execute(stmt)


def period_totals(db: Session, customer_id: uuid.UUID, period: str | None = None) -> UsageTotal:
    period = period or current_period()
    row = db.get(UsageTotal, (customer_id, period))
    return row or UsageTotal(
        customer_id=customer_id, period=period, input_tokens=0, output_tokens=0, queries=0
    )


def ensure_quota(db: Session, customer_id: uuid.UUID) -> None:
    """402 when the customer's monthly allowance is used up (and its plan allows no overage)."""
    customer = db.get(Customer, customer_id)
    assert customer is not None
    plan = plan_for(customer.plan)
    totals = period_totals(db, customer_id)
    if (
        not plan.overage_allowed
        and totals.input_tokens + totals.output_tokens >= plan.monthly_tokens
    ):
        raise PaymentRequired(
            f"The monthly allowance of {plan.monthly_tokens:,} tokens of the {plan.name} plan "
            "is used up. Upgrade the plan or wait for the next period."
        )


def consume_demo_message(
    db: Session, *, customer_id: uuid.UUID, user_id: uuid.UUID, chatbot_id: uuid.UUID, limit: int
) -> None:
    """Count one demo message of a free-plan member; 429 past the limit."""
    upsert_increment(
        db,
        DemoUsage.__table__,  # type: ignore[arg-type]
        {"user_id": user_id, "chatbot_id": chatbot_id},
        {"messages": 1},
        customer_id=customer_id,
    )
    used = db.scalar(
        select(DemoUsage.messages).where(
            DemoUsage.user_id == user_id, DemoUsage.chatbot_id == chatbot_id
        )
    )
    if used is not None and used > limit:
        raise TooManyRequests(
            f"The free plan's demo allows {limit} messages per user and chatbot, and they are "
            "used up. Ask an owner to upgrade the plan.",
            retry_after=None,
        )


def record_usage(
    db: Session,
    *,
    customer_id: uuid.UUID,
    chatbot_id: uuid.UUID,
    session_id: uuid.UUID | None,
    message_id: uuid.UUID | None,
    model: str,
    provider: str,
    usage: Usage,
    queries: int = 1,
) -> UsageRecord:
    """Write the record of one LLM call and add it to the customer's totals."""
    record = UsageRecord(
        customer_id=customer_id,
        chatbot_id=chatbot_id,
        session_id=session_id,
        message_id=message_id,
        model=model,
        provider=provider,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
    )
    db.add(record)
    add_to_totals(db, customer_id, usage.input_tokens, usage.output_tokens, queries=queries)
    return record


def add_to_totals(
    db: Session, customer_id: uuid.UUID, input_tokens: int, output_tokens: int, *, queries: int
) -> None:
    upsert_increment(
        db,
        UsageTotal.__table__,  # type: ignore[arg-type]
        {"customer_id": customer_id, "period": current_period()},
        {"input_tokens": input_tokens, "output_tokens": output_tokens, "queries": queries},
        updated_at=utcnow(),
    )


def summary(db: Session, customer_id: uuid.UUID) -> dict[str, Any]:
    customer = db.get(Customer, customer_id)
    assert customer is not None
    plan = plan_for(customer.plan)
    totals = period_totals(db, customer_id)
    used = totals.input_tokens + totals.output_tokens
    return {
        "period": totals.period,
        "plan": plan.name,
        "allowance": plan.monthly_tokens,
        "tokens_used": used,
        "tokens_remaining": max(0, plan.monthly_tokens - used),
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
        "queries": totals.queries,
    }


def usage_record_sums(db: Session, customer_id: uuid.UUID) -> tuple[int, int]:
    row = db.execute(
        select(
            func.coalesce(func.sum(UsageRecord.input_tokens), 0),
            func.coalesce(func.sum(UsageRecord.output_tokens), 0),
        ).where(UsageRecord.customer_id == customer_id)
    ).one()
    return int(row[0]), int(row[1])
