"""document chunks and their full-text index (hybrid retrieval)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:15:00

SQLite: an FTS5 table over `search_text` with external content, kept in step by triggers
(insert, delete, update; foreign-key cascades fire them too). PostgreSQL: a generated `tsvector`
column with the 'simple' configuration (no stemming or stop words of one language: chunks are in
any language) and a GIN index. Existing documents get their rows when they are reindexed.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SQLITE_INDEX = [
    # remove_diacritics 2: "resume" finds "résumé"; tokens are split on anything not a letter or
    # digit, so "--list" is the word "list"
    """CREATE VIRTUAL TABLE document_chunks_fts USING fts5(
        search_text, content='document_chunks', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER document_chunks_fts_insert AFTER INSERT ON document_chunks BEGIN
        INSERT INTO document_chunks_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    """CREATE TRIGGER document_chunks_fts_delete AFTER DELETE ON document_chunks BEGIN
        INSERT INTO document_chunks_fts(document_chunks_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END""",
    """CREATE TRIGGER document_chunks_fts_update AFTER UPDATE ON document_chunks BEGIN
        INSERT INTO document_chunks_fts(document_chunks_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO document_chunks_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
]
POSTGRES_INDEX = [
    """ALTER TABLE document_chunks ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED""",
    "CREATE INDEX ix_document_chunks_search_vector ON document_chunks USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table('document_chunks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('chatbot_id', sa.Uuid(), nullable=False),
    sa.Column('document_id', sa.Uuid(), nullable=False),
    sa.Column('chunk_index', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['chatbot_id'], ['chatbots.id'], name=op.f('fk_document_chunks_chatbot_id_chatbots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_document_chunks_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_chunks_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_chunks')),
    sa.UniqueConstraint('document_id', 'chunk_index', name=op.f('uq_document_chunks_document_id'))
    )
    with op.batch_alter_table('document_chunks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_chunks_chatbot_id'), ['chatbot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_chunks_customer_id'), ['customer_id'], unique=False)
    statements = SQLITE_INDEX if op.get_context().dialect.name == 'sqlite' else POSTGRES_INDEX
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == 'sqlite':
        op.execute("DROP TABLE document_chunks_fts")
    with op.batch_alter_table('document_chunks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_chunks_customer_id'))
        batch_op.drop_index(batch_op.f('ix_document_chunks_chatbot_id'))
    op.drop_table('document_chunks')
