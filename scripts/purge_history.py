#!/usr/bin/env python
"""Delete chat history older than each customer's retention (`retention_days`).

    .venv/bin/python scripts/purge_history.py

Uses DATABASE_URL (app settings). Messages older than the retention go, then the sessions they
leave empty; usage records stay (their links to the history become empty), so usage reports and
invoices add up as before. Prints what it deleted per customer. Run it daily.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import app.models  # noqa: E402, F401 - every table, so that all mappers configure
from app.chat.retention import purge_history  # noqa: E402
from app.core.config import get_settings  # noqa: E402
from app.core.database import make_engine, make_sessionmaker, session_scope  # noqa: E402
from app.core.errors import NotFound  # noqa: E402
from app.core.subjects import OperatorSubject  # noqa: E402
from app.customers.repository import CustomerRepository  # noqa: E402


def main() -> int:
    engine = make_engine(get_settings().database_url)
    factory = make_sessionmaker(engine)
    with factory() as db:
        customer_ids = CustomerRepository(db).all_ids()

    sessions = messages = 0
    for customer_id in customer_ids:
        subject = OperatorSubject(customer_id)
        with session_scope(factory, bypass="operator script purge_history") as db:
            try:
                customer = CustomerRepository(db).of(subject)
            except NotFound:  # deleted since the list was read
                continue
            purged = purge_history(db, subject)
            print(
                f"{customer.name} ({customer.id}): {purged.sessions} sessions and "
                f"{purged.messages} messages older than {customer.retention_days} days deleted"
            )
        sessions += purged.sessions
        messages += purged.messages
    print(f"{len(customer_ids)} customers: {sessions} sessions and {messages} messages deleted")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
