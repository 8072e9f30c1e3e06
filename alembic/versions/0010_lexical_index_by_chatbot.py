"""the SQLite full-text index keyed by chatbot, so a question searches its own chatbot's chunks

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:50:00

0008's FTS5 table indexed `search_text` alone: a question matched every tenant's chunks holding
its words and only then kept its chatbot's, so its cost grew with all the chunks on the node
(docs/BENCHMARKS.md, "Lexical search with many tenants"). The table now also
indexes `chatbot_id` (one token: its 32 hex digits), and a question asks for
`chatbot_id : "<id>" AND (its words)`, which FTS5 answers by intersecting the two lists
(20x faster at a million chunks, same ranking with the column's weight 0). The index is rebuilt from
`document_chunks`. PostgreSQL is unchanged: its planner filters by the chatbot's index.
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TRIGGERS = ("document_chunks_fts_insert", "document_chunks_fts_delete", "document_chunks_fts_update")


def _index(columns: str) -> list[str]:
    """The FTS5 table over `columns` of document_chunks, its triggers, and its rebuild."""
    new = ", ".join(f"new.{c}" for c in columns.split(", "))
    old = ", ".join(f"old.{c}" for c in columns.split(", "))
    return [
        f"""CREATE VIRTUAL TABLE document_chunks_fts USING fts5(
            {columns}, content='document_chunks', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2')""",
        f"""CREATE TRIGGER document_chunks_fts_insert AFTER INSERT ON document_chunks BEGIN
            INSERT INTO document_chunks_fts(rowid, {columns}) VALUES (new.id, {new});
        END""",
        f"""CREATE TRIGGER document_chunks_fts_delete AFTER DELETE ON document_chunks BEGIN
            INSERT INTO document_chunks_fts(document_chunks_fts, rowid, {columns})
            VALUES ('delete', old.id, {old});
        END""",
        f"""CREATE TRIGGER document_chunks_fts_update AFTER UPDATE ON document_chunks BEGIN
            INSERT INTO document_chunks_fts(document_chunks_fts, rowid, {columns})
            VALUES ('delete', old.id, {old});
            INSERT INTO document_chunks_fts(rowid, {columns}) VALUES (new.id, {new});
        END""",
        "INSERT INTO document_chunks_fts(document_chunks_fts) VALUES ('rebuild')",
    ]


def _replace_index(columns: str) -> None:
    if op.get_context().dialect.name != 'sqlite':
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS document_chunks_fts")
    for statement in _index(columns):
        op.execute(statement)


def upgrade() -> None:
    _replace_index("chatbot_id, search_text")


def downgrade() -> None:
    _replace_index("search_text")
