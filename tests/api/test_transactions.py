"""What a request writes is committed by its session's owner (`get_db`, `session_scope`), never
by a service: a service that must free its connection before a long wait ends a transaction
that only read (`end_reads`), which refuses one that wrote, in the ORM or in a Core statement."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, insert, select

from app.core.database import end_reads
from app.core.tenancy import bypass
from app.customers.models import Customer
from tests.conftest import operator_db


def _customer(name: str) -> dict[str, object]:
    return {"id": uuid.uuid4(), "name": name, "contact_email": f"{name}@example.com"}


def _count(app, name: str) -> int:
    with operator_db(app) as db:
        return db.scalar(select(func.count()).where(Customer.name == name)) or 0


def test_end_reads_ends_a_transaction_that_only_read_and_keeps_what_it_read(app):
    with app.state.sessionmaker() as db:
        bypass(db, "a test")
        db.add(Customer(**_customer("read-me")))
        db.commit()
        found = db.scalars(select(Customer).where(Customer.name == "read-me")).one()
        assert db.in_transaction()
        end_reads(db)
        assert not db.in_transaction()
        assert found.contact_email == "read-me@example.com"  # not expired: no new transaction
        assert not db.in_transaction()


@pytest.mark.parametrize("how", ["orm", "core"])
def test_end_reads_refuses_a_transaction_that_wrote_and_commits_nothing(app, how):
    with app.state.sessionmaker() as db:
        bypass(db, "a test")
        if how == "orm":
            db.add(Customer(**_customer(f"written-{how}")))
            db.flush()
        else:
            db.execute(insert(Customer).values(**_customer(f"written-{how}")))
        with pytest.raises(RuntimeError, match="wrote"):
            end_reads(db)
        db.rollback()
    assert _count(app, f"written-{how}") == 0


def test_a_transaction_after_a_commit_starts_clean(app):
    with app.state.sessionmaker() as db:
        bypass(db, "a test")
        db.add(Customer(**_customer("committed")))
        db.commit()  # the owner's commit
        db.scalar(select(func.count()).select_from(Customer))
        end_reads(db)  # the next transaction only read
    assert _count(app, "committed") == 1
