"""The few statements that PostgreSQL and SQLite spell differently, written once for both."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Table, bindparam, func, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement


def _insert(dialect: str, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both spell it alike)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


@functools.lru_cache(maxsize=64)
def _upsert(
    dialect: str,
    table: Table,
    keys: tuple[str, ...],
    increments: tuple[str, ...],
    values: tuple[str, ...],
) -> Any:
    """The statement, built once per shape: building it anew cost each question measurable
    Python time (docs/BENCHMARKS.md), in the transaction that records the answer."""
    stmt = _insert(dialect, table).values(
        {name: bindparam(name, type_=table.c[name].type) for name in keys + increments + values}
    )
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={
            **{name: table.c[name] + stmt.excluded[name] for name in increments},
            **{name: stmt.excluded[name] for name in values},
        },
    )


def upsert_increment(
    db: Session, table: Table, keys: dict[str, Any], increments: dict[str, int], **values: Any
) -> None:
    """INSERT the row or add `increments` to it, in one statement (no read-modify-write)."""
    dialect = db.get_bind().dialect.name
    stmt = _upsert(dialect, table, tuple(keys), tuple(increments), tuple(values))
    db.execute(stmt, {**keys, **increments, **values})


def insert_once(db: Session, table: Table, values: dict[str, Any]) -> bool:
    """INSERT the row unless one with the same unique key exists (ON CONFLICT DO NOTHING);
    whether this statement inserted it. Of concurrent transactions inserting the same key, one
    does; the others wait for it and insert nothing."""
    stmt = _insert(db.get_bind().dialect.name, table).values(values).on_conflict_do_nothing()
    result: Any = db.execute(stmt)
    return bool(result.rowcount == 1)


def utc_day(db: Session, column: Any) -> ColumnElement[Any]:
    """The calendar day (UTC) of a timestamp column, whatever the connection's time zone."""
    if db.get_bind().dialect.name == "postgresql":
        # a literal, not a bound parameter, so that GROUP BY matches the selected expression
        return func.date(func.timezone(literal_column("'UTC'"), column))
    return func.date(column)  # SQLite keeps timestamps as UTC text
