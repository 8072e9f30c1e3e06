"""Invoices: one per customer and calendar month (UTC), made from that month's usage records.

Every line is one chatbot's input or output tokens at the plan's price per 1,000 tokens, rounded
half-up to the cent; the invoice amount is the sum of its lines. While the month runs, its
invoice is a draft that each generation recomputes; the first generation after the month ends
issues it, and from then on it never changes. Generating again never makes a second invoice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.billing.models import Invoice, InvoiceCounter, InvoiceLine, InvoiceStatus, Plan
from app.billing.plans import plan_for
from app.billing.repository import ChatbotUsage, InvoiceRepository, UsageRepository
from app.billing.service import period_bounds
from app.core.database import utcnow
from app.core.errors import Unprocessable
from app.core.sql import upsert_increment
from app.core.subjects import AuthSubject
from app.customers.models import Customer
from app.customers.repository import CustomerRepository

CURRENCY = "USD"
PAYMENT_TERMS = timedelta(days=30)
CENT = Decimal("0.01")
DELETED_CHATBOTS = "Deleted chatbots"


class Outcome(StrEnum):
    CREATED = "created"
    REFRESHED = "refreshed"  # a draft recomputed
    ISSUED = "issued"  # a draft recomputed and issued, its month being over
    UNCHANGED = "unchanged"  # already issued (or paid, or void)
    SKIPPED = "skipped"  # no usage in the month: nothing to invoice


@dataclass(frozen=True)
class Generated:
    invoice: Invoice | None
    outcome: Outcome


def line_amount(tokens: int, price_per_1k: Decimal) -> Decimal:
    return (tokens * price_per_1k / 1000).quantize(CENT, rounding=ROUND_HALF_UP)


def generate_invoice(
    db: Session, subject: AuthSubject, period: str, *, now: datetime | None = None
) -> Generated:
    now = now or utcnow()
    customer = CustomerRepository(db).of(subject)
    start, end = period_bounds(period)
    if start > now:
        raise Unprocessable(f"{period} has not begun yet; there is nothing to invoice")
    series = f"INV-{period[:4]}"
    invoices = InvoiceRepository(db)
    invoice = invoices.of_period(subject, period)
    if invoice is None or invoice.status == InvoiceStatus.DRAFT:
        # Taking the series' counter row first makes generations in one series run one at a
        # time: numbers stay gapless, and a concurrent generation's invoice is seen here.
        upsert_increment(db, InvoiceCounter.__table__, {"series": series}, {"value": 0})  # type: ignore[arg-type]
        invoice = invoices.of_period(subject, period)
    if invoice is not None and invoice.status != InvoiceStatus.DRAFT:
        return Generated(invoice, Outcome.UNCHANGED)
    usage = UsageRepository(db).by_chatbot(subject, start, end)
    if invoice is None and not usage:
        return Generated(None, Outcome.SKIPPED)
    over = now >= end
    plan = plan_for(db, customer.plan)
    if invoice is None:
        invoice = Invoice(
            customer_id=customer.id,
            period=period,
            invoice_number=_next_number(db, series),
            currency=CURRENCY,
        )
        outcome = Outcome.CREATED
    else:
        outcome = Outcome.ISSUED if over else Outcome.REFRESHED
    _fill(invoice, customer, plan, usage)
    if over:
        invoice.status, invoice.issued_at = InvoiceStatus.ISSUED, now
        invoice.due_date = (now + PAYMENT_TERMS).date()
    else:
        invoice.status = InvoiceStatus.DRAFT
    db.add(invoice)
    db.flush()
    return Generated(invoice, outcome)


def _next_number(db: Session, series: str) -> str:
    upsert_increment(db, InvoiceCounter.__table__, {"series": series}, {"value": 1})  # type: ignore[arg-type]
    value = db.scalar(select(InvoiceCounter.value).where(InvoiceCounter.series == series))
    return f"{series}-{value:06d}"


def _fill(invoice: Invoice, customer: Customer, plan: Plan, usage: list[ChatbotUsage]) -> None:
    lines: list[InvoiceLine] = []
    for row in usage:
        name = row.chatbot_name or DELETED_CHATBOTS
        for kind, tokens, price in (
            ("input", row.input_tokens, plan.price_per_1k_input),
            ("output", row.output_tokens, plan.price_per_1k_output),
        ):
            if tokens:
                lines.append(
                    InvoiceLine(
                        position=len(lines) + 1,
                        chatbot_id=row.chatbot_id,
                        description=f"{name}: {kind} tokens",
                        kind=kind,
                        tokens=tokens,
                        price_per_1k=price,
                        amount=line_amount(tokens, price),
                    )
                )
    invoice.lines = lines
    invoice.plan = plan.name
    invoice.input_tokens = sum(row.input_tokens for row in usage)
    invoice.output_tokens = sum(row.output_tokens for row in usage)
    invoice.amount = sum((line.amount for line in lines), Decimal("0.00"))
    invoice.billed_to = billed_to(customer)


def billed_to(customer: Customer) -> dict[str, Any]:
    info = customer.billing_info or {}
    return {
        "name": customer.name,
        "email": info.get("billing_email") or customer.contact_email,
        "address": info.get("address"),
        "tax_id": info.get("tax_id"),
    }


def list_invoices(db: Session, subject: AuthSubject) -> Sequence[Invoice]:
    return InvoiceRepository(db).list(subject, order_by=Invoice.period.desc())


def get_invoice(db: Session, subject: AuthSubject, invoice_id: uuid.UUID) -> Invoice:
    return InvoiceRepository(db).get(subject, invoice_id)
