"""sources beyond files: website sources, documents' origin and URL, plans' crawl limits

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# pages per crawl, link depth, KB per page; plans not named keep the column defaults (free's)
CRAWL_LIMITS = {'free': (50, 3, 512), 'starter': (1_000, 5, 1024), 'pro': (10_000, 10, 2048)}


def upgrade() -> None:
    op.create_table('website_sources',
    sa.Column('chatbot_id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('pages_found', sa.Integer(), nullable=False),
    sa.Column('pages_done', sa.Integer(), nullable=False),
    sa.Column('pages_failed', sa.Integer(), nullable=False),
    sa.Column('pages_skipped', sa.Integer(), nullable=False),
    sa.Column('issues', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_crawled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chatbot_id'], ['chatbots.id'], name=op.f('fk_website_sources_chatbot_id_chatbots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_website_sources_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_website_sources')),
    sa.UniqueConstraint('chatbot_id', 'url', name=op.f('uq_website_sources_chatbot_id'))
    )
    with op.batch_alter_table('website_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_website_sources_chatbot_id'), ['chatbot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_website_sources_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_website_sources_status'), ['status'], unique=False)

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=16), server_default='upload', nullable=False))
        batch_op.add_column(sa.Column('url', sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column('website_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_documents_website_id'), ['website_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_documents_website_id_website_sources'), 'website_sources', ['website_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_crawl_pages', sa.Integer(), server_default='50', nullable=False))
        batch_op.add_column(sa.Column('max_crawl_depth', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('max_page_kb', sa.Integer(), server_default='512', nullable=False))
    plans = sa.table(
        'plans', sa.column('name'), sa.column('max_crawl_pages'), sa.column('max_crawl_depth'),
        sa.column('max_page_kb'),
    )
    for name, (pages, depth, kb) in CRAWL_LIMITS.items():
        op.execute(
            plans.update()
            .where(plans.c.name == name)
            .values(max_crawl_pages=pages, max_crawl_depth=depth, max_page_kb=kb)
        )


def downgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('max_page_kb')
        batch_op.drop_column('max_crawl_depth')
        batch_op.drop_column('max_crawl_pages')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_documents_website_id_website_sources'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_documents_website_id'))
        batch_op.drop_column('website_id')
        batch_op.drop_column('url')
        batch_op.drop_column('origin')
    with op.batch_alter_table('website_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_website_sources_status'))
        batch_op.drop_index(batch_op.f('ix_website_sources_customer_id'))
        batch_op.drop_index(batch_op.f('ix_website_sources_chatbot_id'))
    op.drop_table('website_sources')
