"""row-level security on every tenant table (PostgreSQL), the second line of tenant isolation

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 02:20:00

Each table a customer owns shows a transaction only the rows of the customer its
`app.customer_id` setting names, or all rows while `app.bypass_rls` is `on`; with neither, none,
and it accepts no write. `app/core/tenancy.py` sets them. FORCE is not used: the tables' owner
(who runs the migrations) is not bound, a role granted only DML is (docs/POSTGRESQL.md).
SQLite has no row-level security: nothing changes there.
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BYPASS = "current_setting('app.bypass_rls', true) = 'on'"
CUSTOMER = "NULLIF(current_setting('app.customer_id', true), '')::uuid"

# table -> who may see a row
POLICIES = {
    "customers": f"id = {CUSTOMER}",
    **{
        table: f"customer_id = {CUSTOMER}"
        for table in (
            "users",
            "chatbots",
            "api_keys",
            "website_sources",
            "documents",
            "document_chunks",
            "chat_sessions",
            "chat_messages",
            "feedback",
            "demo_usage",
            "usage_records",
            "usage_totals",
            "usage_reservations",
            "invoices",
        )
    },
    # an invoice's lines are its invoice's: the subquery is itself bound by invoices' policy
    "invoice_lines": "EXISTS (SELECT 1 FROM invoices WHERE invoices.id = invoice_lines.invoice_id)",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, visible in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING ({BYPASS} OR {visible})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in POLICIES:
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
