"""The second line of tenant isolation: PostgreSQL's row-level security.

The first line is the repositories (`app/core/repository.py`): every statement on a tenant table
is scoped to the subject that asks. The second is in the database. Migration 0011 gives every
tenant table a policy that shows a transaction only the rows of the customer its
`app.customer_id` setting names, or every row while its `app.bypass_rls` setting is `on`; with
neither, it shows nothing and accepts no write. So a statement that forgot its scope, inside a
request, still sees only the caller's customer.

- A request's subject sets the customer once it is known (`act_for`: the JWT's customer, a key's
  customer), before anything of the customer is read.
- A repository method marked `@system` (a key found by its hash, a user by the email signing
  in) runs with the bypass for its own duration only.
- Background jobs and operator scripts, which act for every customer, open their sessions with
  an explicit bypass that names why (`session_scope(factory, bypass="...")`); it is logged.

The settings are transaction-local (`set_config(..., true)`): they end with the transaction,
and a pooled connection never carries one customer's setting into another's request; the
session applies them again at the start of each transaction it begins.

Policies bind only roles that neither own the tables nor have BYPASSRLS (PostgreSQL's rule):
migrations run as the tables' owner, the application as a role granted only DML
(`docs/POSTGRESQL.md`). On SQLite all of this is a no-op.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

_KEY = "tenancy"  # session.info[_KEY]: (customer id or "", "on" | "off")
_NOBODY = ("", "off")
_SET = text(
    "SELECT set_config('app.customer_id', :customer, true), "
    "set_config('app.bypass_rls', :bypass, true)"
)


def act_for(db: Session, customer_id: uuid.UUID) -> None:
    """The session's statements see `customer_id`'s rows from now on (its request's subject)."""
    _set(db, (str(customer_id), "off"))


def bypass(db: Session, reason: str) -> None:
    """The session's statements see every customer's rows: a job or script acting for all."""
    log.debug("row-level security bypassed: %s", reason)
    _set(db, ("", "on"))


@contextmanager
def system_access(db: Session) -> Iterator[None]:
    """Every customer's rows for the block (an `@system` method), then what was before."""
    before = db.info.get(_KEY, _NOBODY)
    _set(db, ("", "on"))
    try:
        yield
    finally:
        _set(db, before)


def _set(db: Session, state: tuple[str, str]) -> None:
    if db.info.get(_KEY, _NOBODY) == state:
        return
    db.info[_KEY] = state
    # inside a transaction it applies now; otherwise the transaction's beginning applies it
    if db.in_transaction() and _on_postgresql(db):
        customer, bypassed = state
        db.execute(_SET, {"customer": customer, "bypass": bypassed})


def _on_postgresql(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


@event.listens_for(Session, "after_begin")
def _apply_on_begin(session: Session, _transaction: SessionTransaction, connection: Any) -> None:
    state = session.info.get(_KEY, _NOBODY)
    if state != _NOBODY and connection.dialect.name == "postgresql":
        customer, bypassed = state
        connection.execute(_SET, {"customer": customer, "bypass": bypassed})
