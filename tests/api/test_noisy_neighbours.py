"""One customer must not exhaust what every customer shares (issue 26): the database pool, the
request threads, the health probe, the plan's caps under concurrency."""

from __future__ import annotations

import contextlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import update

from app.billing.models import Plan
from app.chat.retriever import Retriever
from app.core.vectors import embedder_for
from tests.api.test_documents import db_of, upload, wait_until_done
from tests.billing.factories import add_plan, set_plan
from tests.conftest import register_tenant

MANUAL = (
    b"Returns are accepted within 30 days of delivery. Refunds go back to the original payment "
    b"method within five business days.\n\nShipping is free for orders above 50 euros.\n"
)


def _bot_with_document(tenant) -> dict:
    bot = tenant.create_chatbot(name="Help")
    doc = upload(tenant, bot["id"], "manual.txt", MANUAL).json()[0]
    assert wait_until_done(tenant, doc["id"])["status"] == "ready"
    return bot


def _ask(client, bot: dict, question: str = "How long do refunds take?"):
    return client.post(
        f"/api/public/{bot['id']}/query",
        json={"question": question},
        headers={"X-API-Key": bot["secret_key"]},
    )


def test_a_customer_at_its_concurrency_bound_gets_429_and_others_are_served(app_with):
    client, a = app_with(customer_concurrency=2)
    b = register_tenant(client, "Globex")
    bot_a, bot_b = _bot_with_document(a), _bot_with_document(b)
    slots = client.app.state.slots
    with contextlib.ExitStack() as busy:  # two of A's requests in flight
        for _ in range(2):
            slots.claim(uuid.UUID(a.customer_id))
            busy.callback(slots.give_back, uuid.UUID(a.customer_id))
        for refused in (
            _ask(client, bot_a),
            a.post(f"/api/chatbots/{bot_a['id']}/retrieve", json={"question": "refunds?"}),
            upload(a, bot_a["id"], "more.txt", b"One more page."),
        ):
            assert refused.status_code == 429, refused.text
            assert refused.headers["retry-after"] == "1"
            assert refused.json()["error"]["code"] == "rate_limited"
        assert _ask(client, bot_b).status_code == 200
        assert client.get("/health").status_code == 200
    assert _ask(client, bot_a).status_code == 200  # the bound frees with the requests
    assert slots.in_flight(uuid.UUID(a.customer_id)) == 0


def test_a_signed_in_customer_past_its_bound_is_refused_before_taking_anything_shared(app_with):
    """Forty loops of one customer's retrievals, refused in the route, kept the worker threads
    and the pool busy refusing, and another customer's questions waited seconds for a thread.
    The bound is now checked first, in the event loop: a refusal needs no connection (here the
    pool is exhausted, and the refusal still comes at once, not after the pool's 30 s wait)."""
    client, a = app_with(customer_concurrency=1)
    bot = _bot_with_document(a)
    engine, slots = client.app.state.engine, client.app.state.slots
    with contextlib.ExitStack() as busy:
        slots.claim(uuid.UUID(a.customer_id))
        busy.callback(slots.give_back, uuid.UUID(a.customer_id))
        while engine.pool.checkedout() < engine.pool.size() + engine.pool._max_overflow:
            busy.enter_context(engine.connect())
        for refused in (
            a.post(f"/api/chatbots/{bot['id']}/retrieve", json={"question": "refunds?"}),
            a.post(f"/api/{a.customer_id}/{bot['id']}/query", json={"question": "refunds?"}),
            upload(a, bot["id"], "more.txt", b"One more page."),
        ):
            assert refused.status_code == 429, refused.text
    # the slot is held until the response is sent, then given back
    r = a.post(f"/api/{a.customer_id}/{bot['id']}/query", json={"question": "refunds?"})
    assert r.status_code == 200
    assert slots.in_flight(uuid.UUID(a.customer_id)) == 0


def test_no_pooled_connection_waits_with_a_question_for_the_embedder(
    client, tenant, monkeypatch: pytest.MonkeyPatch
):
    """A request once kept its connection while it waited for the embedding engine: forty long
    retrievals by one customer held the whole pool, and others waited 30 s for a connection."""
    bot = _bot_with_document(tenant)
    pool = client.app.state.engine.pool
    held: list[int] = []

    class Watching:
        def __init__(self, embedder) -> None:
            self._embedder = embedder

        def __getattr__(self, name: str):
            return getattr(self._embedder, name)

        def embed_query(self, text: str, lane: str = ""):
            held.append(pool.checkedout())
            return self._embedder.embed_query(text, lane)

    monkeypatch.setattr(
        Retriever, "embedder", property(lambda s: Watching(embedder_for(s.settings)))
    )
    assert _ask(client, bot).status_code == 200
    r = tenant.post(f"/api/chatbots/{bot['id']}/retrieve", json={"question": "refunds?"})
    assert r.status_code == 200
    assert held == [0, 0]


def test_health_answers_while_the_pool_is_exhausted(client):
    engine = client.app.state.engine
    with contextlib.ExitStack() as stack:
        taken = 0
        while engine.pool.checkedout() < engine.pool.size() + engine.pool._max_overflow:
            stack.enter_context(engine.connect())
            taken += 1
        assert taken >= 5
        r = client.get("/health")
        assert r.status_code == 200 and r.json()["database"] == "ok"


def test_concurrent_uploads_cannot_pass_the_plans_document_cap(app_with):
    """Sixty concurrent uploads by a new free customer once stored sixty documents under a cap
    of fifty: the count and the insert now take turns per customer, on both databases."""
    _, tenant = app_with(customer_concurrency=100)
    add_plan(tenant, "five-docs", "0", "0")
    with db_of(tenant) as db:
        db.execute(update(Plan).where(Plan.name == "five-docs").values(max_documents=5))
    set_plan(tenant, "five-docs")
    bot = tenant.create_chatbot(name="Capped")
    start = threading.Barrier(16)

    def send(n: int) -> int:
        start.wait()
        r = upload(tenant, bot["id"], f"page-{n}.txt", f"Page {n} of the manual.".encode())
        return r.status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(send, range(16)))
    assert statuses.count(202) == 5 and statuses.count(402) == 11, statuses
    assert len(tenant.get(f"/api/chatbots/{bot['id']}/documents").json()) == 5
