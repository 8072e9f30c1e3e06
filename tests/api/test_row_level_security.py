"""PostgreSQL's row-level security, the second line behind the repositories: the application runs
as a role granted only DML (as docs/POSTGRESQL.md deploys it), and a statement that forgot its
scope, inside a request, still sees only the caller's customer. `test_row_level_security_matrix`
runs the whole role matrix under the same role.
"""

from __future__ import annotations

import logging
import uuid

import pytest
from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.deps import CurrentUser
from app.chatbots.models import Chatbot
from app.core.database import DB, Base, session_scope
from app.core.tenancy import act_for
from tests.api.rls import *  # noqa: F403 - the fixtures
from tests.api.rls import APP_ROLE
from tests.chat.conftest import make_ready_bot


def _unscoped_routes() -> APIRouter:
    """Routes that forget the tenant scope on purpose, as a careless change would."""
    router = APIRouter()

    @router.get("/_test/unscoped/documents")
    def documents(db: DB, user: CurrentUser) -> list[str]:
        rows = db.execute(text("SELECT customer_id FROM documents"))
        return [str(customer) for (customer,) in rows]

    @router.get("/_test/unscoped/anonymous")
    def anonymous(db: DB) -> dict[str, int]:
        return {
            table: db.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
            for table in ("documents", "chatbots", "users", "customers", "api_keys")
        }

    return router


def test_the_application_role_is_bound_by_the_policies(owner: Session, app_url: str) -> None:
    flags = owner.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :role"),
        {"role": APP_ROLE},
    ).one()
    assert tuple(flags) == (False, False)
    tables = owner.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity"
        )
    ).scalars()
    tenant_tables = {
        table.name
        for table in Base.metadata.sorted_tables
        if "customer_id" in table.c or table.name in {"customers", "invoice_lines"}
    }
    assert tenant_tables <= set(tables)


def test_an_unscoped_query_in_a_request_sees_only_the_callers_customer(
    app, register, owner: Session
) -> None:
    app.include_router(_unscoped_routes())
    a, b = register("Acme"), register("Globex")
    make_ready_bot(a)
    make_ready_bot(b)
    stored = owner.execute(text("SELECT DISTINCT customer_id FROM documents")).scalars().all()
    assert {str(c) for c in stored} == {a.customer_id, b.customer_id}

    for tenant in (a, b):
        seen = tenant.get("/_test/unscoped/documents")
        assert seen.status_code == 200, seen.text
        assert seen.json() and set(seen.json()) == {tenant.customer_id}

    # a request whose subject is not known sees no customer's rows at all
    nobody = a.client.get("/_test/unscoped/anonymous")
    assert nobody.status_code == 200, nobody.text
    assert nobody.json() == {
        "documents": 0,
        "chatbots": 0,
        "users": 0,
        "customers": 0,
        "api_keys": 0,
    }


def test_a_write_for_another_customer_is_refused_by_the_database(register, app) -> None:
    a, b = register("Acme"), register("Globex")
    refused = pytest.raises(Exception, match="row-level security")
    with refused, session_scope(app.state.sessionmaker) as db:
        act_for(db, uuid.UUID(a.customer_id))
        db.add(Chatbot(customer_id=uuid.UUID(b.customer_id), name="planted"))
        db.flush()


def test_the_product_works_for_each_customer_through_every_door(register, owner, caplog) -> None:
    """The paths a customer takes, under the policies: sign-up, sign-in, a chatbot, an upload
    ingested by the background job (its logged bypass), questions through the dashboard, the
    public key and the retrieval playground, the usage that records them, a deletion."""
    caplog.set_level(logging.DEBUG, logger="app.core.tenancy")
    a, b = register("Acme"), register("Globex")
    bot = make_ready_bot(a)
    make_ready_bot(b)
    assert "row-level security bypassed: document ingestion" in caplog.text

    asked = a.post(
        f"/api/{a.customer_id}/{bot['id']}/query", json={"question": "How long is the warranty?"}
    )
    assert asked.status_code == 200, asked.text
    public = a.client.post(
        f"/api/public/{bot['id']}/query",
        headers={"X-API-Key": bot["secret_key"]},
        json={"question": "Can I return an item?"},
    )
    assert public.status_code == 200, public.text
    retrieved = a.post(f"/api/chatbots/{bot['id']}/retrieve", json={"question": "returns"})
    assert retrieved.status_code == 200 and retrieved.json()["chunks"], retrieved.text
    sessions = a.get(f"/api/chatbots/{bot['id']}/sessions").json()
    assert len(sessions) == 2
    assert a.get("/api/usage/summary").json()["queries"] == 2
    assert b.get("/api/usage/summary").json()["queries"] == 0

    [document] = a.get(f"/api/chatbots/{bot['id']}/documents").json()
    assert a.delete(f"/api/documents/{document['id']}").status_code == 204
    assert a.delete(f"/api/chatbots/{bot['id']}").status_code == 204
    left = owner.execute(
        text("SELECT count(*) FROM documents WHERE customer_id = :c"), {"c": a.customer_id}
    ).scalar()
    assert left == 0


def test_a_jobs_session_without_its_bypass_sees_nothing(register, app) -> None:
    a = register("Acme")
    make_ready_bot(a)
    with session_scope(app.state.sessionmaker) as db:
        assert db.scalar(text("SELECT count(*) FROM documents")) == 0
    with session_scope(app.state.sessionmaker, bypass="a test acting for every customer") as db:
        assert db.scalar(text("SELECT count(*) FROM documents")) == 1
