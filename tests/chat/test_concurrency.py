"""Running totals stay exact under concurrent queries: they only change by SQL increments."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from app.billing.repository import UsageRepository
from app.billing.service import period_totals
from app.core.subjects import OperatorSubject
from tests.chat.conftest import make_ready_bot
from tests.conftest import register_tenant
from tests.live import serve

QUESTIONS = [
    "How long do I have to return an item?",
    "What does the Alpha 200 blender weigh?",
    "How many slots does the Beta 300 toaster have?",
    "What motor does the Alpha 200 have?",
    "When do refunds arrive?",
]


def test_fifty_concurrent_queries_leave_exact_totals(fireworks):
    client, tenant = fireworks(
        rate_limit_public="1000/minute",
        rate_limit_public_per_ip="1000/minute",
        # fifty calls in flight through one busy process: the fixture's 2 s could time some out
        llm_timeout_seconds=30,
        customer_concurrency=50,  # this test is about totals: all fifty in flight at once
    )
    app = client.app
    bot = make_ready_bot(tenant)
    with serve(app) as base_url:

        def ask(i: int) -> int:
            r = httpx.post(
                f"{base_url}/api/public/{bot['id']}/query",
                json={"question": QUESTIONS[i % len(QUESTIONS)]},
                headers={"X-API-Key": bot["secret_key"]},
                timeout=120,
            )
            return r.status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(ask, range(50)))
    assert statuses == [200] * 50
    with app.state.sessionmaker() as db:
        subject = OperatorSubject(uuid.UUID(tenant.customer_id))
        totals = period_totals(db, subject)
        input_sum, output_sum = UsageRepository(db).sums(subject)
    assert totals.queries == 50
    assert (totals.input_tokens, totals.output_tokens) == (input_sum, output_sum)
    assert input_sum > 0 and output_sum > 0


def test_two_hundred_questions_of_twenty_customers_at_once_no_5xx_exact_totals(fireworks):
    """The stress run of issue 21: the embedding engine once handed one query two results under
    concurrency and a whole batch answered 500."""
    client, first = fireworks(
        rate_limit_public="10000/minute",
        rate_limit_public_per_ip="10000/minute",
        llm_timeout_seconds=30,
        customer_concurrency=10,  # each customer's ten questions may all be in flight
    )
    app = client.app
    tenants = [first] + [register_tenant(client, f"Customer {n}") for n in range(19)]
    bots = [make_ready_bot(tenant) for tenant in tenants]
    with serve(app) as base_url:

        def ask(i: int) -> int:
            bot = bots[i % len(bots)]
            r = httpx.post(
                f"{base_url}/api/public/{bot['id']}/query",
                json={"question": f"{QUESTIONS[i % len(QUESTIONS)]} ({i})"},
                headers={"X-API-Key": bot["secret_key"]},
                timeout=300,
            )
            return r.status_code

        with ThreadPoolExecutor(max_workers=64) as pool:
            statuses = list(pool.map(ask, range(200)))
    assert statuses == [200] * 200, {s: statuses.count(s) for s in set(statuses)}
    with app.state.sessionmaker() as db:
        for tenant in tenants:
            subject = OperatorSubject(uuid.UUID(tenant.customer_id))
            totals = period_totals(db, subject)
            input_sum, output_sum = UsageRepository(db).sums(subject)
            assert totals.queries == 10
            assert (totals.input_tokens, totals.output_tokens) == (input_sum, output_sum)
