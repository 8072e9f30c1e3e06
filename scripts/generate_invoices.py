#!/usr/bin/env python
"""Make every customer's invoice for one month from its usage records.

    .venv/bin/python scripts/generate_invoices.py --period 2026-11

Uses DATABASE_URL (app settings). Idempotent: an invoice that exists is returned, never made
twice; a running month's invoice is a draft that the next run recomputes, and the first run after
the month ends issues it. Customers without usage in the month are skipped. One transaction per
customer, so one failure does not undo the others.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tqdm import tqdm  # noqa: E402

import app.models  # noqa: E402, F401 - every table, so that all mappers configure
from app.billing.invoices import Outcome, generate_invoice  # noqa: E402
from app.billing.service import period_bounds  # noqa: E402
from app.core.config import get_settings  # noqa: E402
from app.core.database import make_engine, make_sessionmaker, session_scope  # noqa: E402
from app.core.errors import AppError, NotFound  # noqa: E402
from app.core.subjects import OperatorSubject  # noqa: E402
from app.customers.repository import CustomerRepository  # noqa: E402


def last_month() -> str:
    first_of_this_month = datetime.now(UTC).replace(day=1)
    return (first_of_this_month - timedelta(days=1)).strftime("%Y-%m")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--period", default=last_month(), help="YYYY-MM (default: last month)")
    args = parser.parse_args()
    try:
        period_bounds(args.period)
    except AppError as exc:
        parser.error(exc.message)

    engine = make_engine(get_settings().database_url)
    factory = make_sessionmaker(engine)
    with factory() as db:
        customer_ids = CustomerRepository(db).all_ids()

    outcomes: Counter[str] = Counter()
    for customer_id in tqdm(customer_ids, desc=f"invoices {args.period}", disable=None):
        subject = OperatorSubject(customer_id)
        try:
            with session_scope(factory, bypass="operator script generate_invoices") as db:
                name = CustomerRepository(db).of(subject).name
                generated = generate_invoice(db, subject, args.period)
                invoice = generated.invoice
                detail = (
                    f"{invoice.invoice_number} {invoice.amount:.2f} {invoice.currency} "
                    f"({invoice.status})"
                    if invoice
                    else "no usage"
                )
        except NotFound:  # deleted since the list was read
            continue
        except AppError as exc:
            outcomes["failed"] += 1
            tqdm.write(f"failed     {customer_id}: {exc.message}")
            continue
        outcomes[generated.outcome] += 1
        tqdm.write(f"{generated.outcome:<10} {name} ({customer_id}): {detail}")

    counts = ", ".join(f"{o} {outcomes[o]}" for o in [*Outcome, "failed"])
    print(f"{args.period}: {counts}")
    engine.dispose()
    return 1 if outcomes["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
