"""Usage accounting, limits, usage reports and billing details.

Totals only ever change by atomic SQL increments. Periods are calendar months in UTC (`YYYY-MM`).
"""

from __future__ import annotations

import uuid
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.billing.models import Plan, UsageReservation, UsageTotal
from app.billing.plans import DEFAULT_PLAN, plan_for, plan_of
from app.billing.repository import (
    DemoUsageRepository,
    ReservationRepository,
    UsageRepository,
    UsageTotalRepository,
)
from app.billing.schemas import (
    BillingInfoOut,
    PlanOut,
    UsageChatbot,
    UsageCounts,
    UsageDay,
    UsageReport,
    UsageSummary,
)
from app.chatbots.repository import ChatbotRepository
from app.core.database import utcnow
from app.core.errors import PaymentRequired, Unprocessable
from app.core.subjects import AuthSubject, OperatorSubject, UserSubject
from app.customers.repository import CustomerRepository
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
    if start.year == MAXYEAR and start.month == 12:
        raise Unprocessable(f"{period} is past the last month the calendar can end")
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


# --- the hot path: limits and recording -----------------------------------------------------


def period_totals(db: Session, subject: AuthSubject, period: str | None = None) -> UsageTotal:
    return UsageTotalRepository(db).of_period(subject, period or current_period())


def ensure_quota(db: Session, subject: AuthSubject) -> Plan:
    """The customer's plan; 402 when its monthly allowance is used up (and it allows no
    overage)."""
    plan, used = UsageTotalRepository(db).plan_and_used(subject, current_period())
    plan = plan or plan_for(db, DEFAULT_PLAN)
    if not plan.overage_allowed and used >= plan.monthly_tokens:
        raise _used_up(plan)
    return plan


def _used_up(plan: Plan) -> PaymentRequired:
    return PaymentRequired(
        f"The monthly allowance of {plan.monthly_tokens:,} tokens of the {plan.name} plan "
        "is used up. Upgrade the plan or wait for the next period."
    )


# long enough for any LLM call with its retries; a reservation older than this was left behind
# by a process that died before recording its answer, and no longer counts
RESERVATION_TTL = timedelta(minutes=10)


def reserve(db: Session, subject: AuthSubject, plan: Plan, tokens: int) -> UsageReservation:
    """Set aside `tokens` (the prompt and the longest answer allowed) before an LLM call.

    A call is admitted while the allowance is not yet used or reserved in full, so concurrent
    questions can pass the allowance by one reservation at most (before, thirty concurrent
    questions with 200 tokens left all went through). The period's totals row is written
    first: its lock makes concurrent reservations of one customer take turns (a row lock on
    PostgreSQL, the write lock on SQLite). Recording the answer deletes the reservation
    (`settle`) in the transaction that adds what was really used.
    """
    now = utcnow()
    period = current_period(now)
    UsageTotalRepository(db).add(subject, period, now)
    if not plan.overage_allowed:
        used = UsageTotalRepository(db).of_period(subject, period)
        reserved = ReservationRepository(db).reserved(subject, period, now)
        if used.input_tokens + used.output_tokens + reserved >= plan.monthly_tokens:
            raise _used_up(plan)
    reservation = UsageReservation(
        id=uuid.uuid4(),
        customer_id=subject.customer_id,
        period=period,
        tokens=tokens,
        expires_at=now + RESERVATION_TTL,
    )
    db.add(reservation)
    db.flush()
    return reservation


def settle(db: Session, customer_id: uuid.UUID, reservation_id: uuid.UUID) -> None:
    """Drop a reservation once its call is recorded (or failed)."""
    ReservationRepository(db).settle(OperatorSubject(customer_id), reservation_id)


def demo_messages(db: Session, subject: UserSubject, chatbot_id: uuid.UUID) -> int:
    """Demo questions a free-plan member has asked this chatbot."""
    return DemoUsageRepository(db).messages(subject, subject.user_id, chatbot_id)


def count_demo_message(
    db: Session, customer_id: uuid.UUID, user_id: uuid.UUID, chatbot_id: uuid.UUID
) -> None:
    DemoUsageRepository(db).count(OperatorSubject(customer_id), user_id, chatbot_id)


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
    record = {
        "id": uuid.uuid4(),
        "chatbot_id": chatbot_id,
        "session_id": session_id,
        "message_id": message_id,
        "model": model,
        "provider": provider,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "created_at": now,
    }
    UsageRepository(db).add(OperatorSubject(customer_id), record)
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
    UsageTotalRepository(db).add(
        OperatorSubject(customer_id),
        current_period(now),
        utcnow(),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        queries=queries,
    )


# --- reports ----------------------------------------------------------------------------------


def summary(db: Session, subject: AuthSubject) -> UsageSummary:
    plan = plan_of(db, subject)
    totals = period_totals(db, subject)
    used = totals.input_tokens + totals.output_tokens
    return UsageSummary(
        period=totals.period,
        plan=plan.name,
        allowance=plan.monthly_tokens,
        overage_allowed=plan.overage_allowed,
        tokens_used=used,
        tokens_remaining=max(0, plan.monthly_tokens - used),
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
        queries=totals.queries,
    )


def _counts(input_tokens: int, output_tokens: int, queries: int, llm_calls: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "queries": queries,
        "llm_calls": llm_calls,
    }


def usage_report(
    db: Session,
    subject: AuthSubject,
    start: date,
    end: date,
    chatbot_id: uuid.UUID | None = None,
) -> UsageReport:
    """Tokens, answered questions and LLM calls from the usage records of days start..end (UTC,
    both included), per day (every day, zeros included), per chatbot and in total; of one
    chatbot when given (404 when it is not the subject's)."""
    if end < start:
        raise Unprocessable("end must not be before start")
    if end >= date.max:
        raise Unprocessable(f"end must be before {date.max.isoformat()}")
    if (end - start).days >= MAX_REPORT_DAYS:
        raise Unprocessable(f"A report covers at most {MAX_REPORT_DAYS} days")
    if chatbot_id is not None:
        chatbot_id = ChatbotRepository(db).get(subject, chatbot_id).id
    since, until = day_start(start), day_start(end + timedelta(days=1))
    usage = UsageRepository(db)
    per_day = usage.by_day(subject, since, until, chatbot_id)
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    totals = [sum(counts[k] for counts in per_day.values()) for k in range(4)]
    return UsageReport(
        start=start,
        end=end,
        totals=UsageCounts(**_counts(*totals)),
        by_day=[
            UsageDay(date=d, **_counts(*per_day.get(d.isoformat(), (0, 0, 0, 0)))) for d in days
        ],
        by_chatbot=[
            UsageChatbot(
                chatbot_id=row.chatbot_id,
                chatbot_name=row.chatbot_name,
                **_counts(row.input_tokens, row.output_tokens, row.queries, row.llm_calls),
            )
            for row in usage.by_chatbot(subject, since, until, chatbot_id)
        ],
    )


# --- billing details --------------------------------------------------------------------------


def billing_details(db: Session, subject: AuthSubject) -> BillingInfoOut:
    customer = CustomerRepository(db).of(subject)
    info = customer.billing_info or {}
    return BillingInfoOut(
        customer_name=customer.name,
        plan=PlanOut.model_validate(plan_for(db, customer.plan)),
        retention_days=customer.retention_days,
        **{name: info.get(name) for name in BILLING_FIELDS},
    )


def update_billing_details(
    db: Session, subject: AuthSubject, changes: dict[str, Any]
) -> BillingInfoOut:
    """Apply the fields that were sent; None clears a billing field."""
    customer = CustomerRepository(db).of(subject)
    if "retention_days" in changes:
        customer.retention_days = changes.pop("retention_days")
    info = {**(customer.billing_info or {}), **changes}
    # a new dict, so that the JSON column sees the change
    customer.billing_info = {k: v for k, v in info.items() if v is not None}
    db.flush()
    return billing_details(db, subject)
