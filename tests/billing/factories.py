"""Test data for billing and analytics: plans, usage records and chat history written straight
through the services (the billing input), and a chatbot that answers real questions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, update

from app.billing.models import Plan, UsageRecord
from app.billing.service import record_usage
from app.chat.models import ChatMessage, ChatSession
from app.core.database import session_scope, utcnow
from app.customers.models import Customer
from app.llm import Usage
from tests.api.test_documents import upload, wait_until_done

DOCUMENT = """# Alpha 200 blender

The Alpha 200 blender has a 1200 W motor and a 1.5 litre glass jar. It weighs 3.2 kg.

# Returns

Returns are accepted within 30 days of delivery. Refunds go back to the original payment
method within five business days.
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def db_of(tenant, app=None):
    """A session on the tenant's app: its TestClient's, or `app` for a live server's tenant."""
    return session_scope(
        (app or tenant.client.app).state.sessionmaker, bypass="test data written as the operator"
    )


def add_plan(tenant, name: str, price_in: str, price_out: str, **values: object) -> None:
    """Create or replace a plan (plans outlive each test: `wipe` keeps the seeded catalogue)."""
    with db_of(tenant) as db:
        db.merge(
            Plan(
                name=name,
                monthly_tokens=values.get("monthly_tokens", 10**9),
                price_per_1k_input=Decimal(price_in),
                price_per_1k_output=Decimal(price_out),
                overage_allowed=values.get("overage_allowed", True),
            )
        )


def set_plan(tenant, name: str) -> None:
    """What an operator does: there is no customer API for it."""
    with db_of(tenant) as db:
        db.execute(
            update(Customer).where(Customer.id == uuid.UUID(tenant.customer_id)).values(plan=name)
        )


def add_usage(
    tenant,
    bot: dict,
    input_tokens: int,
    output_tokens: int,
    at: datetime | None = None,
    app=None,
):
    with db_of(tenant, app) as db:
        record_usage(
            db,
            customer_id=uuid.UUID(tenant.customer_id),
            chatbot_id=uuid.UUID(bot["id"]),
            session_id=None,
            message_id=None,
            model="test-model",
            provider="test",
            usage=Usage(input_tokens, output_tokens),
            now=at,
        )


def usage_records(tenant) -> list[UsageRecord]:
    with db_of(tenant) as db:
        stmt = select(UsageRecord).where(UsageRecord.customer_id == uuid.UUID(tenant.customer_id))
        return list(db.scalars(stmt))


def add_exchange(
    tenant, bot: dict, question: str, *, unanswered: bool = False, at: datetime | None = None
) -> tuple[str, str]:
    """A session with one question and its answer, as the RAG service records them; returns the
    (session id, answer message id)."""
    at = at or utcnow()
    ids = dict(customer_id=uuid.UUID(tenant.customer_id), chatbot_id=uuid.UUID(bot["id"]))
    session = ChatSession(id=uuid.uuid4(), channel="api", created_at=at, last_message_at=at, **ids)
    answer_id = uuid.uuid4()
    with db_of(tenant) as db:
        db.add(session)
        db.flush()
        db.add_all(
            [
                ChatMessage(
                    session_id=session.id,
                    role="user",
                    content=question,
                    unanswered=unanswered,
                    created_at=at,
                    **ids,
                ),
                ChatMessage(
                    id=answer_id,
                    session_id=session.id,
                    role="assistant",
                    content="An answer.",
                    created_at=at + timedelta(microseconds=1),
                    **ids,
                ),
            ]
        )
    return str(session.id), str(answer_id)


def make_ready_bot(tenant, **body) -> dict:
    bot = tenant.create_chatbot(**{"name": "Shop help", **body})
    doc = upload(tenant, bot["id"], "shop.md", DOCUMENT.encode()).json()[0]
    assert wait_until_done(tenant, doc["id"])["status"] == "ready"
    return bot


def ask(client, bot: dict, question: str, **headers: str):
    return client.post(
        f"/api/public/{bot['id']}/query",
        json={"question": question},
        headers={"X-API-Key": bot["secret_key"], **headers},
    )


def cents(tokens: int, price_per_1k: str) -> Decimal:
    """The expected line amount, computed here independently of the service."""
    exact = Decimal(tokens) * Decimal(price_per_1k) / Decimal(1000)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
