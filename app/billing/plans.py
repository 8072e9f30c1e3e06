"""The plan catalogue: monthly token allowance, prices per 1,000 tokens, whether overage is allowed.

Plans are rows of the `plans` table, edited by operators (customers cannot change their plan
through the API); `Customer.plan` names one. Everything reads them through `plan_for`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.billing.models import Plan
from app.core.subjects import AuthSubject
from app.customers.repository import CustomerRepository

DEFAULT_PLAN = "free"


def plan_of(db: Session, subject: AuthSubject) -> Plan:
    """The plan of the subject's customer."""
    return plan_for(db, CustomerRepository(db).of(subject).plan)


def plan_for(db: Session, name: str) -> Plan:
    """The named plan; a name the catalogue does not hold (a retired plan) gets the default."""
    plan = db.get(Plan, name) or db.get(Plan, DEFAULT_PLAN)
    if plan is None:
        raise RuntimeError(f"the plans table has no {DEFAULT_PLAN!r} plan; run the migrations")
    return plan
