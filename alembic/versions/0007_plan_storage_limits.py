"""plans cap the documents and chunks a customer stores

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 07:15:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LIMITS = {'free': (50, 10_000), 'starter': (1_000, 200_000)}  # pro: no limit


def upgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_documents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('max_chunks', sa.Integer(), nullable=True))
    plans = sa.table('plans', sa.column('name'), sa.column('max_documents'), sa.column('max_chunks'))
    for name, (documents, chunks) in LIMITS.items():
        op.execute(
            plans.update()
            .where(plans.c.name == name)
            .values(max_documents=documents, max_chunks=chunks)
        )


def downgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('max_chunks')
        batch_op.drop_column('max_documents')
