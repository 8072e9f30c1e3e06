"""A chatbot key sees its chatbot's rows, and its customer's other rows only where a model says
so: a table that says nothing shows a key nothing (it once showed the whole customer's rows of
every table without a `chatbot_id`: invoices, reservations, totals)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

import app.models  # noqa: F401 - every table
from app.chatbots.deps import find_key
from app.core.database import Base
from app.core.repository import CUSTOMER_WIDE, TenantRepository
from app.core.subjects import KeySubject, OperatorSubject
from tests.chat.conftest import make_ready_bot


def _tenant_models() -> list[type]:
    return [m.class_ for m in Base.registry.mappers if "customer_id" in m.columns]


def _repository(model: type) -> TenantRepository:
    return type(f"{model.__name__}Reader", (TenantRepository,), {"model": model})


def test_a_key_sees_its_chatbots_rows_and_only_the_declared_customer_wide_ones(app, client, tenant):
    mine = make_ready_bot(tenant)
    sibling = make_ready_bot(tenant, name="Sibling")
    for bot in (mine, sibling):  # sessions, messages, usage of both chatbots
        r = client.post(
            f"/api/public/{bot['id']}/query",
            json={"question": "What does the toaster cost?"},
            headers={"X-API-Key": bot["secret_key"]},
        )
        assert r.status_code == 200, r.text
    with app.state.sessionmaker() as db:
        key = find_key(db, mine["secret_key"])
        subject = KeySubject(key.id, key.kind, key.customer_id, key.chatbot_id)
        owner = OperatorSubject(key.customer_id)
        seen: dict[str, tuple[int, int]] = {}
        for model in _tenant_models():
            reader = _repository(model)(db)
            total = db.scalar(select(func.count()).select_from(model))
            rows = reader.list(subject)
            assert len(reader.list(owner)) == total
            seen[model.__name__] = (len(rows), total)
            declared = getattr(model, "__key_scope__", None)
            if declared == CUSTOMER_WIDE:
                assert len(rows) == total, model
            elif hasattr(model, "chatbot_id"):
                assert {row.chatbot_id for row in rows} <= {uuid.UUID(mine["id"])}, model
            elif declared == "id":
                assert [row.id for row in rows] == [uuid.UUID(mine["id"])], model
            else:
                assert rows == [], f"a key sees {model.__name__} rows"
    # the check saw rows of both chatbots where there were any to hide
    for name in ("ChatMessage", "ChatSession", "UsageRecord", "Document", "Chatbot"):
        shown, total = seen[name]
        assert 0 < shown < total, (name, shown, total)
    assert seen["User"] == (0, 1) and seen["UsageTotal"] == (1, 1)
