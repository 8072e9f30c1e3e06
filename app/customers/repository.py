from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import NotFound
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

    def all_ids(self) -> Sequence[uuid.UUID]:
        """Every customer, for operator scripts (invoices, retention)."""
        return self.db.scalars(select(Customer.id).order_by(Customer.created_at)).all()
