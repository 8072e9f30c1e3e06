"""Usage accounting, limits, usage reports and billing details.

Totals only ever change by atomic SQL increments. Periods are calendar months in UTC (`YYYY-MM`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.billing.models import DemoUsage, Plan, UsageRecord, UsageTotal
from app.billing.plans import DEFAULT_PLAN, plan_for
from app.billing.sql import upsert_increment, utc_day
from app.chatbots.models import Chatbot
from app.core.database import utcnow
from app.core.errors import PaymentRequired, TooManyRequests, Unprocessable
from app.customers.models import Customer
from app.llm import Usage

BILLING_FIELDS = ("billing_email", "address", "tax_id")
MAX_REPORT_DAYS = 366


def current_period(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end) of a `YYYY-MM` period, in UTC."""
    try:
        start = datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        start = None
    # strptime also takes "2026-1", which would name the month a second way
    if start is None or start.strftime("%Y-%m") != period:
        raise Unprocessable(f"{period!r} is not a period like 2026-11")
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


# --- the hot path: limits and recording -----------------------------------------------------


def period_totals(db: Session, customer_id: uuid.UUID, period: str | None = None) -> UsageTotal:
    period = period or current_period()
    row = db.get(UsageTotal, (customer_id, period))
    return row or UsageTotal(
        customer_id=customer_id, period=period, input_tokens=0, output_tokens=0, queries=0
    )


def ensure_quota(db: Session, customer_id: uuid.UUID) -> None:
    """402 when the customer's monthly allowance is used up (and its plan allows no overage).

    On every question, so one statement reads the plan and the period's totals.
    """
    row = db.execute(
        select(Plan, UsageTotal.input_tokens + UsageTotal.output_tokens)
        .select_from(Customer)
        .outerjoin(Plan, Plan.name == Customer.plan)
        .outerjoin(
            UsageTotal,
            (UsageTotal.customer_id == Customer.id) & (UsageTotal.period == current_period()),
        )
        .where(Customer.id == customer_id)
    ).one()
    plan, used = row[0] or plan_for(db, DEFAULT_PLAN), row[1] or 0
    if not plan.overage_allowed and used >= plan.monthly_tokens:
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
    now: datetime | None = None,
) -> None:
    """Write the record of one LLM call and add it to the totals of the record's own period."""
    now = now or utcnow()
    # a Core INSERT, not a unit-of-work flush: this is on the hot path of every question
    # (rows as parameters, not .values(): the statement is then compiled once per process)
    db.execute(
        insert(UsageRecord),
        [
            {
                "id": uuid.uuid4(),
                "customer_id": customer_id,
                "chatbot_id": chatbot_id,
                "session_id": session_id,
                "message_id": message_id,
                "model": model,
                "provider": provider,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "created_at": now,
            }
        ],
    )
    add_to_totals(
        db, customer_id, usage.input_tokens, usage.output_tokens, queries=queries, now=now
    )


def add_to_totals(
    db: Session,
    customer_id: uuid.UUID,
    input_tokens: int,
    output_tokens: int,
    *,
    queries: int,
    now: datetime | None = None,
) -> None:
    upsert_increment(
        db,
        UsageTotal.__table__,  # type: ignore[arg-type]
        {"customer_id": customer_id, "period": current_period(now)},
        {"input_tokens": input_tokens, "output_tokens": output_tokens, "queries": queries},
        updated_at=utcnow(),
    )


# --- reports ----------------------------------------------------------------------------------


def summary(db: Session, customer_id: uuid.UUID) -> dict[str, Any]:
    customer = db.get(Customer, customer_id)
    assert customer is not None
    plan = plan_for(db, customer.plan)
    totals = period_totals(db, customer_id)
    used = totals.input_tokens + totals.output_tokens
    return {
        "period": totals.period,
        "plan": plan.name,
        "allowance": plan.monthly_tokens,
        "overage_allowed": plan.overage_allowed,
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


@dataclass(frozen=True)
class ChatbotUsage:
    chatbot_id: uuid.UUID | None  # None: chatbots deleted since
    chatbot_name: str | None
    input_tokens: int
    output_tokens: int
    queries: int


def _sums() -> tuple[Any, ...]:
    return (
        func.coalesce(func.sum(UsageRecord.input_tokens), 0),
        func.coalesce(func.sum(UsageRecord.output_tokens), 0),
        func.count(UsageRecord.id),
    )


def _records_between(customer_id: uuid.UUID, since: datetime, until: datetime) -> tuple[Any, ...]:
    return (
        UsageRecord.customer_id == customer_id,
        UsageRecord.created_at >= since,
        UsageRecord.created_at < until,
    )


def usage_by_chatbot(
    db: Session, customer_id: uuid.UUID, since: datetime, until: datetime
) -> list[ChatbotUsage]:
    """The customer's usage records in [since, until), summed per chatbot, by chatbot name."""
    stmt = (
        select(UsageRecord.chatbot_id, Chatbot.name, *_sums())
        .outerjoin(Chatbot, Chatbot.id == UsageRecord.chatbot_id)
        .where(*_records_between(customer_id, since, until))
        .group_by(UsageRecord.chatbot_id, Chatbot.name)
    )
    rows = [
        ChatbotUsage(bot_id, name, int(i), int(o), int(n))
        for bot_id, name, i, o, n in db.execute(stmt)
    ]
    return sorted(
        rows, key=lambda r: (r.chatbot_name is None, r.chatbot_name or "", str(r.chatbot_id))
    )


def _counts(input_tokens: int, output_tokens: int, queries: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "queries": queries,
    }


def usage_report(db: Session, customer_id: uuid.UUID, start: date, end: date) -> dict[str, Any]:
    """Tokens and LLM calls from the usage records of days start..end (UTC, both included),
    per day (every day, zeros included), per chatbot and in total."""
    if end < start:
        raise Unprocessable("end must not be before start")
    if (end - start).days >= MAX_REPORT_DAYS:
        raise Unprocessable(f"A report covers at most {MAX_REPORT_DAYS} days")
    since, until = day_start(start), day_start(end + timedelta(days=1))
    day = utc_day(db, UsageRecord.created_at)
    per_day = {
        date.fromisoformat(str(d)): (int(i), int(o), int(n))
        for d, i, o, n in db.execute(
            select(day, *_sums()).where(*_records_between(customer_id, since, until)).group_by(day)
        )
    }
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    by_day = [{"date": d, **_counts(*per_day.get(d, (0, 0, 0)))} for d in days]
    by_chatbot = [
        {
            "chatbot_id": row.chatbot_id,
            "chatbot_name": row.chatbot_name,
            **_counts(row.input_tokens, row.output_tokens, row.queries),
        }
        for row in usage_by_chatbot(db, customer_id, since, until)
    ]
    totals = [sum(counts[k] for counts in per_day.values()) for k in range(3)]
    return {
        "start": start,
        "end": end,
        "totals": _counts(*totals),
        "by_day": by_day,
        "by_chatbot": by_chatbot,
    }


# --- billing details --------------------------------------------------------------------------


def billing_details(db: Session, customer: Customer) -> dict[str, Any]:
    info = customer.billing_info or {}
    return {
        "customer_name": customer.name,
        "plan": plan_for(db, customer.plan),
        "retention_days": customer.retention_days,
        **{name: info.get(name) for name in BILLING_FIELDS},
    }


def update_billing_details(db: Session, customer: Customer, changes: dict[str, Any]) -> Customer:
    """Apply the fields that were sent; None clears a billing field."""
    if "retention_days" in changes:
        customer.retention_days = changes.pop("retention_days")
    info = {**(customer.billing_info or {}), **changes}
    # a new dict, so that the JSON column sees the change
    customer.billing_info = {k: v for k, v in info.items() if v is not None}
    db.flush()
    return customer
