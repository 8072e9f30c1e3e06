from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.core.repository import system
from app.core.subjects import AuthSubject
from app.customers.models import Customer


class CustomerRepository:
    """The customer row itself: a subject reads its own customer and no other."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def of(self, subject: AuthSubject) -> Customer:
        customer = self.db.get(Customer, subject.customer_id)
        if customer is None:  # deleted while the token was alive
            raise NotFound("Customer not found")
        return customer

    def lock(self, subject: AuthSubject) -> None:
        """Hold the customer's row until the transaction ends, so a check of its plan's caps that
        follows (count, then insert) cannot be raced by its own concurrent requests: the
        row's lock on PostgreSQL; on SQLite the write makes this the one writing transaction.
        A write, not SELECT ... FOR UPDATE, because SQLite has no row locks."""
        self.db.execute(
            update(Customer)
            .where(Customer.id == subject.customer_id)
            .values(id=Customer.id)
            .execution_options(synchronize_session=False)
        )

    def set_plan(self, subject: AuthSubject, plan: str) -> None:
        """Moves the customer to another plan (operators and benchmarks; no route does)."""
        self.db.execute(
            update(Customer).where(Customer.id == subject.customer_id).values(plan=plan)
        )

    @system("operator scripts go through every customer")
    def all_ids(self) -> Sequence[uuid.UUID]:
        """Every customer, for operator scripts (invoices, retention)."""
        return self.db.scalars(select(Customer.id).order_by(Customer.created_at)).all()
