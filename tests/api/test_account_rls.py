"""Deleting an account under PostgreSQL's row-level security, as the application's role: the
foreign keys' cascade still takes every row of the customer, and an issued invoice it leaves
without a customer is seen only with the bypass (operators), by no customer's request."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text

from app.billing.models import Invoice
from app.core.database import Base, session_scope
from app.core.tenancy import act_for
from tests.api.rls import *  # noqa: F403 - the fixtures
from tests.api.test_account_export_delete import PASSWORD, delete_account, export, fill


def test_deletion_under_row_level_security_keeps_issued_invoices_for_operators_only(
    register, app, owner
) -> None:
    account = fill(app, register("Acme"), "Acme")
    neighbour = fill(app, register("Globex"), "Globex")
    assert export(account.owner).namelist()
    r = delete_account(account.owner, {"password": PASSWORD, "confirm": "Acme"})
    assert r.status_code == 204, r.text

    gone = uuid.UUID(account.owner.customer_id)
    for table in Base.metadata.sorted_tables:
        column = table.c.id if table.name == "customers" else table.c.get("customer_id")
        if column is not None:
            stmt = select(func.count()).select_from(table).where(column == gone)
            assert owner.scalar(stmt) == 0, table.name
    kept = owner.execute(
        text("SELECT customer_id, status FROM invoices WHERE invoice_number = :n"),
        {"n": account.issued},
    ).one()
    assert tuple(kept) == (None, "issued")

    by_number = select(Invoice).where(Invoice.invoice_number == account.issued)
    with session_scope(app.state.sessionmaker) as db:
        act_for(db, uuid.UUID(neighbour.owner.customer_id))
        assert db.scalars(by_number).all() == []
    with session_scope(app.state.sessionmaker, bypass="an operator reading kept invoices") as db:
        [invoice] = db.scalars(by_number).all()
        assert invoice.billed_to["name"] == "Acme" and len(invoice.lines) == 2
    numbers = [i["invoice_number"] for i in neighbour.owner.get("/api/billing/invoices").json()]
    assert numbers == [neighbour.draft, neighbour.issued]
