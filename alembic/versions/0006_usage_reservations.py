"""usage reservations: tokens set aside for LLM calls under way

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 06:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa



revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('usage_reservations',
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('tokens', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_usage_reservations_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_reservations'))
    )
    with op.batch_alter_table('usage_reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usage_reservations_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_usage_reservations_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('usage_reservations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usage_reservations_expires_at'))
        batch_op.drop_index(batch_op.f('ix_usage_reservations_customer_id'))
    op.drop_table('usage_reservations')
