from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from app.auth.models import User
from app.core.errors import NotFound
from app.core.repository import TenantRepository, system
from app.core.subjects import AuthSubject, UserSubject
from app.customers.models import Customer, Invitation


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


def _open(now: datetime) -> list[ColumnElement[bool]]:
    """An invitation whose link still works: not accepted, not revoked, not expired."""
    return [
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    ]


class InvitationRepository(TenantRepository[Invitation]):
    model = Invitation
    label = "Invitation"

    def pending(self, subject: UserSubject, now: datetime) -> list[tuple[Invitation, str | None]]:
        """The customer's invitations still open, newest first, each with its inviter's email
        (None once the inviter has left the team)."""
        stmt = (
            select(Invitation, User.email)
            .outerjoin(User, User.id == Invitation.invited_by)
            .where(*self.scope(subject), *_open(now))
            .order_by(Invitation.created_at.desc(), Invitation.id)
        )
        return [(invitation, inviter) for invitation, inviter in self.db.execute(stmt)]

    def revoke_for_address(self, subject: UserSubject, email: str, now: datetime) -> None:
        """Revokes the address's invitations not yet accepted: a new one replaces them."""
        self.db.execute(
            update(Invitation)
            .where(
                *self.scope(subject),
                Invitation.email == email,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )

    @system("an invitation link is opened by someone not signed in")
    def by_token(self, token_hash: str) -> tuple[Invitation, str] | None:
        """The invitation whose link carries this token, with its customer's name."""
        stmt = (
            select(Invitation, Customer.name)
            .join(Customer, Customer.id == Invitation.customer_id)
            .where(Invitation.token_hash == token_hash)
        )
        row = self.db.execute(stmt).one_or_none()
        return None if row is None else (row[0], row[1])

    @system("an invitation is accepted by someone not signed in")
    def accept(self, invitation_id: uuid.UUID, now: datetime) -> bool:
        """Marks the invitation accepted if its link still works, in one statement: of two
        requests accepting it at once, the database lets exactly one change the row, and the
        other finds it no longer open (False)."""
        result = self.db.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, *_open(now))
            .values(accepted_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]
