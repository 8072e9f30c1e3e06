"""issued invoices outlive their customer: invoices.customer_id nullable, ON DELETE SET NULL

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 12:00:00

Deleting an account deletes its customer row, and with it (by the foreign keys' cascade) every
row the customer owns, except its issued invoices: tax law keeps them for years. Their
`customer_id` becomes NULL instead; `billed_to` still names the billed party as it stood.
Migration 0011's policy on invoices (`customer_id = app.customer_id`) is never true of NULL, so
such an invoice, and its lines (whose policy asks for a visible invoice), are seen only with the
bypass: by operators, never by a customer's request.
"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FK = "fk_invoices_customer_id_customers"


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")
        batch_op.alter_column("customer_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_foreign_key(FK, "customers", ["customer_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    # invoices of deleted customers have no customer to go back to
    op.execute("DELETE FROM invoices WHERE customer_id IS NULL")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")
        batch_op.alter_column("customer_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_foreign_key(FK, "customers", ["customer_id"], ["id"], ondelete="CASCADE")
