"""Engine, sessions and the declarative base.

One session per request (`get_db`, declared in routes as `DB`): it commits when the route returns
and rolls back on any error.
Services call `flush()`, never `commit()`. Background jobs use `session_scope()` the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import (
    DateTime,
    Engine,
    MetaData,
    TypeDecorator,
    Uuid,
    create_engine,
    event,
    text,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.pool import NullPool

from app.core import tenancy
from app.core.deps import SessionFactory

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware (UTC).

    PostgreSQL keeps the zone; SQLite stores text and returns naive datetimes, which would make
    the API's timestamps gain or lose their `Z` depending on the database.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


SQLITE_MMAP_BYTES = 256 * 1024 * 1024


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # no pre-ping: a connection to a local file cannot drop, and the ping was one more
        # statement on every checkout (two per question)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            # WAL lets the ingestion worker write while requests read; FKs are off by default
            cur.execute("PRAGMA journal_mode=WAL")
            # with WAL, NORMAL is corruption-safe and skips an fsync per commit
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # read pages through the OS page cache, shared by every connection, instead of
            # copying them into each connection's 2 MB cache: the full-text query of a question
            # over 2,000 chunks took 3.5 ms with the default, 2.5 ms with this
            cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed (e.g. enqueue a job)."""
    session.info.setdefault("after_commit", []).append(callback)


@contextmanager
def session_scope(
    factory: sessionmaker[Session], *, bypass: str | None = None
) -> Iterator[Session]:
    """A session committed when the block ends and rolled back on any error. `bypass` (why):
    a job's or script's session, which sees every customer's rows (`app/core/tenancy.py`)."""
    session = factory()
    if bypass is not None:
        tenancy.bypass(session, bypass)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        callbacks = session.info.pop("after_commit", [])
        session.close()
    for callback in callbacks:
        callback()


def make_probe_engine(url: str) -> Engine:
    """An engine of its own for the health probe, holding no pooled connection: requests can
    fill the application's pool (a customer's burst once made /health wait 30 s, then 503),
    and the probe must still tell whether the database answers."""
    args = {"check_same_thread": False, "timeout": 5} if url.startswith("sqlite") else {}
    return create_engine(url, poolclass=NullPool, connect_args=args)


def database_answers(engine: Engine) -> bool:
    """Whether the database answers a trivial statement (the health probe)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any failure means the same to a probe: not ready
        return False
    return True


_WROTE = "wrote"  # session.info: the transaction in progress has written


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_ended(session: Session) -> None:
    session.info.pop(_WROTE, None)


def end_reads(session: Session) -> None:
    """End a transaction that has only read, before a long wait outside the database (embedding
    the question, the LLM call), so that no pooled connection idles in a transaction meanwhile;
    the session opens a new one at its next statement.

    What a request writes is committed by the session's owner only (`get_db`, `session_scope`),
    never by a service: so this refuses a transaction that wrote anything (RuntimeError). A
    write that must be seen before the request ends takes a short session of its own (the
    question's reservation: `Admission.reserve`)."""
    if session.info.get(_WROTE):
        raise RuntimeError("end_reads() on a transaction that wrote: its session's owner commits")
    session.commit()  # nothing to write: it ends the transaction without expiring what was read


def get_db(factory: SessionFactory) -> Iterator[Session]:
    with session_scope(factory) as session:
        yield session


# scope="function": commit before the response is sent, so a 2xx means the data is stored
DB = Annotated[Session, Depends(get_db, scope="function")]
