"""Usage, totals, reservations, demo counters and invoices, read and written within the subject
that asks: writes take the customer from the subject, never from a row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.orm import Session

from app.billing.models import (
    AllowanceAlert,
    DemoUsage,
    Invoice,
    Plan,
    UsageRecord,
    UsageReservation,
    UsageTotal,
)
from app.chatbots.models import Chatbot
from app.core.repository import TenantRepository
from app.core.sql import insert_once, upsert_increment, utc_day
from app.core.subjects import AuthSubject
from app.customers.models import Customer
from app.llm.extractive import ExtractiveProvider


@dataclass(frozen=True)
class ChatbotUsage:
    chatbot_id: uuid.UUID | None  # None: chatbots deleted since
    chatbot_name: str | None
    input_tokens: int
    output_tokens: int
    queries: int
    llm_calls: int


# Records of answers no language model wrote: the extractive answerer's, or none at all.
WITHOUT_LLM = (ExtractiveProvider.name, "none")


def _sums() -> tuple[Any, ...]:
    return (
        func.coalesce(func.sum(UsageRecord.input_tokens), 0),
        func.coalesce(func.sum(UsageRecord.output_tokens), 0),
        func.count(UsageRecord.id),
        func.count(UsageRecord.id).filter(UsageRecord.provider.not_in(WITHOUT_LLM)),
    )


class UsageRepository(TenantRepository[UsageRecord]):
    model = UsageRecord
    label = "Usage record"

    def add(self, subject: AuthSubject, record: dict[str, Any]) -> None:
        """One LLM call's record: a Core INSERT, on the path of every question (the row as a
        parameter, so the statement is compiled once per process)."""
        db_row = {**record, "customer_id": subject.customer_id}
        self.db.execute(insert(UsageRecord), [db_row])

    def _between(
        self,
        subject: AuthSubject,
        since: datetime,
        until: datetime,
        chatbot_id: uuid.UUID | None = None,
    ) -> list[ColumnElement[bool]]:
        where = [
            *self.scope(subject),
            UsageRecord.created_at >= since,
            UsageRecord.created_at < until,
        ]
        if chatbot_id is not None:
            where.append(UsageRecord.chatbot_id == chatbot_id)
        return where

    def sums(self, subject: AuthSubject) -> tuple[int, int]:
        """Input and output tokens of every usage record in scope."""
        stmt = select(*_sums()[:2]).where(*self.scope(subject))
        input_tokens, output_tokens = self.db.execute(stmt).one()
        return int(input_tokens), int(output_tokens)

    def by_day(
        self,
        subject: AuthSubject,
        since: datetime,
        until: datetime,
        chatbot_id: uuid.UUID | None = None,
    ) -> dict[str, tuple[int, int, int, int]]:
        """Input tokens, output tokens, answered questions and LLM calls per UTC day
        (`YYYY-MM-DD`), of one chatbot when given."""
        day = utc_day(self.db, UsageRecord.created_at)
        where = self._between(subject, since, until, chatbot_id)
        stmt = select(day, *_sums()).where(*where).group_by(day)
        return {str(d): (int(i), int(o), int(n), int(c)) for d, i, o, n, c in self.db.execute(stmt)}

    def by_chatbot(
        self,
        subject: AuthSubject,
        since: datetime,
        until: datetime,
        chatbot_id: uuid.UUID | None = None,
    ) -> list[ChatbotUsage]:
        """Usage records in [since, until), summed per chatbot, sorted by chatbot name."""
        stmt = (
            select(UsageRecord.chatbot_id, Chatbot.name, *_sums())
            .outerjoin(Chatbot, Chatbot.id == UsageRecord.chatbot_id)
            .where(*self._between(subject, since, until, chatbot_id))
            .group_by(UsageRecord.chatbot_id, Chatbot.name)
        )
        rows = [
            ChatbotUsage(bot_id, name, int(i), int(o), int(n), int(c))
            for bot_id, name, i, o, n, c in self.db.execute(stmt)
        ]
        return sorted(
            rows, key=lambda r: (r.chatbot_name is None, r.chatbot_name or "", str(r.chatbot_id))
        )


class UsageTotalRepository:
    """A customer's running totals per period; the row is the customer's own, by key."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def of_period(self, subject: AuthSubject, period: str) -> UsageTotal:
        row = self.db.get(UsageTotal, (subject.customer_id, period))
        return row or UsageTotal(
            customer_id=subject.customer_id,
            period=period,
            input_tokens=0,
            output_tokens=0,
            queries=0,
        )

    def add(
        self,
        subject: AuthSubject,
        period: str,
        now: datetime,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
        queries: int = 0,
    ) -> None:
        """Adds to the period's totals in one atomic increment (the row is made if missing;
        with nothing to add, writing it still takes its lock: `billing.service.reserve`)."""
        upsert_increment(
            self.db,
            UsageTotal.__table__,  # type: ignore[arg-type]
            {"customer_id": subject.customer_id, "period": period},
            {"input_tokens": input_tokens, "output_tokens": output_tokens, "queries": queries},
            updated_at=now,
        )

    def plan_and_used(self, subject: AuthSubject, period: str) -> tuple[Plan | None, int]:
        """The customer's plan row (None if retired) and tokens used in `period`, in one
        statement: this runs before every question."""
        row = self.db.execute(
            select(Plan, UsageTotal.input_tokens + UsageTotal.output_tokens)
            .select_from(Customer)
            .outerjoin(Plan, Plan.name == Customer.plan)
            .outerjoin(
                UsageTotal,
                (UsageTotal.customer_id == Customer.id) & (UsageTotal.period == period),
            )
            .where(Customer.id == subject.customer_id)
        ).one()
        return row[0], int(row[1] or 0)


class ReservationRepository(TenantRepository[UsageReservation]):
    model = UsageReservation
    label = "Reservation"

    def reserved(self, subject: AuthSubject, period: str, now: datetime) -> int:
        """Tokens set aside in `period` by calls still under way (not expired)."""
        stmt = select(func.coalesce(func.sum(UsageReservation.tokens), 0)).where(
            *self.scope(subject),
            UsageReservation.period == period,
            UsageReservation.expires_at > now,
        )
        return int(self.db.scalar(stmt) or 0)

    def settle(self, subject: AuthSubject, reservation_id: uuid.UUID) -> None:
        self.db.execute(
            delete(UsageReservation)
            .where(*self.scope(subject), UsageReservation.id == reservation_id)
            .execution_options(synchronize_session=False)
        )


class DemoUsageRepository(TenantRepository[DemoUsage]):
    model = DemoUsage
    label = "Demo usage"

    def messages(self, subject: AuthSubject, user_id: uuid.UUID, chatbot_id: uuid.UUID) -> int:
        stmt = select(DemoUsage.messages).where(
            *self.scope(subject), DemoUsage.user_id == user_id, DemoUsage.chatbot_id == chatbot_id
        )
        return int(self.db.scalar(stmt) or 0)

    def count(self, subject: AuthSubject, user_id: uuid.UUID, chatbot_id: uuid.UUID) -> None:
        upsert_increment(
            self.db,
            DemoUsage.__table__,  # type: ignore[arg-type]
            {"user_id": user_id, "chatbot_id": chatbot_id},
            {"messages": 1},
            customer_id=subject.customer_id,
        )


class InvoiceRepository(TenantRepository[Invoice]):
    model = Invoice
    label = "Invoice"

    def of_period(self, subject: AuthSubject, period: str) -> Invoice | None:
        stmt = self.readable(subject).where(Invoice.period == period)
        # populate_existing: a row another transaction changed must not come from the identity map
        return self.db.scalars(stmt.execution_options(populate_existing=True)).one_or_none()


class AllowanceAlertRepository(TenantRepository[AllowanceAlert]):
    model = AllowanceAlert
    label = "Allowance alert"

    def claim(self, subject: AuthSubject, period: str, percent: int, now: datetime) -> bool:
        """Whether this transaction is the one that records the alert of `percent` in
        `period` (and so sends it): the unique key lets only one do so, whatever the
        concurrency."""
        values = {
            "id": uuid.uuid4(),
            "customer_id": subject.customer_id,
            "period": period,
            "percent": percent,
            "created_at": now,
        }
        return insert_once(self.db, AllowanceAlert.__table__, values)  # type: ignore[arg-type]
