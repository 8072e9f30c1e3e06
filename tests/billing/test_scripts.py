"""The operators' scripts, run as they are run: a separate process on the same database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from app.billing.service import current_period
from app.chat.models import ChatMessage, ChatSession, Feedback
from app.core.database import utcnow
from tests.billing.factories import (
    add_exchange,
    add_plan,
    add_usage,
    ask,
    db_of,
    set_plan,
    usage_records,
    utc,
)

ROOT = Path(__file__).resolve().parents[2]


def run_script(name: str, *args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "ENV": "test", "SECRET_KEY": "s" * 48}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_invoice_script_is_idempotent(tenant, register, database_url):
    globex, idle = register("Globex"), register("Initech")
    add_plan(tenant, "metered", "0.0030", "0.0125")
    for customer in (tenant, globex):
        set_plan(customer, "metered")
        bot = customer.create_chatbot()
        add_usage(customer, bot, 166_667, 2_000, at=utc(2026, 10, 9))
        add_usage(customer, bot, 10**6, 10**6, at=utc(2026, 11, 1))  # the next month

    first = run_script("generate_invoices.py", "--period", "2026-10", database_url=database_url)
    assert first.returncode == 0, first.stderr
    out = first.stdout.splitlines()
    assert out[0].startswith(f"created    Acme ({tenant.customer_id}): INV-2026-000001 0.53 USD")
    assert out[1].startswith(f"created    Globex ({globex.customer_id}): INV-2026-000002 0.53 USD")
    assert out[2] == f"skipped    Initech ({idle.customer_id}): no usage"
    assert out[-1] == "2026-10: created 2, refreshed 0, issued 0, unchanged 0, skipped 1, failed 0"

    again = run_script("generate_invoices.py", "--period", "2026-10", database_url=database_url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == (
        "2026-10: created 0, refreshed 0, issued 0, unchanged 2, skipped 1, failed 0"
    )
    for customer, number in ((tenant, "INV-2026-000001"), (globex, "INV-2026-000002")):
        [invoice] = customer.get("/api/billing/invoices").json()
        assert (invoice["invoice_number"], invoice["amount"], invoice["status"]) == (
            number,
            "0.53",
            "issued",
        )
    assert idle.get("/api/billing/invoices").json() == []


def test_invoice_script_refuses_a_malformed_period(database_url):
    r = run_script("generate_invoices.py", "--period", "2026-1", database_url=database_url)
    assert r.returncode == 2
    assert "is not a period like 2026-11" in r.stderr


def test_purge_deletes_expired_history_and_keeps_usage_records(
    client, tenant, other_tenant, ready_bot, database_url
):
    add_plan(tenant, "premium", "1.2345", "2.3456")
    set_plan(tenant, "premium")
    tenant.patch("/api/billing/info", json={"retention_days": 30})
    old = ask(client, ready_bot, "How long do I have to return an item?").json()
    recent = ask(client, ready_bot, "What does the Alpha 200 weigh?").json()
    rated = client.post(
        f"/api/public/{ready_bot['id']}/feedback",
        json={"message_id": old["message_id"], "rating": "up"},
        headers={"X-API-Key": ready_bot["secret_key"]},
    )
    assert rated.status_code == 201
    add_exchange(tenant, ready_bot, "Sixty days ago?", at=utcnow() - timedelta(days=60))
    theirs = other_tenant.create_chatbot(name="Theirs")
    add_exchange(other_tenant, theirs, "Sixty days ago?", at=utcnow() - timedelta(days=60))
    # the first conversation happened 100 days ago; its usage record stays in this month
    aged = utcnow() - timedelta(days=100)
    with db_of(tenant) as db:
        session_id = uuid.UUID(old["session_id"])
        db.execute(
            update(ChatMessage).where(ChatMessage.session_id == session_id).values(created_at=aged)
        )
        db.execute(
            update(ChatSession).where(ChatSession.id == session_id).values(last_message_at=aged)
        )
    invoice = tenant.post(
        "/api/billing/invoices/generate", params={"period": current_period()}
    ).json()
    usage = tenant.get("/api/usage").json()

    r = run_script("purge_history.py", database_url=database_url)
    assert r.returncode == 0, r.stderr
    assert (
        f"Acme ({tenant.customer_id}): 2 sessions and 4 messages older than 30 days deleted"
        in r.stdout
    )
    assert (
        f"Globex ({other_tenant.customer_id}): 0 sessions and 0 messages older than 90 days deleted"
        in r.stdout
    )

    sessions = tenant.get(f"/api/chatbots/{ready_bot['id']}/sessions").json()
    assert [s["id"] for s in sessions] == [recent["session_id"]]
    assert len(other_tenant.get(f"/api/chatbots/{theirs['id']}/sessions").json()) == 1
    records = usage_records(tenant)
    assert len(records) == 2
    by_message = {str(rec.message_id): rec for rec in records}
    assert set(by_message) == {"None", recent["message_id"]}
    assert by_message["None"].session_id is None
    with db_of(tenant) as db:
        assert db.scalars(select(Feedback)).all() == []

    assert tenant.get("/api/usage").json() == usage
    refreshed = tenant.post(
        "/api/billing/invoices/generate", params={"period": current_period()}
    ).json()
    assert (refreshed["amount"], refreshed["lines"]) == (invoice["amount"], invoice["lines"])
    assert refreshed["input_tokens"] == sum(
        u["input_tokens"] for u in (old["usage"], recent["usage"])
    )
