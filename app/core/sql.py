"""The few statements that PostgreSQL and SQLite spell differently, written once for both."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement


def _insert(db: Session, table: Table):  # noqa: ANN202 - either dialect's Insert
    is_postgres = db.get_bind().dialect.name == "postgresql"
    return (postgresql.insert if is_postgres else sqlite.insert)(table)


def upsert_increment(
    db: Session, table: Table, keys: dict[str, Any], increments: dict[str, int], **values: Any
) -> None:
    """INSERT the row or add `increments` to it, in one statement (no read-modify-write)."""
    stmt = _insert(db, table).values(**keys, **increments, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={
            **{name: table.c[name] + stmt.excluded[name] for name in increments},
            **{name: stmt.excluded[name] for name in values},
        },
    )
    db.execute(stmt)


def utc_day(db: Session, column: Any) -> ColumnElement[Any]:
    """The calendar day (UTC) of a timestamp column, whatever the connection's time zone."""
    if db.get_bind().dialect.name == "postgresql":
        # a literal, not a bound parameter, so that GROUP BY matches the selected expression
        return func.date(func.timezone(literal_column("'UTC'"), column))
    return func.date(column)  # SQLite keeps timestamps as UTC text
