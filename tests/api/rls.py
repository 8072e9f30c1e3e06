"""Fixtures that run the app as a PostgreSQL role bound by row-level security.

A module that imports them (`from tests.api.rls import *`) overrides `make_settings`, `app` and
`owner`: its `client`, `register` and `app_with` serve an app connected as a role granted only
DML on the tables (as docs/POSTGRESQL.md deploys it); tables are wiped as their owner. On
SQLite the tests are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from app.main import create_app
from tests.conftest import settings_builder, wipe

__all__ = ["APP_ROLE", "app", "app_url", "make_settings", "owner", "owner_url"]

APP_ROLE = "rag_app_rls"


@pytest.fixture
def owner_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("row-level security is PostgreSQL's")
    return database_url


@pytest.fixture
def app_url(owner_url: str) -> str:
    """The database as the application's role: DML on every table, owner of none."""
    engine = create_engine(owner_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') "
                f"THEN CREATE ROLE {APP_ROLE} LOGIN; END IF; END $$"
            )
        )
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}"))
        conn.execute(
            text(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}"
            )
        )
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}"))
    engine.dispose()
    return make_url(owner_url).set(username=APP_ROLE, password=None).render_as_string(False)


@pytest.fixture
def make_settings(app_url: str, tmp_path: Path):
    return settings_builder(app_url, tmp_path)


@pytest.fixture
def owner(owner_url: str) -> Iterator[Session]:
    """A session as the tables' owner, whom the policies do not bind: what is really stored."""
    engine = create_engine(owner_url)
    with Session(engine) as session:
        yield session
    wipe(engine)


@pytest.fixture
def app(settings, owner):
    application = create_app(settings)
    yield application
    application.state.engine.dispose()
