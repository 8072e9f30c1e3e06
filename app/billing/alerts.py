"""Allowance alerts: a customer's owners get one email when a period's usage reaches 80 % of the
plan's allowance and one when it reaches 100 %, once per period each.

Checked in the transaction that records an answer's usage, after its tokens are added to the
period's totals: the answer that crosses a threshold claims its alert (a unique row per customer,
period and threshold, `AllowanceAlertRepository.claim`) and queues the emails in the outbox, so
they go out only if the usage is recorded, and once however many answers cross it at the same
time. An answer that jumps past both thresholds sends only the 100 % email.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.repository import UserRepository
from app.billing.plans import DEFAULT_PLAN, plan_for
from app.billing.repository import AllowanceAlertRepository, UsageTotalRepository
from app.core.config import Settings
from app.core.subjects import OperatorSubject, Role
from app.customers.repository import CustomerRepository
from app.mail import service as mail

THRESHOLDS = (80, 100)


def alert_if_crossed(
    db: Session, settings: Settings, customer_id: uuid.UUID, period: str, now: datetime
) -> int | None:
    """Queues the alert of the highest threshold the period's usage has newly reached; the
    percentage alerted, or None."""
    subject = OperatorSubject(customer_id)
    plan, used = UsageTotalRepository(db).plan_and_used(subject, period)
    plan = plan or plan_for(db, DEFAULT_PLAN)
    if plan.monthly_tokens <= 0:
        return None
    reached = [p for p in THRESHOLDS if used * 100 >= p * plan.monthly_tokens]
    claimed = [p for p in reached if AllowanceAlertRepository(db).claim(subject, period, p, now)]
    if not claimed:
        return None
    percent = max(claimed)
    customer = CustomerRepository(db).of(subject)
    for owner in UserRepository(db).list(subject, User.role == Role.OWNER):
        mail.queue(
            db,
            settings,
            customer_id=customer_id,
            to=owner.email,
            kind="allowance_alert",
            subject=f"{customer.name} has used {percent} % of its {period} allowance",
            customer=customer.name,
            plan=plan.name,
            percent=percent,
            period=period,
            used=f"{used:,}",
            allowance=f"{plan.monthly_tokens:,}",
            overage=plan.overage_allowed,
            url=mail.link(settings, "/dashboard/usage"),
        )
    return percent
